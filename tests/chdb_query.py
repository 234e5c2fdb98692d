"""Query a chdb directory from a fresh process: chdb allows one data directory per process, and the test
process may already own another one (the API tests' shared store)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

_SCRIPT = """
import json, sys
from streams.storage import open_store
store = open_store(url="", path=sys.argv[1])
try:
    print(json.dumps(store.query(sys.argv[2]), default=str))
finally:
    store.close()
"""


def query_chdb(path: Path, sql: str) -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-c", _SCRIPT, str(path), sql], capture_output=True, text=True,
                          timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chdb query failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])

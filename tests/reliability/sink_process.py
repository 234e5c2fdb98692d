"""`python -m tests.reliability.sink_process [--no-commit] [--outage-flag PATH]`: the sink as its own
process, with the two switches the fault tests need.

`--no-commit` inserts every batch but never commits a Kafka offset, and prints `stored <n>` as rows land,
so a test can SIGKILL it exactly between insert and commit (it owns the chdb dir, so it does the
counting). `--outage-flag PATH` makes ClickHouse unreachable while PATH exists: every insert and query
raises `StoreUnavailable`, as the server backend does when the server is down.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ingest.settings import get_kafka_settings
from streams.storage.base import Store, StoreUnavailable, open_store
from streams.storage.migrate import migrate
from streams.storage.sink import Sink


class SwitchableStore:
    """Delegates to a real store, except while the flag file exists."""

    def __init__(self, store: Store, flag: Path) -> None:
        self._store, self._flag = store, flag

    def _check(self) -> None:
        if self._flag.exists():
            raise StoreUnavailable("Code: 210. ClickHouse unreachable (outage switched on by the test)")

    def insert(self, *args: Any, **kwargs: Any) -> int:
        self._check()
        return self._store.insert(*args, **kwargs)

    def query(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        self._check()
        return self._store.query(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-commit", action="store_true")
    parser.add_argument("--outage-flag", type=Path)
    args = parser.parse_args()
    store = open_store()
    migrate(store)
    sink_store: Any = SwitchableStore(store, args.outage_flag) if args.outage_flag else store
    sink = Sink(sink_store, get_kafka_settings().bootstrap, commit_offsets=not args.no_commit).start()
    while True:
        if args.no_commit:
            print("stored", store.query("SELECT count() AS n FROM events")[0]["n"], flush=True)
        else:
            print("sink", sink.stats(), flush=True)
        time.sleep(0.3 if args.no_commit else 2.0)


if __name__ == "__main__":
    main()

"""Outside dev the platform refuses to start with its shipped secrets: `citybrain up` with
CITYBRAIN_ENV=prod and the development pseudonym key, or with a weak admin token, exits with an error
that names the variable to fix (instead of running and leaking linkable pseudonyms or an easy token)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.broker import free_port

STRONG_TOKEN = "a-long-random-admin-token-0123456789"


def _up(tmp_path: Path, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CITYBRAIN_")}
    argv = [sys.executable, "-m", "deploy.cli", "up", "--no-simulator", "--port", str(free_port()),
            "--data-dir", str(tmp_path)]
    done = subprocess.run(argv, env={**clean, "CITYBRAIN_ENV": "prod", **env}, capture_output=True, text=True,
                          timeout=150, check=False)
    assert done.returncode != 0, "the platform started with default secrets outside dev"
    logs = "\n".join(p.read_text(errors="replace") for p in sorted((tmp_path / "logs").glob("*.log")))
    return done.stdout + done.stderr + logs


@pytest.mark.parametrize(("env", "named"), [
    ({"CITYBRAIN_ADMIN_TOKEN": STRONG_TOKEN},  # the development pseudonym key is the default
     "CITYBRAIN_PRIVACY_HMAC_KEYS still holds the development key"),
    ({"CITYBRAIN_ADMIN_TOKEN": "changethis", "CITYBRAIN_PRIVACY_HMAC_KEYS": "k1:a-real-production-key-42"},
     "CITYBRAIN_ADMIN_TOKEN is empty, a default or shorter than 24 characters"),
])
def test_prod_refuses_default_secrets_with_a_clear_message(tmp_path, env, named) -> None:
    out = _up(tmp_path, **env)
    assert named in out, out[-3000:]

"""Snapshots of per-partition state (detectors, fusion) so a restarted or rebalanced worker is warm.

Kept outside faust tables on purpose: the embedded broker answers "latest offset" wrongly after
multi-message batches, which makes changelog recovery lose records (foundation issue). Files are
written atomically (temp + rename) under `<data-dir>/state`, shared by the workers of one machine;
a cluster points `CITYBRAIN_STATE_DIR` at a shared volume.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class SnapshotStore:
    """Named blobs on disk, replaced atomically.

    >>> import tempfile; s = SnapshotStore(tempfile.mkdtemp())
    >>> s.save("detect-3", b"state"); s.load("detect-3")
    b'state'
    >>> s.load("missing") is None
    True
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def save(self, name: str, blob: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.directory / f"{name}.snap")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load(self, name: str) -> bytes | None:
        path = self.directory / f"{name}.snap"
        return path.read_bytes() if path.exists() else None

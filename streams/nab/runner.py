"""Run the streaming detectors over a NAB corpus, strictly online, all files at once.

Each file is one series of a single `ResidualBank` — the same vectorised code the worker runs for a
partition — and row k of every file is scored (then learned) in step k, so a score only ever depends on
earlier rows of its own file. Parameters are the defaults of `BankParams`: nothing is fitted per file.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from streams.detectors.bank import BankParams, ResidualBank
from streams.nab.corpus import DataFile


def score_files(
    files: Sequence[DataFile], params: BankParams | None = None, threshold: float = 0.9
) -> list[np.ndarray]:
    """Anomaly scores in [0, 1] for every row of every file (NAB timestamps are read as local time).

    `threshold` is the alert level the bank is told, as the worker tells it: it arms the re-alert suppression.
    """
    bank = ResidualBank(params, capacity=len(files))
    lengths = np.array([len(f.values) for f in files])
    steps = int(lengths.max()) if len(files) else 0
    values = np.zeros((steps, len(files)))
    seconds = np.zeros((steps, len(files)))
    for j, f in enumerate(files):
        values[: lengths[j], j] = f.values
        seconds[: lengths[j], j] = f.timestamps.astype("datetime64[s]").astype(np.int64)
    out = np.zeros((steps, len(files)))
    ids = np.arange(len(files))
    for k in range(steps):
        live = ids[lengths > k]
        out[k, live] = bank.step(live, values[k, live], seconds[k, live], threshold)[0]
    return [out[: lengths[j], j].copy() for j in range(len(files))]

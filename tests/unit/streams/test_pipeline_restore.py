"""A snapshot this version cannot read (written by another release) means a cold start, not a crash loop."""

from __future__ import annotations

import logging
import pickle

import pytest

from streams.detection import SeriesDetectors
from streams.fusion import Fusion
from streams.pipeline import DetectStage, FuseStage
from streams.state import SnapshotStore


class _Renamed:
    """Stands in for a class whose fields changed between releases: unpickling it fails."""

    def __setstate__(self, state: dict) -> None:
        raise TypeError("BankParams.__init__() got an unexpected keyword argument 'flat_max_z'")


@pytest.mark.parametrize("blob", [pickle.dumps(_Renamed()), b"\x80\x05truncated", pickle.dumps({"not": "state"})])
def test_unreadable_detector_snapshot_is_a_logged_cold_start(tmp_path, caplog, blob: bytes) -> None:
    snapshots = SnapshotStore(tmp_path)
    snapshots.save("detect-2", blob)
    with caplog.at_level(logging.WARNING, logger="citybrain.worker"):
        detectors = DetectStage(snapshots).for_partition(2)
    assert isinstance(detectors, SeriesDetectors)
    assert "detect-2: snapshot unreadable by this version" in caplog.text
    assert snapshots.load("detect-2.incompatible") == blob  # kept for whoever investigates


def test_unreadable_fusion_snapshot_is_a_cold_start_and_a_good_one_restores(tmp_path) -> None:
    snapshots = SnapshotStore(tmp_path)
    snapshots.save("fuse-1", b"garbage")
    assert isinstance(FuseStage(snapshots).for_partition(1), Fusion)
    stage = DetectStage(snapshots)
    stage.for_partition(0)
    stage.save()
    assert snapshots.load("detect-0") is not None
    assert isinstance(DetectStage(snapshots).for_partition(0), SeriesDetectors)

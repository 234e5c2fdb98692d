"""Replay rules that need no broker: target topics, filters as bound SQL, the CLI's parsing and refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deploy.cli import build_parser, main
from streams.replay import ReplaySpec, ReplayTargetRefused, check_target

T0 = datetime(2026, 11, 21, tzinfo=UTC)


@pytest.mark.parametrize("topic", ["citybrain.replay.v1", "citybrain.replay.drill", "citybrain.replay.flood_2026.v2"])
def test_replay_topics_are_accepted(topic):
    assert check_target(topic) == topic


@pytest.mark.parametrize("topic", ["citybrain.events.v1", "citybrain.alerts.v1", "orders", "citybrain.replay.",
                                   "citybrain.replay.UPPER", "citybrain.replay.a b"])
def test_everything_else_is_refused(topic):
    with pytest.raises(ReplayTargetRefused):
        check_target(topic)


def test_live_topic_only_when_explicitly_allowed():
    assert check_target("citybrain.events.v1", allow_live=True) == "citybrain.events.v1"


def test_filters_become_bound_parameters_only():
    spec = ReplaySpec(T0, T0, categories=("traffic",), device_ids=("d'; DROP TABLE events; --",))
    where, params = spec.where()
    assert "DROP" not in where
    assert params["f_device_id"] == ["d'; DROP TABLE events; --"] and params["f_category"] == ["traffic"]
    assert "cell" not in where and "source" not in where  # empty filters mean "any"


def test_cli_parses_times_filters_and_speed():
    args = build_parser().parse_args(["replay", "--from", "2026-11-21T08:00+08:00", "--to", "2026-11-21T01:00Z",
                                      "--category", "traffic", "--category", "air", "--speed", "10x"])
    assert args.start == datetime(2026, 11, 21, 0, tzinfo=UTC) and args.end == datetime(2026, 11, 21, 1, tzinfo=UTC)
    assert args.category == ["traffic", "air"] and args.topic is None and args.speed == "10x"
    assert args.file is None  # the same command replays files (ingest) when --file is given


@pytest.mark.parametrize("argv", [
    ["replay", "--from", "2026-11-21T00:00Z", "--to", "2026-11-21T01:00Z", "--topic", "citybrain.events.v1"],
    ["replay", "--from", "2026-11-21T01:00Z", "--to", "2026-11-21T00:00Z"],
    ["replay", "--from", "2026-11-21T00:00Z", "--to", "2026-11-21T01:00Z", "--speed", "-2"],
])
def test_cli_refuses_before_touching_storage_or_kafka(argv, capsys):
    assert main(argv) == 2
    assert "citybrain replay:" in capsys.readouterr().out

"""`citybrain replay --from --to`: replay stored events through the same engine as `POST /api/v1/replays`.

`citybrain replay` also replays files (`--file`, `ingest/cli.py`). Whichever module registers the command
first owns the parser; `register` here adds the store options to an existing `replay` parser (options it
already has, `--speed`, `--topic`, `--bootstrap`, are shared) and runs the store replay when `--from` is
given, or creates the command itself. streams may import ingest, never the other way round, so the
combining happens here. Without `--topic`, stored events go to `citybrain.replay.v1`.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

EPILOG = """examples:
  citybrain replay --from 2026-11-21T08:00+08:00 --to 2026-11-21T09:00+08:00 --speed 10x
  citybrain replay --from 2026-11-21T00:00Z --to 2026-11-22T00:00Z --category traffic --topic citybrain.replay.drill
  citybrain replay --from ... --to ... --topic citybrain.events.v1 --allow-live   # into live detection"""


def _when(text: str) -> datetime:
    """ISO-8601 time; without an offset it is taken as UTC.

    >>> _when("2026-11-21T08:00+08:00").isoformat(), _when("2026-11-21 00:00").isoformat()
    ('2026-11-21T08:00:00+08:00', '2026-11-21T00:00:00+00:00')
    """
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def add_store_arguments(p: argparse.ArgumentParser) -> None:
    have = {s for a in p._actions for s in a.option_strings}  # noqa: SLF001 - argparse has no public query
    from streams.replay import REPLAY_TOPIC

    def add(flag: str, **kw: Any) -> None:
        if flag not in have:
            p.add_argument(flag, **kw)

    add("--from", dest="start", type=_when, help="replay events with time >= this (ISO-8601)")
    add("--to", dest="end", type=_when, help="... and time < this")
    add("--category", action="append", default=[], help="only this event category (repeatable)")
    add("--cell", action="append", default=[], help="only this H3 cell (repeatable)")
    add("--device", action="append", default=[], help="only this device id (repeatable)")
    add("--source", action="append", default=[], help="only this source (repeatable)")
    add("--topic", default=None, help=f"target topic: citybrain.replay.<name> (stored events: {REPLAY_TOPIC})")
    add("--speed", default="1x", help="'10x' = ten times real time, 'max' = no pacing")
    add("--allow-live", action="store_true", help="permit --topic citybrain.events.v1 (live detection)")
    add("--bootstrap", default=None, help="Kafka bootstrap (default: CITYBRAIN_KAFKA_BOOTSTRAP)")


def register(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    parser = sub.choices.get("replay")
    if parser is None:
        parser = sub.add_parser("replay", help="replay stored events (or a file) onto Kafka",
                                formatter_class=formatter, epilog=EPILOG)
    add_store_arguments(parser)
    file_replay = parser.get_default("func")

    def dispatch(args: argparse.Namespace) -> int:
        if getattr(args, "start", None) is not None or file_replay is None:
            return run_store_replay(args)
        return int(file_replay(args) or 0)

    parser.set_defaults(func=dispatch)


def run_store_replay(args: argparse.Namespace) -> int:
    """Validate the target, open the store and the publisher, replay with a progress bar."""
    from tqdm import tqdm

    from ingest.publisher import EventPublisher
    from ingest.replay import parse_speed
    from streams.replay import REPLAY_TOPIC, ReplaySpec, ReplayTargetRefused, check_target, replay_from_store
    from streams.storage import StoreUnavailable, open_store

    if args.start is None or args.end is None or args.start >= args.end:
        print("citybrain replay: give --from and --to, with --from before --to")
        return 2
    try:
        topic = check_target(args.topic or REPLAY_TOPIC, allow_live=args.allow_live)
        speed = parse_speed(args.speed)
    except (ReplayTargetRefused, ValueError) as exc:
        print(f"citybrain replay: {exc}")
        return 2
    spec = ReplaySpec(args.start, args.end, tuple(args.category), tuple(args.cell), tuple(args.device),
                      tuple(args.source), speed)
    try:
        store = open_store()
    except StoreUnavailable as exc:
        print(f"citybrain replay: {exc}\n  (while `citybrain up` owns the embedded store, use POST /api/v1/replays)")
        return 1

    async def main() -> int:
        bar = tqdm(unit="ev", desc=f"replay -> {topic}")

        def progress(sent: int, total: int) -> None:
            bar.total = total
            bar.update(sent - bar.n)

        async with EventPublisher(args.bootstrap, events_topic=topic) as publisher:
            sent = await replay_from_store(store, spec, lambda evs: publisher.publish(evs, topic=topic),
                                           progress=progress)
        bar.close()
        print(f"replayed {sent} events to {topic}")
        return 0

    try:
        return asyncio.run(main())
    finally:
        store.close()

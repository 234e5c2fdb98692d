"""`citybrain simulate` and `citybrain replay`: the ingest room's commands.

Heavy imports happen inside the handlers so `citybrain --help` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from datetime import datetime
from pathlib import Path


def register(sub: argparse._SubParsersAction, formatter_class: type[argparse.HelpFormatter]) -> None:
    p = sub.add_parser(
        "simulate",
        help="feed a running platform with the simulated city",
        formatter_class=formatter_class,
        description="Simulated Hangzhou: traffic, air, water and manhole sensors, GA/T 1400 cameras, heartbeats "
        "and citizen reports, with labelled anomalies written to --truth. Real time by default.",
        epilog="examples:\n  citybrain simulate --city small --rate 200 --duration 600 --seed 1 --truth truth.json\n"
        "  citybrain simulate --start 2026-11-20T00:00:00+08:00 --duration 86400 --accelerate",
    )
    p.add_argument("--city", choices=["small", "medium", "large"], default="small")
    p.add_argument("--rate", type=float, default=200.0, help="events per second (approximate)")
    p.add_argument("--duration", type=float, default=600.0, help="seconds to simulate; 0 = until stopped")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--truth", type=Path, default=None, help="write the ground truth JSON here")
    p.add_argument("--target", default="http://127.0.0.1:8000", help="API base URL")
    p.add_argument("--token", default=None, help="bearer token (default: $CITYBRAIN_TOKEN)")
    p.add_argument("--mqtt", default=None, help="MQTT broker host:port; water/manhole readings go over MQTT")
    p.add_argument("--start", default=None, help="ISO start time of simulated history (implies --accelerate)")
    p.add_argument("--accelerate", action="store_true", help="do not wait: send simulated time as fast as possible")
    p.add_argument("--no-register", action="store_true", help="do not import the devices into the registry")
    p.set_defaults(func=_simulate)

    r = sub.add_parser(
        "replay",
        help="replay an NDJSON file of events into Kafka",
        formatter_class=formatter_class,
        description="Publish recorded CityEvents with their original spacing divided by --speed; invalid lines "
        "go to the dead-letter topic.",
        epilog="examples:\n  citybrain replay --file events.ndjson.gz --speed 10x\n"
        "  citybrain replay --file day.ndjson --speed max --topic citybrain.events.v1 --retime",
    )
    r.add_argument("--file", type=Path, default=None, help=".ndjson or .ndjson.gz")
    r.add_argument("--speed", default="1x", help="'10x', '0.5', or 'max'")
    r.add_argument("--topic", default=None, help="target topic (default citybrain.events.v1)")
    r.add_argument("--bootstrap", default=None, help="Kafka bootstrap (default $CITYBRAIN_KAFKA_BOOTSTRAP)")
    r.add_argument("--retime", action="store_true", help="shift times so the first event happens now")
    r.set_defaults(func=_replay)


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _simulate(args: argparse.Namespace) -> int:
    from ingest.simulator import CitySimulator
    from ingest.simulator.runner import Runner

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the progress
    start = datetime.fromisoformat(args.start).timestamp() if args.start else None
    if args.accelerate and start is None:
        start = float(int(datetime.now().timestamp() - args.duration))
    sim = CitySimulator(args.seed, args.city, rate=args.rate)

    async def main() -> int:
        runner = Runner(sim, args.target, token=args.token, mqtt=args.mqtt, truth=args.truth)
        try:
            if not args.no_register:
                try:
                    print(f"registered {await runner.register()} devices", flush=True)
                except RuntimeError as exc:
                    print(f"citybrain simulate: {exc} (is the API up at {args.target}?)", flush=True)
                    return 1
            stats = await runner.run(duration=args.duration, start=start, stop=_stop_event())
        finally:
            await runner.close()
        print(f"sent {dict(stats.sent)}; failed requests {stats.failed_requests}", flush=True)
        return 1 if stats.failed_requests else 0

    return asyncio.run(main())


def _replay(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ingest.dedup import RecentKeys
    from ingest.pipeline import IngestPipeline
    from ingest.publisher import EventPublisher
    from ingest.registry import DeviceRegistry
    from ingest.replay import ndjson_lines, parse_speed, replay
    from ingest.settings import get_ingest_settings
    from ingest.topics import EVENTS_TOPIC
    from ingest.validate import EventValidator

    if args.file is None:
        print("citybrain replay: give --file (or, for stored events, --from/--to)")
        return 2
    speed = parse_speed(args.speed)

    async def main() -> int:
        async with EventPublisher(args.bootstrap, events_topic=args.topic or EVENTS_TOPIC) as publisher:
            pipeline = IngestPipeline(
                publisher,
                EventValidator(DeviceRegistry(), publisher.pz),
                RecentKeys(get_ingest_settings().dedup_window),
            )
            with tqdm(unit="ev", desc=f"replay {args.file.name}") as bar:
                totals = await replay(
                    ndjson_lines(args.file), pipeline, speed=speed, retime=args.retime, on_progress=bar.update
                )
        print(
            f"lines {totals.lines}: accepted {totals.accepted}, rejected {totals.rejected} "
            f"(dead-lettered), duplicates {totals.duplicates}",
            flush=True,
        )
        return 0

    return asyncio.run(main())

"""`citybrain bench <what>`: each prints human-readable figures, or one JSON object with `--json`."""

from __future__ import annotations

import argparse
import json
from typing import Any


def _print(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
        return
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


def register(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    bench = sub.add_parser("bench", help="benchmarks (figures for BENCHMARKS.md)", formatter_class=formatter,
                           epilog="example:\n  citybrain bench throughput --duration 60 --devices 10000 --json")
    kinds = bench.add_subparsers(dest="bench", required=True, metavar="what")

    p = kinds.add_parser("throughput", help="end-to-end events/s: producer -> detection -> sink -> ClickHouse",
                         formatter_class=formatter,
                         epilog="example:\n  citybrain bench throughput --duration 60 --devices 10000")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of load at --target-rate")
    p.add_argument("--devices", type=int, default=10_000)
    p.add_argument("--partitions", type=int, default=8)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--target-rate", type=float, default=60_000.0, help="events generated per second of --duration")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_throughput)

    p = kinds.add_parser("latency", help="event arrival -> alert on the SSE feed, p50/p99 under load",
                         formatter_class=formatter, epilog="example:\n  citybrain bench latency --rate 5000 --json")
    p.add_argument("--rate", type=float, default=5000.0, help="background events per second")
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--spike-every", type=float, default=1.0, help="seconds between measured spikes")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_latency)

    p = kinds.add_parser("detect", help="incident precision/recall/delay on the simulator's labelled anomalies",
                         formatter_class=formatter, epilog="example:\n  citybrain bench detect --hours 2 --json")
    p.add_argument("--hours", type=float, default=2.0, help="simulated hours scored after the warm-up")
    p.add_argument("--warmup", type=float, default=1800.0, help="simulated seconds of learning before anomalies")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--city", default="small", choices=["small", "medium", "large"])
    p.add_argument("--rate", type=float, default=100.0, help="simulated events per second")
    p.add_argument("--explain", action="store_true", help="list false and missed alerts")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_detect)

    p = kinds.add_parser("storage", help="sink insert rows/s and query p99 over stored events (chdb)",
                         formatter_class=formatter,
                         epilog="examples:\n  citybrain bench storage --rows 10000000 --json\n"
                                "  citybrain bench storage --through-kafka --rows 2000000 --json")
    p.add_argument("--rows", type=int, default=None, help="events (default 10,000,000; 2,000,000 --through-kafka)")
    p.add_argument("--through-kafka", action="store_true",
                   help="a real sink reading a fresh embedded broker, instead of the sink's path from the bytes on")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_storage)

    p = kinds.add_parser("api", help="map endpoints over many devices, and HTTP p50/p99 at a fixed request rate",
                         formatter_class=formatter, epilog="example:\n  citybrain bench api --devices 100000 --json")
    p.add_argument("--devices", type=int, default=100_000)
    p.add_argument("--rate", default="200", help="HTTP requests per second (open loop); several: 25,50,100,200")
    p.add_argument("--events", type=int, default=10_000_000, help="stored events behind the HTTP load")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of HTTP load")
    p.add_argument("--map-only", action="store_true", help="time the map queries in-process, skip the HTTP load")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_api)

    p = kinds.add_parser("baseline", help="textbook faust pipeline vs ours on the same broker; prints the speed-up",
                         formatter_class=formatter, epilog="example:\n  citybrain bench baseline --json")
    p.add_argument("--devices", type=int, default=10_000)
    p.add_argument("--events", type=int, default=600_000, help="events through our pipeline")
    p.add_argument("--baseline-events", type=int, default=20_000, help="events through the textbook pipeline")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_baseline)

    p = kinds.add_parser("broker", help="the embedded broker: fetch time per stored batch, memory per event held",
                         formatter_class=formatter, epilog="example:\n  citybrain bench broker --json")
    p.add_argument("--batches", type=int, default=60_000, help="single-record batches stored in one partition")
    p.add_argument("--step", type=int, default=10_000, help="batches between fetch-time readings")
    p.add_argument("--events", type=int, default=1_000_000, help="packed events stored for the memory figure")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_broker)


def _throughput(args: argparse.Namespace) -> int:
    from benchmarks.throughput import bench_throughput

    _print(bench_throughput(args.duration, args.devices, args.partitions, args.workers, args.target_rate), args.json)
    return 0


def _baseline(args: argparse.Namespace) -> int:
    from benchmarks.baseline import bench_baseline

    _print(bench_baseline(args.devices, args.events, args.baseline_events), args.json)
    return 0


def _broker(args: argparse.Namespace) -> int:
    from benchmarks.broker import bench_broker

    _print(bench_broker(args.batches, args.step, args.events), args.json)
    return 0


def _latency(args: argparse.Namespace) -> int:
    from benchmarks.latency import bench_latency

    _print(bench_latency(args.rate, args.duration, args.spike_every), args.json)
    return 0


def _detect(args: argparse.Namespace) -> int:
    from benchmarks.detect import bench_detect

    _print(bench_detect(args.hours, args.warmup, seed=args.seed, city=args.city, rate=args.rate,
                        explain=args.explain), args.json)
    return 0


def _storage(args: argparse.Namespace) -> int:
    if args.through_kafka:
        from benchmarks.sink_kafka import bench_sink_through_kafka

        _print(bench_sink_through_kafka(rows=args.rows or 2_000_000), args.json)
        return 0
    from streams.storage.bench import bench_storage

    _print(bench_storage(rows=args.rows or 10_000_000), args.json)
    return 0


def _api(args: argparse.Namespace) -> int:
    from benchmarks.http_load import bench_http
    from brain_api.mapping.bench import bench_map

    result: dict[str, Any] = {"map": bench_map(args.devices)}
    if not args.map_only:
        rates = [float(r) for r in str(args.rate).split(",")]
        result["http"] = bench_http(rates if len(rates) > 1 else rates[0], args.duration, args.events, args.devices)
    _print(result, args.json)
    return 0

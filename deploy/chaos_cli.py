"""`citybrain chaos`: run the platform under load, kill its parts on a schedule, print memory and the books."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any


def register(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    p = sub.add_parser(
        "chaos", help="soak the platform under load while killing worker, sink and broker", formatter_class=formatter,
        description="Start `citybrain up` in a fresh data dir, warm the detectors, stream readings, and every "
                    "--every seconds SIGKILL the next process of --faults (the supervisor restarts it) and send "
                    "a spike that must raise an alert. Prints RSS per process over time, RSS growth after "
                    "warm-up, and the accounting invariant (accepted = stored + dead-lettered, once each).",
        epilog="example:\n  citybrain chaos --soak 1800 --rate 200 --faults worker,sink,broker\n"
               "  citybrain chaos --soak 60 --faults '' --max-growth-mb 100\n"
               "  citybrain chaos --soak 1800 --rate 5000 --devices 1000 --batch 1250 --faults ''",
    )
    p.add_argument("--soak", type=float, default=120.0, help="seconds of load after warm-up")
    p.add_argument("--rate", type=float, default=200.0, help="events per second")
    p.add_argument("--faults", default="worker,sink,broker", help="comma-separated: worker, sink, broker ('' = none)")
    p.add_argument("--every", type=float, default=30.0, help="seconds between faults")
    p.add_argument("--devices", type=int, default=12,
                   help="traffic detectors the load is spread over (each its own cell); at thousands of events/s "
                        "use hundreds, or every device reports hundreds of times a second")
    p.add_argument("--batch", type=int, default=None,
                   help="events per POST (default: rate/20, at least 50, i.e. ~20 requests/s); gateways that post "
                        "once a second send rate/senders")
    p.add_argument("--warmup", type=float, default=20.0, help="seconds before RSS growth is measured")
    p.add_argument("--max-growth-mb", type=float, default=150.0,
                   help="fail when a process grows more than this (the memory-only broker holds every message: "
                        "reported, not judged)")
    p.add_argument("--data-dir", type=Path, default=None, help="default: a new temporary directory")
    p.set_defaults(func=_chaos)


def _chaos(args: argparse.Namespace) -> int:
    from deploy.chaos import run_chaos

    faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="citybrain-chaos-"))
    print(f"chaos: {args.soak:.0f}s at {args.rate:.0f} ev/s, faults {faults or 'none'}, data dir {data_dir}",
          flush=True)
    report = run_chaos(data_dir, soak_s=args.soak, rate=args.rate, faults=faults, every_s=args.every,
                       warmup_s=args.warmup, devices=args.devices, batch=args.batch)
    print(report.text())
    grown = report.leaks(args.max_growth_mb)
    if grown:
        print(f"RSS grew beyond {args.max_growth_mb} MiB: {grown}")
    return 0 if report.verdict.ok and not grown else 1

"""Subcommands owned by deploy: `up`."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any


def register(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    p = sub.add_parser(
        "up", help="run the whole platform on this machine (embedded broker + chdb)", formatter_class=formatter,
        description="Start the embedded broker (unless CITYBRAIN_KAFKA_BOOTSTRAP is set), the API with its chdb "
                    "sink (or CITYBRAIN_CLICKHOUSE_URL), the faust worker(s) and the city simulator.",
        epilog="example:\n  citybrain up --port 8000 --data-dir .citybrain\n  citybrain up --no-simulator --workers 2",
    )
    p.add_argument("--host", default="127.0.0.1", help="address the API binds (loopback by default)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--data-dir", type=Path, default=Path(".citybrain"))
    p.add_argument("--no-simulator", action="store_true", help="do not feed the platform with the simulated city")
    p.add_argument("--workers", type=int, default=1, help="faust detection workers (one consumer group)")
    p.add_argument("--rate", type=float, default=200.0, help="simulator events per second")
    p.add_argument("--city", default="small", choices=["small", "medium", "large"])
    p.set_defaults(func=_up)


def _up(args: argparse.Namespace) -> int:
    from deploy.runner import run_up

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return run_up(args.host, args.port, args.data_dir, not args.no_simulator, workers=args.workers,
                  rate=args.rate, city=args.city)

"""`python -m streams.worker [--metrics-port N]`: run one faust detection worker (web server off).

Several workers with the same group id share the partitions; per-device state follows its partition
through the snapshots in the state dir.
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m streams.worker", description=__doc__)
    parser.add_argument("--metrics-port", type=int, default=int(os.environ.get("CITYBRAIN_WORKER_METRICS_PORT", 0)))
    parser.add_argument("--metrics-host", default=os.environ.get("CITYBRAIN_WORKER_METRICS_HOST", "127.0.0.1"),
                        help="address of the metrics endpoint (loopback by default; a pod IP in a cluster)")
    parser.add_argument("--loglevel", default=os.environ.get("CITYBRAIN_LOGLEVEL", "info"),
                        choices=["crit", "error", "warn", "info", "debug"])
    args = parser.parse_args(argv)
    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, addr=args.metrics_host)
    from streams.app import app

    sys.argv = [sys.argv[0], "worker", "--without-web", "-l", args.loglevel]
    app.main()


if __name__ == "__main__":
    main()

"""`citybrain`: one console script, subcommands registered by the package that owns them.

Each module in `COMMAND_MODULES` exposes `register(subparsers)` and imports its heavy dependencies
inside the handlers, so `citybrain --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = [
    "deploy.commands", "ingest.cli", "benchmarks.cli", "brain_api.cli", "streams.nab.cli", "streams.replay_cli",
    "streams.storage.cli", "deploy.chaos_cli",
]


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keep the examples in epilogs as written and show defaults."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citybrain",
        description="City Brain: urban stream processing — sensing, anomaly detection, alerts.",
        epilog="example:\n  citybrain up --port 8000\n  citybrain <command> --help",
        formatter_class=_Formatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, _Formatter)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

"""`citybrain nab`: score a NAB-format folder with the streaming detectors, optionally print NAB scores."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EPILOG = """example:
  citybrain nab --data /path/to/nab-data --out /tmp/nab-results --windows /path/to/windows.json
  citybrain nab --data DIR --out OUT --windows DIR/windows.json --json
"""


def register(subparsers: argparse._SubParsersAction, formatter_class: type[argparse.HelpFormatter]) -> None:
    p = subparsers.add_parser("nab", help="run the detectors over a NAB corpus and score them",
                              description=__doc__, epilog=EPILOG, formatter_class=formatter_class)
    p.add_argument("--data", type=Path, required=True, help="folder of <category>/<file>.csv (timestamp,value)")
    p.add_argument("--out", type=Path, required=True, help="where <category>/<file>.csv results are written")
    p.add_argument("--windows", type=Path, default=None, help="NAB label windows JSON; prints the NAB scores")
    p.add_argument("--json", action="store_true", help="print the three profile scores as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import orjson

    from streams.nab.corpus import iter_corpus, labelled, read_windows, write_result
    from streams.nab.runner import score_files
    from streams.nab.scoring import file_rows, score_corpus

    files = list(iter_corpus(args.data))
    if not files:
        print(f"no <category>/<file>.csv under {args.data}", file=sys.stderr)
        return 2
    print(f"scoring {len(files)} files ({sum(len(f.values) for f in files):,} rows) ...", file=sys.stderr)
    scores = score_files(files)
    for data, s in zip(files, scores, strict=True):
        write_result(args.out, data, s)
    if args.windows is None:
        return 0
    windows = read_windows(args.windows)
    results = score_corpus([file_rows(s, labelled(windows, f)) for f, s in zip(files, scores, strict=True)])
    if args.json:
        print(orjson.dumps({name: round(r.normalised, 2) for name, r in results.items()}).decode())
    else:
        for r in results.values():
            print(f"{r.profile:20s} {r.normalised:6.2f}  (threshold {r.threshold:.4f}, raw {r.raw:.2f})")
    return 0

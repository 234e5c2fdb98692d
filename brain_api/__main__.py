"""`python -m brain_api [--host 127.0.0.1] [--port 8000]`: serve the API with uvicorn.

Binds loopback unless told otherwise: exposing the command center is a deliberate act.
"""

from __future__ import annotations

import argparse

import uvicorn

from brain_api.settings import get_api_settings


def main(argv: list[str] | None = None) -> None:
    settings = get_api_settings()
    parser = argparse.ArgumentParser(prog="python -m brain_api", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=settings.host, help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=settings.port, help="port (default %(default)s)")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    uvicorn.run("brain_api.main:app", host=args.host, port=args.port, log_level=args.log_level,
                proxy_headers=False, lifespan="on")


if __name__ == "__main__":
    main()

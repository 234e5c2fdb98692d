"""`citybrain token create|revoke|list`: manage API tokens from the shell, straight against the store.

Same rules as `POST /api/v1/tokens` (brain_api.security.grants). With embedded chdb, run it while the
API is stopped (one process owns a chdb directory) or use the HTTP endpoint instead.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

EPILOG = """examples:
  citybrain token create --role operator --label "night shift"
  citybrain token create --role department --department traffic --expires-in-days 30
  citybrain token create --role grid-worker --cell 88309a553dfffff --cell 88309a5537fffff
  citybrain token list
  citybrain token revoke 0123456789ab"""


def register(subparsers: Any, formatter_class: type[argparse.HelpFormatter]) -> None:
    token = subparsers.add_parser("token", help="create, list and revoke API bearer tokens",
                                  description=__doc__, epilog=EPILOG, formatter_class=formatter_class)
    token.add_argument("--data-dir", default=None, help="data directory (default: CITYBRAIN_DATA_DIR)")
    sub = token.add_subparsers(dest="token_command", required=True, metavar="action")
    create = sub.add_parser("create", help="issue a token and print its secret once", epilog=EPILOG,
                            formatter_class=formatter_class)
    create.add_argument("--role", required=True, choices=["operator", "department", "grid-worker", "engineer", "admin"])
    create.add_argument("--department", default=None)
    create.add_argument("--cell", action="append", default=[], help="H3 cell (repeat); grid-worker only")
    create.add_argument("--expires-in-days", type=float, default=None)
    create.add_argument("--label", default="")
    create.set_defaults(func=_create)
    listing = sub.add_parser("list", help="list tokens (never their secrets)", formatter_class=formatter_class)
    listing.set_defaults(func=_list)
    revoke = sub.add_parser("revoke", help="revoke a token by id", formatter_class=formatter_class)
    revoke.add_argument("token_id")
    revoke.set_defaults(func=_revoke)


def _tokens(args: argparse.Namespace) -> Any:
    from brain_api.security.token_store import TokenStore
    from streams.storage.base import open_store
    from streams.storage.migrate import migrate

    path = f"{args.data_dir}/chdb" if args.data_dir else None
    store = open_store(path=path)
    migrate(store)
    return TokenStore(store)


def _create(args: argparse.Namespace) -> int:
    from brain_api.security.grants import InvalidGrant, check_grant
    from brain_api.security.roles import Role

    role = Role(args.role)
    try:
        department, cells = check_grant(role, args.department, tuple(args.cell))
    except InvalidGrant as exc:
        print(f"error: {exc}")
        return 2
    expires = datetime.now(UTC) + timedelta(days=args.expires_in_days) if args.expires_in_days else None
    issued, rec = _tokens(args).create(role, department=department, cells=cells, expires_at=expires,
                                       label=args.label, created_by="cli")
    print(f"token id: {rec.token_id}\nrole:     {rec.role.value}\nexpires:  {rec.expires_at or 'never'}")
    print(f"secret (shown once): {issued.secret}")
    return 0


def _list(args: argparse.Namespace) -> int:
    for rec in _tokens(args).list():
        scope = rec.department or (f"{len(rec.cells)} cells" if rec.cells else "city")
        state = "active" if rec.active() else ("revoked" if rec.revoked_at else "expired")
        print(f"{rec.token_id}  {rec.role.value:<11} {scope:<16} {state:<8} {rec.label}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    rec = _tokens(args).revoke(args.token_id)
    if rec is None:
        print(f"error: no token {args.token_id!r}")
        return 1
    print(f"revoked {rec.token_id}")
    return 0

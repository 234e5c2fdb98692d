"""Tokens in ClickHouse (`api_tokens`, migration 0010): create, look up, list, revoke.

The table is a ReplacingMergeTree keyed by token id; a revocation is a newer version of the row, so the
history of who issued and revoked what stays queryable until merges fold it. Readers always take the
newest version explicitly (`LIMIT 1 BY`), never relying on merges having happened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from brain_api.security.roles import Principal, Role
from brain_api.security.tokens import IssuedToken, matches, new_token, parse_token
from streams.storage.base import Store

_COLUMNS = (
    "token_id, secret_sha256, role, department, cells, label, created_by, created_at, expires_at, revoked_at"
)


@dataclass(frozen=True)
class TokenRecord:
    """A stored token without its secret: what `GET /api/v1/tokens` lists."""

    token_id: str
    role: Role
    department: str | None
    cells: tuple[str, ...]
    label: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def active(self, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def principal(self) -> Principal:
        return Principal(self.token_id, self.role, self.department, frozenset(self.cells), self.expires_at)


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _record(row: dict[str, Any]) -> tuple[TokenRecord, str]:
    rec = TokenRecord(
        token_id=row["token_id"],
        role=Role(row["role"]),
        department=row["department"] or None,
        cells=tuple(row["cells"]),
        label=row["label"],
        created_by=row["created_by"],
        created_at=_utc(row["created_at"]) or datetime.now(UTC),
        expires_at=_utc(row["expires_at"]),
        revoked_at=_utc(row["revoked_at"]),
    )
    return rec, row["secret_sha256"]


class TokenStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create(
        self,
        role: Role,
        *,
        department: str | None = None,
        cells: tuple[str, ...] = (),
        expires_at: datetime | None = None,
        label: str = "",
        created_by: str,
    ) -> tuple[IssuedToken, TokenRecord]:
        issued = new_token()
        rec = TokenRecord(issued.token_id, role, department, tuple(cells), label, created_by,
                          datetime.now(UTC), _utc(expires_at), None)
        self._write(rec, issued.secret_hash)
        return issued, rec

    def _write(self, rec: TokenRecord, secret_hash: str) -> None:
        self.store.insert("api_tokens", {
            "token_id": [rec.token_id], "secret_sha256": [secret_hash], "role": [rec.role.value],
            "department": [rec.department or ""], "cells": [list(rec.cells)], "label": [rec.label],
            "created_by": [rec.created_by], "created_at": [rec.created_at], "expires_at": [rec.expires_at],
            "revoked_at": [rec.revoked_at], "version": [time.time_ns()],
        })

    def _latest(self, token_id: str) -> tuple[TokenRecord, str] | None:
        rows = self.store.query(
            f"SELECT {_COLUMNS} FROM api_tokens WHERE token_id = {{token_id:String}}"
            " ORDER BY version DESC LIMIT 1",
            {"token_id": token_id},
        )
        return _record(rows[0]) if rows else None

    def get(self, token_id: str) -> TokenRecord | None:
        found = self._latest(token_id)
        return found[0] if found else None

    def authenticate(self, secret: str) -> TokenRecord | None:
        """The active token this bearer value names, or None (unknown, wrong secret, revoked, expired)."""
        token_id = parse_token(secret)
        found = self._latest(token_id) if token_id else None
        if found is None or not matches(secret, found[1]) or not found[0].active():
            return None
        return found[0]

    def list(self) -> list[TokenRecord]:
        rows = self.store.query(
            f"SELECT {_COLUMNS} FROM api_tokens ORDER BY token_id, version DESC LIMIT 1 BY token_id"
        )
        return [_record(r)[0] for r in rows]

    def revoke(self, token_id: str) -> TokenRecord | None:
        """Mark a token revoked (idempotent); None when there is no such token."""
        found = self._latest(token_id)
        if found is None:
            return None
        rec, secret_hash = found
        if rec.revoked_at is None:
            rec = TokenRecord(**{**rec.__dict__, "revoked_at": datetime.now(UTC)})
            self._write(rec, secret_hash)
        return rec

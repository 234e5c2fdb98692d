"""Bearer tokens: `cbt_<id>_<secret>`, of which only sha256(secret) is stored.

The id prefix lets a lookup fetch one row instead of hashing against every token, and lets operators
name a token (list, revoke) without ever seeing its secret again. Secrets are 256 random bits, so a fast
hash is enough (no password stretching needed); comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "cbt_"  # noqa: S105 - a format marker, not a secret
ENV_ADMIN_ID = "env-admin"


@dataclass(frozen=True)
class IssuedToken:
    token_id: str
    secret: str  # the full bearer value, shown once

    @property
    def secret_hash(self) -> str:
        return hash_secret(self.secret)


def new_token() -> IssuedToken:
    """A fresh token; the caller stores `secret_hash` and hands `secret` to the user once.

    >>> t = new_token()
    >>> parse_token(t.secret) == t.token_id and t.secret.startswith("cbt_")
    True
    """
    token_id = secrets.token_hex(6)
    return IssuedToken(token_id, f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}")


def generate_admin_token() -> str:
    """A strong value for `CITYBRAIN_ADMIN_TOKEN` (what `citybrain up` prints in dev when none is set)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Hex sha256 of the full bearer value.

    >>> hash_secret("x")[:12]
    '2d711642b726'
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(secret: str) -> str | None:
    """The token id inside a bearer value, or None when it is not one of ours.

    >>> parse_token("cbt_0123456789ab_c2VjcmV0"), parse_token("nope")
    ('0123456789ab', None)
    """
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token_id, sep, rest = secret[len(TOKEN_PREFIX) :].partition("_")
    if not sep or not rest or len(token_id) != 12 or not all(c in "0123456789abcdef" for c in token_id):
        return None
    return token_id


def matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)

"""Turn a bearer value into a `Principal`: the bootstrap admin token from the environment, or a stored
token looked up by id and checked against its hash.

Successful lookups are cached for `token_cache_s` so a burst of requests does not become a burst of
ClickHouse queries; a revocation through this process evicts at once, one on another replica takes at
most the cache time (documented in ApiSettings).
"""

from __future__ import annotations

import hmac
import threading
import time
from datetime import UTC, datetime
from types import EllipsisType

from pydantic import SecretStr

from brain_api.security.roles import Principal, Role
from brain_api.security.token_store import TokenStore
from brain_api.security.tokens import ENV_ADMIN_ID, hash_secret, parse_token


class Authenticator:
    def __init__(
        self, tokens: TokenStore, admin_token: SecretStr | None = None, cache_s: float = 5.0
    ) -> None:
        self.tokens = tokens
        self._admin = admin_token.get_secret_value() if admin_token else None
        self.cache_s = cache_s
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def known(self, secret: str) -> Principal | None | EllipsisType:
        """Decide without touching storage: a principal, None (not a token), or `...` = ask `authenticate`.

        >>> auth = Authenticator(None, SecretStr("s3cret-admin"))  # type: ignore[arg-type]
        >>> auth.known("s3cret-admin").role.value, auth.known("nonsense"), auth.known("cbt_0123456789ab_c2VjcmV0")
        ('admin', None, Ellipsis)
        """
        if self._admin and hmac.compare_digest(secret.encode(), self._admin.encode()):
            return Principal(ENV_ADMIN_ID, Role.admin)
        if parse_token(secret) is None:
            return None
        with self._lock:
            hit = self._cache.get(hash_secret(secret))
        if hit and hit[0] > time.monotonic() and not _expired(hit[1]):
            return hit[1]
        return ...

    def authenticate(self, secret: str) -> Principal | None:
        """The principal for a bearer value, or None when it is not a valid, active token."""
        if (decided := self.known(secret)) is not ...:
            return decided
        key = hash_secret(secret)
        now = time.monotonic()
        record = self.tokens.authenticate(secret)
        if record is None:
            return None
        principal = record.principal()
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (now + self.cache_s, principal)
        return principal

    def forget(self, token_id: str) -> None:
        """Drop cached lookups of a token (called on revocation)."""
        with self._lock:
            for key in [k for k, (_, p) in self._cache.items() if p.token_id == token_id]:
                del self._cache[key]


def _expired(p: Principal) -> bool:
    return p.expires_at is not None and p.expires_at <= datetime.now(UTC)

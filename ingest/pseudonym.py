"""Keyed pseudonyms for personal identifiers: `ps1:<kid>:<hex32>` = HMAC-SHA256(key[kid], kind + value).

Identifiers are normalised first, so the same plate read by two cameras ("浙A 12345", "浙a12345") gives
the same pseudonym and the city can still correlate it. The key id travels inside the pseudonym: after a
rotation new pseudonyms use the active key while `candidates()` computes what older keys produced, so an
operator holding a clear value can still find it in history. Nothing here logs or stores clear values.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping

from ingest.events import PSEUDONYM_PREFIX
from ingest.settings import PrivacySettings, get_privacy_settings

#: Which normalisation applies to which `CityEvent` attribute key (see `ingest.events.PII_KEYS`).
KIND_OF_KEY = {
    "plate_no": "plate",
    "person_id": "person",
    "face_id": "face",
    "phone": "phone",
    "reporter_phone": "phone",
    "id_number": "id_number",
}
_PLATE_NOISE = re.compile(r"[\s·•.\-_]+")
_NON_DIGITS = re.compile(r"\D+")


def normalise(value: str, kind: str) -> str:
    """Canonical form of an identifier, so different spellings of one identity agree.

    >>> normalise(" 浙a·12345 ", "plate")
    '浙A12345'
    >>> normalise("+86 138-0013-8000", "phone") == normalise("13800138000", "phone")
    True
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if kind == "plate":
        return _PLATE_NOISE.sub("", text).upper()
    if kind == "phone":
        digits = _NON_DIGITS.sub("", text)
        for prefix in ("0086", "86"):
            if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
                return digits[len(prefix) :]
        return digits
    return text.upper() if kind == "id_number" else text


class Pseudonymizer:
    """Turns clear identifiers into keyed pseudonyms; holds every key of the current rotation.

    >>> pz = Pseudonymizer({"k1": b"secret-one", "k0": b"secret-old"}, active_key_id="k1")
    >>> p = pz.pseudonym("浙A 12345", "plate")
    >>> p.startswith("ps1:k1:"), len(p)
    (True, 39)
    >>> p == pz.pseudonym("浙a12345", "plate")
    True
    >>> [c.split(":")[1] for c in pz.candidates("浙A12345", "plate")]
    ['k1', 'k0']
    """

    def __init__(self, keys: Mapping[str, bytes], active_key_id: str) -> None:
        if active_key_id not in keys:
            raise ValueError(f"active key id {active_key_id!r} is not among the keys")
        self._keys = dict(keys)
        self.active_key_id = active_key_id
        self._recent: dict[tuple[str, str, str], str] = {}  # plates repeat: skip the HMAC, bounded below

    @classmethod
    def from_settings(cls, settings: PrivacySettings | None = None) -> Pseudonymizer:
        settings = settings or get_privacy_settings()
        return cls(settings.keys(), settings.active_key_id)

    def _digest(self, kid: str, value: str, kind: str) -> str:
        found = self._recent.get((kid, kind, value))
        if found is None:
            message = f"{kind}\x1f{normalise(value, kind)}".encode()
            found = hmac.new(self._keys[kid], message, hashlib.sha256).hexdigest()[:32]
            if len(self._recent) >= 100_000:
                self._recent.clear()
            self._recent[(kid, kind, value)] = found
        return found

    def pseudonym(self, value: str, kind: str) -> str:
        """The pseudonym new data carries: signed with the active key."""
        return f"{PSEUDONYM_PREFIX}{self.active_key_id}:{self._digest(self.active_key_id, value, kind)}"

    def candidates(self, value: str, kind: str) -> list[str]:
        """Pseudonyms `value` had under every known key, active key first (search across rotations)."""
        kids = [self.active_key_id, *(k for k in self._keys if k != self.active_key_id)]
        return [f"{PSEUDONYM_PREFIX}{kid}:{self._digest(kid, value, kind)}" for kid in kids]

    def matches(self, value: str, kind: str, pseudonym: str) -> bool:
        """Whether `pseudonym` (under whichever key it names) was made from `value`.

        >>> pz = Pseudonymizer({"k1": b"secret-one"}, active_key_id="k1")
        >>> pz.matches("13800138000", "phone", pz.pseudonym("138 0013 8000", "phone"))
        True
        """
        _, kid, digest = (pseudonym.split(":", 2) + ["", ""])[:3]
        if kid not in self._keys:
            return False
        return hmac.compare_digest(digest, self._digest(kid, value, kind))

    def protect(self, key: str, value: object) -> object:
        """Pseudonymise `value` when `key` names a personal identifier and it is still in clear."""
        kind = KIND_OF_KEY.get(key)
        if kind is None or value is None or (isinstance(value, str) and value.startswith(PSEUDONYM_PREFIX)):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(int(value)) if float(value).is_integer() else str(value)
        return self.pseudonym(value, kind) if isinstance(value, str) else value

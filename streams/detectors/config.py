"""Which detectors watch which category: a mapping in code, overridable from settings or a JSON file.

Detector names: `seasonal` (time-of-day baseline + residual), `residual` (level + step residual, no
seasonality), `flatline` (stuck sensor), `multivariate` (joint shift of a device's metrics, on top of a
value detector), `offline` (missed reports; heartbeats feed it). `seasonal` and `residual` also watch the
series' range and its bursts (`streams.detectors.extremes`); an alert those raise names `range` (a new
record high or low) or `silence` (its usual bursts stopped) as its detector. A category maps
to a list of names; `CITYBRAIN_DETECT_DETECTORS` may hold the JSON object or a path to a JSON file,
e.g. `{"water": ["seasonal", "flatline"], "wearable": ["residual"]}`; listed categories replace defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import orjson

from streams.detectors.bank import BankParams

NAMES = frozenset({"seasonal", "residual", "flatline", "multivariate", "offline"})
#: detectors that do not score single values: not part of the `ResidualBank` configuration
NON_VALUE = frozenset({"offline", "multivariate"})

DEFAULTS: dict[str, tuple[str, ...]] = {
    "traffic": ("seasonal", "flatline", "multivariate", "offline"),
    "air": ("seasonal", "flatline", "multivariate", "offline"),
    "water": ("seasonal", "flatline", "offline"),
    "manhole": ("residual", "flatline", "offline"),
    "fire": ("residual", "offline"),
    "wearable": ("residual", "offline"),
    "vehicle": ("seasonal",),
    "person": (),
    "crowd": ("seasonal", "offline"),
    "citizen": (),
    "device": ("offline",),
}
FALLBACK = ("residual", "offline")


def load_config(raw: str | None = None) -> dict[str, tuple[str, ...]]:
    """Defaults overridden by `raw` (a JSON object, or a path to one).

    >>> load_config('{"air": ["residual"]}')["air"]
    ('residual',)
    >>> load_config()["traffic"]
    ('seasonal', 'flatline', 'multivariate', 'offline')
    """
    config = dict(DEFAULTS)
    if raw:
        text = raw if raw.lstrip().startswith("{") else Path(raw).read_text()
        override: Mapping[str, list[str]] = orjson.loads(text)
        for category, names in override.items():
            unknown = set(names) - NAMES
            if unknown:
                raise ValueError(f"unknown detector(s) {sorted(unknown)} for {category!r}; known: {sorted(NAMES)}")
            config[category] = tuple(names)
    return config


def bank_params(names: tuple[str, ...]) -> BankParams | None:
    """The `ResidualBank` configuration for a detector list, or None when no value detector is listed.

    >>> bank_params(("seasonal", "flatline")).flatline
    True
    >>> bank_params(("offline", "multivariate")) is None
    True
    """
    value = [n for n in names if n not in NON_VALUE]
    if not value:
        return None
    residual = "seasonal" in value or "residual" in value
    return BankParams(residual=residual, seasonal="seasonal" in value, flatline="flatline" in value)

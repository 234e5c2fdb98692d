"""Which department hears about an incident: rules on category / subCategory / cells, first match wins.

Rules are data (a JSON file named by `CITYBRAIN_ROUTING_RULES`, or the defaults below) so a city can
re-route without a deploy. Every alert reaches exactly one department topic `citybrain.alerts.<dept>.v1`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from streams.topics import DEPARTMENTS


@dataclass(frozen=True)
class Rule:
    department: str
    category: str | None = None
    sub_category: str | None = None
    cells: frozenset[str] = field(default_factory=frozenset)

    def matches(self, category: str, sub_category: str, cell: str) -> bool:
        return ((self.category is None or self.category == category)
                and (self.sub_category is None or self.sub_category == sub_category)
                and (not self.cells or cell in self.cells))


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("traffic", category="traffic"),
    Rule("public-security", category="security"),
    Rule("environment", category="environment"),
    Rule("health", category="health"),
    Rule("city-management", category="naturalDisaster"),
    Rule("city-management", category="infrastructure"),
)
FALLBACK_DEPARTMENT = "city-management"


class Router:
    """Routes (category, subCategory, cell) to a department.

    >>> Router().department("traffic", "carAccident", "88309a553dfffff")
    'traffic'
    >>> Router().department("weather", "fog", "88309a553dfffff")
    'city-management'
    """

    def __init__(self, rules: tuple[Rule, ...] | list[Rule] = DEFAULT_RULES) -> None:
        unknown = {r.department for r in rules} - set(DEPARTMENTS)
        if unknown:
            raise ValueError(f"routing rules name unknown departments: {sorted(unknown)}")
        self.rules = tuple(rules)

    def department(self, category: str, sub_category: str, cell: str) -> str:
        for rule in self.rules:
            if rule.matches(category, sub_category, cell):
                return rule.department
        return FALLBACK_DEPARTMENT

    @classmethod
    def from_file(cls, path: Path) -> Router:
        """Load `[{"department": ..., "category": ..., "sub_category": ..., "cells": [...]}, ...]`."""
        raw = json.loads(path.read_text())
        return cls([Rule(r["department"], r.get("category"), r.get("sub_category"),
                         frozenset(r.get("cells", ()))) for r in raw])

    @classmethod
    def from_env(cls) -> Router:
        path = os.environ.get("CITYBRAIN_ROUTING_RULES")
        return cls.from_file(Path(path)) if path else cls()

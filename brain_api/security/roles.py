"""Roles and the `Principal` a request acts as, with the scope every query must respect.

Least privilege is expressed once here: a department sees its own alerts (and its categories of
events/devices), a grid worker only what lies in its cells; operators, engineers and admins see the city.
`scope_sql` turns that into a ClickHouse condition with bound parameters, so routers filter in the
database instead of after the fact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    operator = "operator"  # command-center staff: see everything, work alerts
    department = "department"  # one department: its alerts and categories
    grid_worker = "grid-worker"  # field staff: alerts and devices of their cells only
    engineer = "engineer"  # platform engineers: replays, stats, metrics, ingest
    admin = "admin"  # manage tokens and everything else


#: Which event categories a department is responsible for; keys are `streams.topics.DEPARTMENTS`.
DEPARTMENT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "traffic": ("traffic", "vehicle"),
    "public-security": ("person", "crowd", "vehicle", "fire"),
    "environment": ("air", "water"),
    "health": ("wearable",),
    "city-management": ("manhole", "citizen", "device", "fire", "water"),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token's id, role and scope.

    >>> p = Principal("t1", Role.grid_worker, cells=frozenset({"88309a553dfffff"}))
    >>> p.scope_sql()
    ('has({scope_cells:Array(String)}, cell)', {'scope_cells': ['88309a553dfffff']})
    >>> Principal("t2", Role.operator).scope_sql()
    ('1', {})
    """

    token_id: str
    role: Role
    department: str | None = None
    cells: frozenset[str] = field(default_factory=frozenset)
    expires_at: datetime | None = None

    @property
    def is_scoped(self) -> bool:
        return self.role in (Role.department, Role.grid_worker)

    @property
    def categories(self) -> tuple[str, ...] | None:
        """Event categories this principal may see, or None for all."""
        if self.role is Role.department:
            return DEPARTMENT_CATEGORIES.get(self.department or "", ())
        return None

    def scope_sql(
        self,
        *,
        department_col: str | None = "department",
        cell_col: str = "cell",
        category_col: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """A WHERE fragment (column names are ours, values are bound) restricting rows to this scope.

        For alert-like tables pass `department_col`; for events/devices pass `category_col` instead.
        """
        if self.role is Role.grid_worker:
            return f"has({{scope_cells:Array(String)}}, {cell_col})", {"scope_cells": sorted(self.cells)}
        if self.role is Role.department:
            if department_col:
                sql = f"{department_col} = {{scope_department:String}}"
                return sql, {"scope_department": self.department}
            if category_col:
                return f"has({{scope_categories:Array(String)}}, {category_col})", {
                    "scope_categories": list(self.categories or ())
                }
        return "1", {}

    def can_see(self, *, department: str | None, cell: str | None) -> bool:
        """The same rule as `scope_sql`, for one record already in hand (live feed, single alert).

        >>> Principal("t", Role.department, department="traffic").can_see(department="health", cell=None)
        False
        """
        if self.role is Role.grid_worker:
            return cell is not None and cell in self.cells
        if self.role is Role.department:
            return department == self.department
        return True

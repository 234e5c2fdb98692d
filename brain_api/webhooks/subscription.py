"""A webhook subscription and the rule deciding which alerts it receives.

Filters narrow, never widen: an empty filter means "any", and every non-empty filter must hold. A
subscription hears alerts raised after it was registered, not the history still on the topic. The
caller's scope (a department's categories, a grid worker's cells) is folded into the filters when the
subscription is created, so the dispatcher never needs to know who asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from streams.records import Alert, Severity


@dataclass(frozen=True)
class Subscription:
    """One registered webhook endpoint with its filters and signing secret."""

    id: str
    url: str
    secret: str
    owner: str = ""
    department: str | None = None
    categories: tuple[str, ...] = ()
    min_severity: Severity = Severity.informational
    cells: tuple[str, ...] = ()
    created_at: datetime | None = None
    active: bool = True
    _cells: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cells", frozenset(self.cells))

    def matches(self, alert: Alert) -> bool:
        """True when `alert` passes every filter of this subscription.

        >>> from datetime import UTC, datetime
        >>> a = Alert(id="a1", incident_id="i1", department="traffic", category="traffic",
        ...           sub_category="congestion", severity="high", confidence=0.9, title="t",
        ...           description="d", cell="88309a553dfffff", created_at=datetime(2026, 1, 1, tzinfo=UTC))
        >>> Subscription("s1", "http://x", "k" * 16).matches(a)
        True
        >>> Subscription("s2", "http://x", "k" * 16, department="health").matches(a)
        False
        >>> Subscription("s3", "http://x", "k" * 16, min_severity=Severity.critical).matches(a)
        False
        >>> Subscription("s4", "http://x", "k" * 16, categories=("traffic",), cells=(a.cell,)).matches(a)
        True
        """
        if not self.active or (self.created_at is not None and alert.created_at < self.created_at):
            return False
        if self.department and alert.department != self.department:
            return False
        if self.categories and alert.category not in self.categories:
            return False
        if alert.severity.rank < self.min_severity.rank:
            return False
        return not self._cells or alert.cell in self._cells


def matching(subscriptions: list[Subscription], alert: Alert) -> list[Subscription]:
    """The subscriptions `alert` goes to, in a stable order (by id)."""
    return sorted((s for s in subscriptions if s.matches(alert)), key=lambda s: s.id)

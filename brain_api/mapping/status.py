"""Map status (normal < warning < alert) from the open alerts, as SQL both map layers build on.

An alert is open while its newest transition is not `resolved` or `false_positive` (alerts without any
transition are open); its current content is its newest version (`argMax(..., version)`, see
docs/architecture.md). High and critical alerts paint a place red (`alert`), lower ones amber (`warning`).
Open incidents are counted through their open alerts: an incident nobody needs to act on is not news.
A device's status comes from the open alerts whose evidence names it; a dead or flat-lining device shows
up the same way, through the alert its fault detector raised.
"""

from __future__ import annotations

from enum import IntEnum

from streams.records import Severity

CLOSED_STATES = ("resolved", "false_positive")
ALERTING_SEVERITIES = tuple(s.value for s in Severity if s.rank >= Severity.high.rank)


class MapStatus(IntEnum):
    normal = 0
    warning = 1
    alert = 2

    @property
    def label(self) -> str:
        """The name the API uses.

        >>> MapStatus(2).label
        'alert'
        """
        return self.name


def open_alerts_sql(scope: str = "1") -> str:
    """Open alerts (id, severity, cell, incident_id, evidence, department, rank) within `scope`.

    `scope` is a WHERE fragment over `department`/`cell` with bound parameters only
    (`Principal.scope_sql()`); it is applied inside, so out-of-scope alerts never leave ClickHouse.
    """
    return f"""
        SELECT id, severity, cell, incident_id, evidence, department,
               if(severity IN {_tuple(ALERTING_SEVERITIES)}, 2, 1) AS rank
        FROM (
            SELECT id, argMax(severity, version) AS severity, argMax(cell, version) AS cell,
                   argMax(incident_id, version) AS incident_id, argMax(evidence, version) AS evidence,
                   argMax(department, version) AS department
            FROM alerts GROUP BY id
        )
        WHERE id NOT IN (
            SELECT alert_id FROM alert_transitions GROUP BY alert_id
            HAVING argMax(to_state, version) IN {_tuple(CLOSED_STATES)}
        ) AND ({scope})
    """


def alerted_devices_sql(scope: str = "1") -> str:
    """(device_id, rank) of devices named in the evidence of an open alert, worst rank per device."""
    return f"""
        SELECT JSONExtractString(item, 'device_id') AS device_id, max(rank) AS rank
        FROM ({open_alerts_sql(scope)})
        ARRAY JOIN JSONExtractArrayRaw(evidence) AS item
        GROUP BY device_id
    """


def _tuple(values: tuple[str, ...]) -> str:
    """A SQL tuple of our own constant identifiers (never user input).

    >>> _tuple(("high", "critical"))
    "('high', 'critical')"
    """
    assert all(v.replace("_", "").isalnum() for v in values), values
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"

"""Escalate alerts that nobody acknowledged in time (`CITYBRAIN_API_ESCALATION_AFTER_S`).

A background task of the API process; it acts as the system principal through the same `Transitions`
path as people do (lock, version check, audit row, live message), so a human acking at the same
moment simply wins or loses the race like any other operator.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from fastapi.concurrency import run_in_threadpool

from brain_api.alerting.machine import Action, TransitionRefused
from brain_api.alerting.queries import CURRENT_ALERTS
from brain_api.alerting.transitions import AlertNotFound, Transitions
from brain_api.security.audit import Auditor
from brain_api.security.roles import Principal, Role

log = logging.getLogger(__name__)
SYSTEM = Principal("system:escalation", Role.admin)


def escalate_overdue(transitions: Transitions, after_s: float, *, now: datetime | None = None) -> list[str]:
    """Escalate every `open` alert older than `after_s`; returns the ids escalated."""
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=after_s)
    rows = transitions.store.query(
        f"SELECT id FROM ({CURRENT_ALERTS}) WHERE state = 'open' AND created_at < {{cutoff:DateTime64(3, 'UTC')}}"
        " ORDER BY created_at LIMIT 1000",
        {"cutoff": cutoff},
    )
    auditor = Auditor(transitions.store, client="escalation")
    done = []
    for row in rows:
        try:
            transitions.apply(SYSTEM, row["id"], Action.escalate, f"unacknowledged for {after_s:.0f} s",
                              auditor=auditor, expected_version=0)
            done.append(row["id"])
        except (TransitionRefused, AlertNotFound):
            continue  # someone acted on it meanwhile
    return done


async def escalation_loop(transitions: Transitions, after_s: float, every_s: float) -> None:
    while True:
        try:
            escalated = await run_in_threadpool(escalate_overdue, transitions, after_s)
            if escalated:
                log.info("escalated %d unacknowledged alerts", len(escalated))
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - storage hiccup: try again next round
            log.exception("escalation round failed")
        await asyncio.sleep(every_s)

"""Applying an action to an alert: exactly one of two simultaneous operators wins, the other gets 409.

Within one API process a per-alert lock serialises transitions; inside it the current state and version
are read, the state machine decides, and the next row (version + 1) is appended to `alert_transitions`.
A caller may also pass the version it saw (`expected_version`), so an operator acting on a stale screen
is refused instead of silently overriding a colleague.

Several replicas: the lock is per process, and ClickHouse has no compare-and-set, so two replicas could
both append version N+1 for the same alert. Deploy transitions with sticky routing by alert id (or a
single writer replica) when running more than one API process; readers take `argMax(to_state, version)`,
so even then the log stays readable, but "exactly one winner" is only guaranteed per process.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from brain_api.alerting.feedback import feedback_records
from brain_api.alerting.locks import KeyedLocks
from brain_api.alerting.machine import Action, TransitionRefused, next_state
from brain_api.alerting.queries import get_alert
from brain_api.live.hub import LiveHub
from brain_api.security.audit import Auditor
from brain_api.security.roles import Principal
from streams.records import AlertState
from streams.storage.base import Store


class AlertNotFound(LookupError):
    """No such alert, or not one the caller may see (indistinguishable on purpose)."""


class Feedback(Protocol):
    def publish(self, records: list[dict[str, Any]]) -> int: ...


class Transitions:
    def __init__(
        self, store: Store, *, locks: KeyedLocks, hub: LiveHub | None = None, feedback: Feedback | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.store, self.locks, self.hub, self.feedback = store, locks, hub, feedback
        self.on_change = on_change  # e.g. drop cached reads: nobody may read a state older than their own click

    def apply(
        self,
        principal: Principal,
        alert_id: str,
        action: Action,
        note: str = "",
        *,
        auditor: Auditor,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Move the alert and return it as it is now; `TransitionRefused` -> 409, `AlertNotFound` -> 404."""
        with self.locks.hold(alert_id):
            alert = get_alert(self.store, alert_id)
            if alert is None or not principal.can_see(department=alert["department"], cell=alert["cell"]):
                raise AlertNotFound(alert_id)
            current, version = AlertState(alert["state"]), int(alert["state_version"])
            if expected_version is not None and expected_version != version:
                raise TransitionRefused(f"alert is at version {version}, not {expected_version}; reload it")
            target = next_state(current, action)
            if action is Action.false_positive and self.feedback is not None:
                self.feedback.publish(feedback_records(alert, note))
            now = datetime.now(UTC)
            self.store.insert("alert_transitions", {
                "alert_id": [alert_id], "from_state": [current.value], "to_state": [target.value],
                "actor": [principal.token_id], "note": [note], "at": [now], "version": [version + 1],
            })
            auditor.record(principal, f"alert.{action.value}", "alert", alert_id,
                           detail={"from": current.value, "to": target.value, "version": version + 1})
            if self.on_change is not None:
                self.on_change()
        alert.update(state=target.value, state_version=version + 1, updated_at=now)
        if self.hub is not None:
            self.hub.publish("alert", {k: v for k, v in alert.items() if k != "evidence"})
        return alert

"""The alert lifecycle as a table: which action moves which states where.

open ──ack──> acknowledged ──dispatch──> dispatched ──resolve──> resolved
  │  escalate (timer or human) -> escalated, which can still be acked/dispatched/resolved
  └─ false-positive from any non-terminal state -> false_positive (feeds back to detection)
`resolved` and `false_positive` are terminal: a recurrence is a new alert from streams, not a reopen.
"""

from __future__ import annotations

from enum import StrEnum

from streams.records import AlertState as S


class Action(StrEnum):
    ack = "ack"
    dispatch = "dispatch"
    resolve = "resolve"
    false_positive = "false-positive"
    escalate = "escalate"


TERMINAL = frozenset({S.resolved, S.false_positive})
_LIVE = frozenset(S) - TERMINAL

#: action -> (states it may start from, state it leads to)
TRANSITIONS: dict[Action, tuple[frozenset[S], S]] = {
    Action.ack: (frozenset({S.open, S.escalated}), S.acknowledged),
    Action.dispatch: (frozenset({S.open, S.acknowledged, S.escalated}), S.dispatched),
    Action.resolve: (frozenset({S.acknowledged, S.dispatched, S.escalated}), S.resolved),
    Action.false_positive: (_LIVE, S.false_positive),
    Action.escalate: (frozenset({S.open, S.acknowledged, S.dispatched}), S.escalated),
}


class TransitionRefused(Exception):
    """The action does not apply to the alert's current state (or its version moved on)."""


def next_state(current: S, action: Action) -> S:
    """The state after `action`, or `TransitionRefused`.

    >>> next_state(S.open, Action.ack)
    <AlertState.acknowledged: 'acknowledged'>
    >>> next_state(S.resolved, Action.ack)
    Traceback (most recent call last):
    ...
    brain_api.alerting.machine.TransitionRefused: cannot ack an alert that is resolved
    """
    sources, target = TRANSITIONS[action]
    if current not in sources:
        raise TransitionRefused(f"cannot {action.value} an alert that is {current.value}")
    return target

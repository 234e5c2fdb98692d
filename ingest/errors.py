"""Exceptions for the whole platform: one base class, small named subclasses (faust `exceptions.py` style).

`streams` and `brain_api` subclass `CityBrainError` for their own failures.
"""

from __future__ import annotations


class CityBrainError(Exception):
    """Base class of every error the platform raises on purpose."""


class InvalidEvent(CityBrainError):
    """An input record does not satisfy the `CityEvent` contract."""

    def __init__(self, reason: str, *, field: str | None = None, value: object = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.value = value


class BatchTooLarge(CityBrainError):
    """An ingest request carries more events (or bytes) than one request may."""


class BrokerUnavailable(CityBrainError):
    """Kafka did not accept a produce request in time."""


class PartialPublish(BrokerUnavailable):
    """Some of a request's Kafka messages were acknowledged before the rest failed.

    `acked_keys` are the (source|id) keys that did land, so a client's retry of the whole request
    does not store them twice.
    """

    def __init__(self, message: str, acked_keys: frozenset[str]) -> None:
        super().__init__(message)
        self.acked_keys = acked_keys


class ConfigurationError(CityBrainError):
    """Settings are unsafe or inconsistent (e.g. a default secret outside dev)."""

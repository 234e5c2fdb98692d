"""Pack events into Kafka messages: same partition as Kafka's default partitioner, many events per message.

Per-message overhead dominates small events, so events are packed as JSON arrays (CloudEvents batch
mode, up to `max_events` events and `max_bytes` bytes per message). Packing never mixes partitions:
partition = murmur2(partition_key) % N exactly as Kafka's default partitioner computes it for that key,
so a consumer keyed by device sees one device's events in order on one partition.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kafka.partitioner.default import murmur2

from ingest.events import CityEvent

#: Stay under the 1 MiB default `max.message.bytes` with room for headers and batch framing.
MAX_MESSAGE_BYTES = 900_000


def partition_for(key: str, partitions: int) -> int:
    """Kafka's default partition for a string key (Java `Utils.toPositive(murmur2(key)) % n`).

    >>> from aiokafka.partitioner import DefaultPartitioner
    >>> partition_for("tdet-0042", 8), DefaultPartitioner()(b"tdet-0042", list(range(8)), [])
    (5, 5)
    """
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


@dataclass(frozen=True, slots=True)
class Packed:
    """One Kafka message: its partition, value (a JSON array of events) and how many events it holds."""

    partition: int
    value: bytes
    count: int
    key: bytes | None = None
    event_keys: tuple[str, ...] = ()  # (source|id) of each event, so a partial failure knows what landed


def pack_json(parts: Sequence[bytes]) -> bytes:
    """Join serialised events into one JSON array without re-parsing them.

    >>> pack_json([b'{"a":1}', b'{"a":2}'])
    b'[{"a":1},{"a":2}]'
    """
    return b"[" + b",".join(parts) + b"]"


def pack_events(
    events: Iterable[CityEvent], partitions: int, *, max_events: int = 500, max_bytes: int = MAX_MESSAGE_BYTES
) -> list[Packed]:
    """Group events by partition, in arrival order within each, into messages of bounded size.

    A message whose events all share one device gets that device as its key (useful to consumers that
    look at keys); mixed messages have no key and rely on the explicit partition.
    """
    groups: dict[int, list[tuple[str, str, bytes]]] = {}
    for event in events:
        key = event.partition_key
        item = (key, event.key, event.model_dump_json().encode())
        groups.setdefault(partition_for(key, partitions), []).append(item)
    out: list[Packed] = []
    for partition, items in groups.items():
        chunk: list[tuple[str, str, bytes]] = []
        size = 2
        for item in items:
            data = item[2]
            if chunk and (len(chunk) >= max_events or size + len(data) + 1 > max_bytes):
                out.append(_message(partition, chunk))
                chunk, size = [], 2
            chunk.append(item)
            size += len(data) + 1
        if chunk:
            out.append(_message(partition, chunk))
    return out


def _message(partition: int, chunk: list[tuple[str, str, bytes]]) -> Packed:
    keys = {k for k, _, _ in chunk}
    key = next(iter(keys)).encode() if len(keys) == 1 else None
    return Packed(partition, pack_json([d for _, _, d in chunk]), len(chunk), key, tuple(k for _, k, _ in chunk))

"""Fetch max-wait adapted to what the broker delivered: short at the tip, longer when behind.

Used by the worker (aiokafka, `observe_fetches`), the API's live feed and the sink (kafka-python,
`observe_kafka_python_fetches`).

Why: the worker asks for a short fetch wait (20 ms) because the embedded Tansu broker does not wake a
waiting fetch when data arrives: it answers an empty fetch only after the whole wait (faust's 1.5 s put
~1.5 s on every hop). But Tansu also gives up reading when the wait runs out: a fetch that needs more than
the wait to read its data comes back empty. Its in-memory log gets slower to read as it grows (a 5 MB read
from the middle took 150-800 ms after 15 minutes of load), so once the worker fell behind, every 20 ms fetch
came back with nothing while data waited, and it never caught up: the "stall" of #10, found by replaying
the worker's own fetch requests against the live broker (20 ms: nothing; 100 ms: part; 300 ms: all).

So each fetch response is judged: data waiting and nothing delivered -> the next fetch waits longer
(x4, up to `max_ms`); nothing left waiting -> slowly back toward `min_ms` (at the tip latency matters);
some delivered while more waits (behind, but moving) -> keep the wait that works. A broker that answers as
soon as it has data (Apache Kafka) never returns nothing while data waits, so there the wait stays short.
"""

from __future__ import annotations

import logging
from typing import Any

from aiokafka.protocol.fetch import FetchRequest
from aiokafka.record.memory_records import MemoryRecords
from kafka import TopicPartition

from streams import metrics

log = logging.getLogger("citybrain.worker")


class FetchWait:
    """The next fetch's max-wait in ms, from what the last response delivered.

    Grows fast (x4) when a fetch comes back empty with data waiting, shrinks slowly (x0.8) once caught up, so
    at the tip it settles just above what the broker needs instead of failing every other fetch.

    >>> w = FetchWait(min_ms=20, max_ms=2000)
    >>> w.observe(behind=True, delivered=False), w.observe(behind=True, delivered=False)
    (80, 320)
    >>> w.observe(behind=True, delivered=True)   # moving again: keep the wait that works
    320
    >>> [w.observe(behind=False, delivered=True) for _ in range(3)]  # caught up: back toward short waits
    [256, 204, 163]
    >>> [w.observe(behind=True, delivered=False) for _ in range(5)][-1]
    2000
    """

    def __init__(self, min_ms: int, max_ms: int, grow: int = 4, shrink: float = 0.8) -> None:
        self.min_ms, self.max_ms, self.grow, self.shrink = min_ms, max(min_ms, max_ms), grow, shrink
        self.ms = min_ms

    def observe(self, behind: bool, delivered: bool) -> int:
        """`behind`: some partition has data beyond what this response delivered of it;
        `delivered`: some partition got records."""
        if not behind:
            self.ms = max(self.min_ms, int(self.ms * self.shrink))
        elif not delivered:
            self.ms = min(self.max_ms, max(self.ms, 1) * self.grow)
        return self.ms


def next_offset(offset: int, data: bytes | None) -> int:
    """The offset after the last whole record batch in `data` (a fetch's record bytes), or `offset` if none.

    Reads batch headers only (~1 ms for a 5 MB response)."""
    records = MemoryRecords(data or b"")
    while records.has_next():
        offset = max(offset, records.next_batch().next_offset)
    return offset


def judge(request: FetchRequest, response: Any) -> tuple[bool, bool]:
    """(behind, delivered) of one fetch round trip, from the request's offsets and the response's high
    watermarks and record batches."""
    offsets = {(topic, p): offset for topic, parts in request.topics for p, offset, *_ in parts}
    answered: set[tuple[str, int]] = set()
    behind = delivered = False
    for topic, parts in response.topics:
        for partition, error_code, highwater, *data in parts:
            offset = offsets.get((topic, partition))
            answered.add((topic, partition))
            if error_code or offset is None:
                continue
            reached = next_offset(offset, data[-1] if data else None)
            delivered |= reached > offset
            behind |= highwater > reached
    # A partition left out of the answer was not read at all (Tansu answers a 0 ms fetch with no topics).
    return behind or not answered >= offsets.keys(), delivered


def observe_fetches(consumer: Any, policy: FetchWait) -> None:
    """Judge every fetch `consumer` (an AIOKafkaConsumer, not started yet) sends and set its fetcher's next
    max-wait. aiokafka reads `Fetcher._fetch_max_wait_ms` each time it builds a fetch request."""
    client = consumer._client
    send = client.send

    async def send_and_judge(node_id: int, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = await send(node_id, request, *args, **kwargs)
        if isinstance(request, FetchRequest):
            before = policy.ms
            after = policy.observe(*judge(request, response))
            fetcher = getattr(consumer, "_fetcher", None)
            if fetcher is not None:
                fetcher._fetch_max_wait_ms = after
            if after != before:
                metrics.FETCH_WAIT_MS.set(after)
                # at the longest wait the broker is struggling to read its own log: worth an operator's eye
                log.log(logging.WARNING if after == policy.max_ms > before else logging.DEBUG,
                        "fetch max-wait %d ms -> %d ms (%s)", before, after,
                        "data waiting and none delivered" if after > before else "caught up")
        return response

    client.send = send_and_judge


def judge_kafka_python(fetch_offsets: dict[Any, int], response: Any) -> tuple[bool, bool]:
    """`judge` for a kafka-python fetch (its responses name partitions `partition_index`). A partition left
    out counts as unread unless the broker runs an incremental fetch session, where leaving out is normal."""
    answered: set[Any] = set()
    behind = delivered = False
    for topic_data in response.responses:
        for data in topic_data.partitions:
            tp = TopicPartition(topic_data.topic, data.partition_index)
            answered.add(tp)
            offset = fetch_offsets.get(tp)
            if data.error_code or offset is None:
                continue
            reached = next_offset(offset, data.records)
            delivered |= reached > offset
            behind |= data.high_watermark > reached
    sessionless = not getattr(response, "session_id", 0)
    return behind or (sessionless and not answered >= fetch_offsets.keys()), delivered


def observe_kafka_python_fetches(consumer: Any, policy: FetchWait) -> None:
    """The sink's side: judge every fetch a kafka-python `KafkaConsumer` completes and set its next max-wait
    (kafka-python reads `Fetcher.config['fetch_max_wait_ms']` each time it builds a fetch request)."""
    fetcher = consumer._fetcher
    handle = fetcher._handle_fetch_response
    fetcher.config["fetch_max_wait_ms"] = policy.ms

    def handle_and_judge(node_id: int, fetch_offsets: dict[Any, int], send_time: float, response: Any) -> None:
        before = policy.ms
        try:
            fetcher.config["fetch_max_wait_ms"] = policy.observe(*judge_kafka_python(fetch_offsets, response))
        except Exception:  # noqa: BLE001 - judging is advice; the response must be handled whatever happens
            log.debug("could not judge a fetch response", exc_info=True)
        if policy.ms != before:
            log.log(logging.WARNING if policy.ms == policy.max_ms > before else logging.DEBUG,
                    "sink fetch max-wait %d ms -> %d ms", before, policy.ms)
        handle(node_id, fetch_offsets, send_time, response)

    fetcher._handle_fetch_response = handle_and_judge

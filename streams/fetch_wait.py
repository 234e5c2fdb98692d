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

So each answer is judged against what was known to be waiting *when the fetch was sent* (the high
watermarks of earlier answers; data that arrives during a fetch says nothing about the wait):
- nothing delivered although data was known to wait -> the broker gave up: the next wait is 4x longer
  (up to `max_ms`);
- everything known to wait was delivered -> at the tip, where latency matters: the wait halves back
  toward `min_ms`;
- some delivered, more known to wait (the broker's ~5 MB answer cap) -> behind but moving: keep the wait.
A broker that answers as soon as it has data (Apache Kafka) never returns nothing while data waits, so
there the wait stays at `min_ms`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from aiokafka.protocol.fetch import FetchRequest
from aiokafka.record.memory_records import MemoryRecords

from streams import metrics

log = logging.getLogger("citybrain.worker")

#: (topic, partition) -> the high watermark the broker last reported for it.
Known = dict[tuple[str, int], int]
#: What one answer said of one partition: (topic, partition, error code, high watermark, record bytes).
Part = tuple[str, int, int, int, bytes | None]


class FetchWait:
    """The next fetch's max-wait in ms.

    >>> w = FetchWait(min_ms=20, max_ms=2000)
    >>> w.observe(starved=True, behind=True), w.observe(starved=True, behind=True)
    (80, 320)
    >>> w.observe(starved=False, behind=True)   # moving again: keep the wait that works
    320
    >>> [w.observe(starved=False, behind=False) for _ in range(3)]  # caught up: back toward short waits
    [160, 80, 40]
    >>> [w.observe(starved=True, behind=True) for _ in range(5)][-1]
    2000
    """

    def __init__(self, min_ms: int, max_ms: int, grow: int = 4, shrink: float = 0.5) -> None:
        self.min_ms, self.max_ms, self.grow, self.shrink = min_ms, max(min_ms, max_ms), grow, shrink
        self.ms = min_ms
        self.known: Known = {}  # high watermarks from earlier answers: what was waiting when we asked

    def observe(self, starved: bool, behind: bool) -> int:
        """`starved`: nothing delivered although data was known to wait; `behind`: data known to wait before
        the fetch is still not all delivered."""
        if starved:
            self.ms = min(self.max_ms, max(self.ms, 1) * self.grow)
        elif not behind:
            self.ms = max(self.min_ms, int(self.ms * self.shrink))
        return self.ms


def next_offset(offset: int, data: bytes | None) -> int:
    """The offset after the last whole record batch in `data` (a fetch's record bytes), or `offset` if none.

    Reads batch headers only (~1 ms for a 5 MB response)."""
    records = MemoryRecords(data or b"")
    while records.has_next():
        offset = max(offset, records.next_batch().next_offset)
    return offset


def judge(offsets: dict[tuple[str, int], int], parts: Iterable[Part], known: Known,
          *, all_answered: bool = True) -> tuple[bool, bool]:
    """(starved, behind) of one fetch round trip; updates `known` with the answer's high watermarks.

    `offsets`: the fetch offset asked for each partition. `all_answered`: the broker must answer every
    partition asked (a plain fetch; in an incremental fetch session leaving one out is normal). A partition
    left out of a plain answer was not read at all (Tansu answers a 0 ms fetch with no topics): starved.
    """
    answered: set[tuple[str, int]] = set()
    waited = delivered = behind = False
    for topic, partition, error_code, highwater, data in parts:
        key = (topic, partition)
        offset = offsets.get(key)
        answered.add(key)
        if error_code or offset is None:
            continue
        before = known.get(key, offset)
        known[key] = highwater
        reached = next_offset(offset, data)
        delivered |= reached > offset
        waited |= before > offset
        behind |= before > reached
    unread = all_answered and not answered >= offsets.keys()
    return (waited or unread) and not delivered, behind


def _aiokafka_parts(response: Any) -> Iterable[Part]:
    for topic, parts in response.topics:
        for partition, error_code, highwater, *data in parts:
            yield topic, partition, error_code, highwater, data[-1] if data else None


def _kafka_python_parts(response: Any) -> Iterable[Part]:
    for topic_data in response.responses:
        for p in topic_data.partitions:
            yield topic_data.topic, p.partition_index, p.error_code, p.high_watermark, p.records


def _adapt(policy: FetchWait, verdict: Callable[[], tuple[bool, bool]], apply: Callable[[int], None],
           who: str) -> None:
    before = policy.ms
    try:
        after = policy.observe(*verdict())
    except Exception:  # noqa: BLE001 - judging is advice; the answer must be handled whatever happens
        log.debug("could not judge a fetch answer", exc_info=True)
        return
    apply(after)
    if after != before:
        metrics.FETCH_WAIT_MS.labels(client=who).set(after)
        # at the longest wait the broker is struggling to read its own log: worth an operator's eye
        log.log(logging.WARNING if after == policy.max_ms > before else logging.DEBUG,
                "%s fetch max-wait %d ms -> %d ms", who, before, after)


def observe_fetches(consumer: Any, policy: FetchWait, who: str = "worker") -> None:
    """Judge every fetch `consumer` (an AIOKafkaConsumer, not started yet) sends and set its fetcher's next
    max-wait. aiokafka reads `Fetcher._fetch_max_wait_ms` each time it builds a fetch request."""
    client = consumer._client
    send = client.send

    def apply(ms: int) -> None:
        fetcher = getattr(consumer, "_fetcher", None)
        if fetcher is not None:
            fetcher._fetch_max_wait_ms = ms

    async def send_and_judge(node_id: int, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = await send(node_id, request, *args, **kwargs)
        if isinstance(request, FetchRequest):
            offsets = {(t, p): offset for t, parts in request.topics for p, offset, *_ in parts}
            _adapt(policy, lambda: judge(offsets, _aiokafka_parts(response), policy.known), apply, who)
        return response

    client.send = send_and_judge


def observe_kafka_python_fetches(consumer: Any, policy: FetchWait, who: str = "sink") -> None:
    """The same for a kafka-python `KafkaConsumer`, which reads `Fetcher.config['fetch_max_wait_ms']` each
    time it builds a fetch request."""
    fetcher = consumer._fetcher
    handle = fetcher._handle_fetch_response
    fetcher.config["fetch_max_wait_ms"] = policy.ms

    def apply(ms: int) -> None:
        fetcher.config["fetch_max_wait_ms"] = ms

    def handle_and_judge(node_id: int, fetch_offsets: dict[Any, int], send_time: float, response: Any) -> None:
        offsets = {(tp.topic, tp.partition): offset for tp, offset in fetch_offsets.items()}
        sessionless = not getattr(response, "session_id", 0)
        _adapt(policy, lambda: judge(offsets, _kafka_python_parts(response), policy.known,
                                     all_answered=sessionless), apply, who)
        handle(node_id, fetch_offsets, send_time, response)

    fetcher._handle_fetch_response = handle_and_judge

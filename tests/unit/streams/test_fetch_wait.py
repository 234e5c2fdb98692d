"""The fetch max-wait: raised while the broker answers nothing with data known to wait, short at the tip."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from aiokafka.protocol.fetch import FetchRequest
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from streams.fetch_wait import FetchWait, judge, next_offset, observe_fetches, observe_kafka_python_fetches

EVENTS = "citybrain.events.v1"


def batch(base: int, n: int) -> bytes:
    """A real v2 record batch of `n` records from offset `base` (the base offset is outside the CRC)."""
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=0, producer_id=-1,
                                        producer_epoch=-1, base_sequence=-1, batch_size=1 << 20)
    for i in range(n):
        builder.append(i, timestamp=None, key=None, value=b"reading", headers=[])
    return base.to_bytes(8, "big", signed=True) + bytes(builder.build())[8:]


def parts(*answers: tuple[int, int, int, bytes]) -> list[tuple[str, int, int, int, bytes]]:
    """(partition, error code, high watermark, record bytes) -> judge's per-partition tuples."""
    return [(EVENTS, p, err, hw, data) for p, err, hw, data in answers]


def offsets(**by_partition: int) -> dict[tuple[str, int], int]:
    return {(EVENTS, int(p[1:])): o for p, o in by_partition.items()}


def test_next_offset_is_after_the_last_whole_batch_and_ignores_a_cut_one() -> None:
    two = batch(100, 3) + batch(103, 2)
    assert next_offset(100, two) == 105
    assert next_offset(100, two + batch(105, 4)[:20]) == 105  # the broker cut the answer mid-batch
    assert next_offset(100, b"") == next_offset(100, None) == 100


def test_nothing_delivered_while_data_was_known_to_wait_is_starved() -> None:
    known = {(EVENTS, 0): 900}
    assert judge(offsets(p0=100, p1=50), parts((0, 0, 950, b""), (1, 0, 50, b"")), known) == (True, True)
    assert known == {(EVENTS, 0): 950, (EVENTS, 1): 50}, "the answer's high watermarks are learnt"


def test_data_that_arrived_during_the_fetch_is_not_a_reason_to_wait_longer() -> None:
    """At the tip an empty answer often carries a higher watermark: the data came after the broker read."""
    known = {(EVENTS, 0): 100}
    assert judge(offsets(p0=100), parts((0, 0, 140, b"")), known) == (False, False)
    assert judge(offsets(p0=100), parts((0, 0, 140, b"")), known) == (True, True), "now it was waiting"


def test_the_first_answer_after_a_start_teaches_what_waits() -> None:
    known: dict[tuple[str, int], int] = {}
    assert judge(offsets(p0=100), parts((0, 0, 900, b"")), known) == (False, False)
    assert judge(offsets(p0=100), parts((0, 0, 900, b"")), known) == (True, True)


def test_a_partition_cut_by_the_answer_cap_is_behind_but_not_starved() -> None:
    known = {(EVENTS, 0): 900, (EVENTS, 1): 400}
    assert judge(offsets(p0=100, p1=50), parts((0, 0, 900, batch(100, 5)), (1, 0, 400, b"")), known) == (False, True)


def test_a_partition_left_out_of_a_plain_answer_was_not_read() -> None:
    assert judge(offsets(p0=100, p1=50), [], {}) == (True, False)
    assert judge(offsets(p0=100, p1=50), [], {}, all_answered=False) == (False, False), "incremental session"


def test_errors_are_not_judged() -> None:
    assert judge(offsets(p0=100), parts((0, 6, 900, b"")), {(EVENTS, 0): 900}) == (False, False)


def test_the_wait_grows_while_starved_holds_while_moving_and_drops_at_the_tip() -> None:
    wait = FetchWait(min_ms=20, max_ms=4000)
    assert [wait.observe(True, True) for _ in range(5)] == [80, 320, 1280, 4000, 4000]
    assert wait.observe(False, True) == 4000
    assert [wait.observe(False, False) for _ in range(10)][-1] == 20, "caught up: down to the shortest wait"
    assert FetchWait(min_ms=0, max_ms=100).observe(True, True) == 4, "a zero wait can grow too"


def fetch(*by_partition: tuple[int, int]) -> FetchRequest:
    return FetchRequest(20, 1, 50 << 20, 0, [(EVENTS, [(p, offset, 16 << 20) for p, offset in by_partition])])


def aiokafka_response(*answers: tuple[int, int, int, bytes]) -> Any:
    """Laid out like aiokafka's v11 fetch response."""
    return SimpleNamespace(topics=[(EVENTS, [(p, err, hw, hw, 0, [], -1, data) for p, err, hw, data in answers])])


class FakeClient:
    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers

    async def send(self, node_id: int, request: Any) -> Any:
        return self.answers.pop(0)


def test_observed_fetches_set_the_fetchers_next_wait_and_other_requests_pass_through() -> None:
    answers = [aiokafka_response((0, 0, 900, b"")), "metadata", aiokafka_response((0, 0, 900, b"")),
               aiokafka_response((0, 0, 900, b"")), aiokafka_response((0, 0, 900, batch(100, 5))),
               aiokafka_response((0, 0, 900, batch(105, 795)))]
    consumer = SimpleNamespace(_client=FakeClient(answers))
    observe_fetches(consumer, FetchWait(min_ms=20, max_ms=4000))

    async def run() -> list[Any]:
        first = await consumer._client.send(1, fetch((0, 100)))  # before the fetcher exists: no crash
        consumer._fetcher = SimpleNamespace(_fetch_max_wait_ms=20)
        other = await consumer._client.send(1, object())
        waits = []
        for offset in (100, 100, 100, 105):
            await consumer._client.send(1, fetch((0, offset)))
            waits.append(consumer._fetcher._fetch_max_wait_ms)
        return [first, other, waits]

    first, other, waits = asyncio.run(run())
    assert first.topics[0][1][0][2] == 900 and other == "metadata"
    assert waits == [80, 320, 320, 160]  # empty twice with data waiting, moving, caught up


def kafka_python_response(*answers: tuple[int, int, int, bytes]) -> Any:
    return SimpleNamespace(responses=[SimpleNamespace(topic=EVENTS, partitions=[
        SimpleNamespace(partition_index=p, error_code=err, high_watermark=hw, records=data)
        for p, err, hw, data in answers])])


def test_the_sinks_fetches_are_judged_and_every_response_still_handled() -> None:
    from kafka import TopicPartition

    handled: list[Any] = []
    fetcher = SimpleNamespace(config={"fetch_max_wait_ms": 500},
                              _handle_fetch_response=lambda *args: handled.append(args[-1]))
    observe_kafka_python_fetches(SimpleNamespace(_fetcher=fetcher), FetchWait(min_ms=500, max_ms=4000))
    waits = []
    for at, response in ((100, kafka_python_response((0, 0, 900, b""), (1, 0, 7, b""))),  # learns what waits
                         (100, kafka_python_response((0, 0, 900, b""), (1, 0, 7, b""))),  # waiting, none came
                         (100, kafka_python_response((0, 0, 900, batch(100, 5)), (1, 0, 7, b""))),  # moving
                         (895, kafka_python_response((0, 0, 900, batch(895, 5)), (1, 0, 7, b""))),  # caught up
                         (900, SimpleNamespace(responses=None))):  # unjudgeable: handled all the same
        fetcher._handle_fetch_response(1, {TopicPartition(EVENTS, 0): at, TopicPartition(EVENTS, 1): 7}, 0.0, response)
        waits.append(fetcher.config["fetch_max_wait_ms"])
    assert waits == [500, 2000, 2000, 1000, 1000]
    assert len(handled) == 5

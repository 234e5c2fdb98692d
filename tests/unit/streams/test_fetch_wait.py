"""The worker's fetch max-wait: raised while the broker returns nothing with data waiting, short at the tip."""

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


def fetch(*parts: tuple[int, int]) -> FetchRequest:
    return FetchRequest(20, 1, 50 << 20, 0, [(EVENTS, [(p, offset, 16 << 20) for p, offset in parts])])


def response(*parts: tuple[int, int, int, bytes]) -> Any:
    """(partition, error code, high watermark, record bytes) per partition, laid out like aiokafka's v11."""
    return SimpleNamespace(topics=[(EVENTS, [(p, err, hw, hw, 0, [], -1, data) for p, err, hw, data in parts])])


def test_next_offset_is_after_the_last_whole_batch_and_ignores_a_cut_one() -> None:
    two = batch(100, 3) + batch(103, 2)
    assert next_offset(100, two) == 105
    assert next_offset(100, two + batch(105, 4)[:20]) == 105  # the broker cut the response mid-batch
    assert next_offset(100, b"") == next_offset(100, None) == 100


def test_data_waiting_and_nothing_delivered_is_behind_and_empty() -> None:
    assert judge(fetch((0, 100), (1, 50)), response((0, 0, 900, b""), (1, 0, 50, b""))) == (True, False)


def test_a_partition_left_out_of_the_answer_counts_as_behind() -> None:
    assert judge(fetch((0, 100), (1, 50)), SimpleNamespace(topics=[])) == (True, False)
    assert judge(fetch((0, 100), (1, 50)), response((0, 0, 100, b""))) == (True, False)


def test_a_partition_cut_by_the_response_cap_is_delivered_but_still_behind() -> None:
    assert judge(fetch((0, 100), (1, 50)), response((0, 0, 900, batch(100, 5)), (1, 0, 50, b""))) == (True, True)
    assert judge(fetch((0, 100)), response((0, 0, 900, batch(100, 5)))) == (True, True)


def test_everything_delivered_is_caught_up_and_errors_are_not_judged() -> None:
    assert judge(fetch((0, 100), (1, 50)), response((0, 0, 105, batch(100, 5)), (1, 0, 50, b""))) == (False, True)
    assert judge(fetch((0, 100)), response((0, 6, 900, b""))) == (False, False)


def test_the_wait_grows_while_starved_holds_while_moving_and_drops_at_the_tip() -> None:
    wait = FetchWait(min_ms=20, max_ms=4000)
    assert [wait.observe(True, False) for _ in range(5)] == [80, 320, 1280, 4000, 4000]
    assert wait.observe(True, True) == 4000
    assert [wait.observe(False, False) for _ in range(30)][-1] == 20, "caught up: down to the shortest wait"
    assert FetchWait(min_ms=0, max_ms=100).observe(True, False) == 4, "a zero wait can grow too"


class FakeClient:
    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers

    async def send(self, node_id: int, request: Any) -> Any:
        return self.answers.pop(0)


def test_observed_fetches_set_the_fetchers_next_wait_and_other_requests_pass_through() -> None:
    answers = [response((0, 0, 900, b"")), "metadata", response((0, 0, 900, b"")), response((0, 0, 900, batch(100, 5))),
               response((0, 0, 900, batch(105, 795)))]
    consumer = SimpleNamespace(_client=FakeClient(answers))
    observe_fetches(consumer, FetchWait(min_ms=20, max_ms=4000))

    async def run() -> list[Any]:
        first = await consumer._client.send(1, fetch((0, 100)))  # before the fetcher exists: no crash
        consumer._fetcher = SimpleNamespace(_fetch_max_wait_ms=20)
        other = await consumer._client.send(1, object())
        waits = []
        for offset in (100, 100, 105):
            await consumer._client.send(1, fetch((0, offset)))
            waits.append(consumer._fetcher._fetch_max_wait_ms)
        return [first, other, waits]

    first, other, waits = asyncio.run(run())
    assert first.topics[0][1][0][2] == 900 and other == "metadata"
    assert waits == [320, 320, 256]  # empty twice with data waiting, moving, caught up


def kafka_python_response(*parts: tuple[int, int, int, bytes]) -> Any:
    return SimpleNamespace(responses=[SimpleNamespace(topic=EVENTS, partitions=[
        SimpleNamespace(partition_index=p, error_code=err, high_watermark=hw, records=data)
        for p, err, hw, data in parts])])


def test_the_sinks_fetches_are_judged_and_every_response_still_handled() -> None:
    from kafka import TopicPartition

    handled: list[Any] = []
    fetcher = SimpleNamespace(config={"fetch_max_wait_ms": 500},
                              _handle_fetch_response=lambda *args: handled.append(args[-1]))
    observe_kafka_python_fetches(SimpleNamespace(_fetcher=fetcher), FetchWait(min_ms=500, max_ms=4000))
    offsets = {TopicPartition(EVENTS, 0): 100, TopicPartition(EVENTS, 1): 7}
    waits = []
    for response in (kafka_python_response((0, 0, 900, b"")),  # data waiting, none delivered
                     kafka_python_response((0, 0, 900, batch(100, 5))),  # moving
                     kafka_python_response((0, 0, 105, batch(100, 5)), (1, 0, 7, b"")),  # caught up
                     SimpleNamespace(responses=None)):  # unjudgeable: handled all the same
        fetcher._handle_fetch_response(1, offsets, 0.0, response)
        waits.append(fetcher.config["fetch_max_wait_ms"])
    assert waits == [2000, 2000, 1600, 1600]
    assert len(handled) == 4

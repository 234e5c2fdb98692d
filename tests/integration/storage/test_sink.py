"""The sink against the real Tansu broker and chdb: exactly once across a crash, every topic to its table."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from kafka import KafkaProducer

from ingest.topics import DEADLETTER_TOPIC, DEVICES_TOPIC, EVENTS_TOPIC
from streams.settings import SinkSettings
from streams.storage.base import StoreUnavailable
from streams.storage.migrate import migrate
from streams.storage.sink import Sink
from streams.topics import ALERTS_TOPIC, ANOMALIES_TOPIC, FEEDBACK_TOPIC, INCIDENTS_TOPIC
from tests.factories import event_dict, make_anomaly

pytestmark = pytest.mark.integration
FAST = SinkSettings(batch_rows=2000, batch_age_s=0.3, retry_backoff_s=0.2, retry_backoff_max_s=2.0)


@pytest.fixture
def producer(kafka_bootstrap: str, kafka_topics: list[str]) -> Iterator[KafkaProducer]:
    p = KafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=5)
    yield p
    p.close()


@pytest.fixture
def store(chdb_store: Any) -> Any:
    migrate(chdb_store)
    return chdb_store


def produce_events(p: KafkaProducer, source: str, first: int, count: int, per_message: int = 50) -> None:
    """Packed CloudEvents batches keyed by device, as ingest sends them."""
    for start in range(first, first + count, per_message):
        device = f"dev-{start // per_message % 13}"
        batch = [event_dict(id=f"{source}-{i}", source=source, device_id=device)
                 for i in range(start, min(start + per_message, first + count))]
        p.send(EVENTS_TOPIC, orjson.dumps(batch), key=device.encode())
    p.flush()


def wait_for(check: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.3)


def counts(store: Any, source: str) -> tuple[int, int]:
    row = store.query("SELECT count() AS n, uniqExact(id) AS d FROM events WHERE source = {s:String}", {"s": source})
    return row[0]["n"], row[0]["d"]


def test_crash_between_insert_and_commit_stores_each_event_once(
    store: Any, producer: KafkaProducer, kafka_bootstrap: str, unique_name: str
) -> None:
    source = f"test/{unique_name}"
    produce_events(producer, source, 0, 3000)
    producer.send(EVENTS_TOPIC, b'[{"id": "broken"', key=b"dev-x").get(10)
    # First life: inserts everything, never commits a Kafka offset, then "dies".
    crashed = Sink(store, kafka_bootstrap, group_id=unique_name, settings=FAST, commit_offsets=False).start()
    wait_for(lambda: counts(store, source)[0] == 3000)
    crashed.stop(commit=False)
    produce_events(producer, source, 3000, 2000)
    # Second life, same group: nothing was committed, ClickHouse says where each partition ends.
    sink = Sink(store, kafka_bootstrap, group_id=unique_name, settings=FAST).start()
    wait_for(lambda: counts(store, source)[0] >= 5000)
    time.sleep(1.0)  # a duplicate would show up within a batch age
    sink.stop()
    assert counts(store, source) == (5000, 5000)
    broken = store.query("SELECT stage, reason FROM deadletters WHERE payload = {p:String}", {"p": '[{"id": "broken"'})
    assert len(broken) == 1 and broken[0]["stage"] == "sink" and "invalid JSON" in broken[0]["reason"]


def test_replay_after_commit_lag_skips_what_clickhouse_has(
    store: Any, producer: KafkaProducer, kafka_bootstrap: str, unique_name: str
) -> None:
    source = f"test/{unique_name}"
    produce_events(producer, source, 0, 2000)
    first = Sink(store, kafka_bootstrap, group_id=unique_name, settings=FAST).start()
    wait_for(lambda: counts(store, source)[0] == 2000)
    first.stop()  # committed up to here
    produce_events(producer, source, 2000, 2000)
    lagging = Sink(store, kafka_bootstrap, group_id=unique_name, settings=FAST, commit_offsets=False).start()
    wait_for(lambda: counts(store, source)[0] == 4000)
    lagging.stop(commit=False)  # inserted 2000 more, commit stayed behind them
    again = Sink(store, kafka_bootstrap, group_id=unique_name, settings=FAST).start()
    wait_for(lambda: again.stats()["skipped_already_stored"] > 0)
    time.sleep(1.0)
    again.stop()
    assert counts(store, source) == (4000, 4000)


def test_every_topic_lands_in_its_table(
    store: Any, producer: KafkaProducer, kafka_bootstrap: str, unique_name: str
) -> None:
    anomaly = make_anomaly(device_id=unique_name)
    producer.send(ANOMALIES_TOPIC, orjson.dumps([anomaly.model_dump(mode="json")]))
    evidence = {"anomaly_id": anomaly.id, "device_id": unique_name, "metric": "speed_kmh", "observed": 8.0,
                "expected": 45.0, "score": 0.97, "detector": "seasonal", "time": anomaly.time.isoformat(),
                "event_id": anomaly.event_id}
    now = datetime.now(UTC).isoformat()
    incident = {"id": f"in-{unique_name}", "cell": "88309a553dfffff", "category": "traffic",
                "sub_category": "congestion", "severity": "high", "confidence": 0.9, "opened_at": now,
                "updated_at": now, "evidence": [evidence]}
    producer.send(INCIDENTS_TOPIC, orjson.dumps(incident))
    alert = {k: v for k, v in incident.items() if k not in ("opened_at", "updated_at")} | {
        "id": f"al-{unique_name}", "incident_id": incident["id"], "department": "traffic", "title": "Jam",
        "description": "2 devices agree", "created_at": now}
    producer.send(ALERTS_TOPIC, orjson.dumps(alert))
    producer.send(DEVICES_TOPIC, orjson.dumps({"device_id": unique_name, "type": "loop", "category": "traffic",
                                               "lat": 30.27, "lon": 120.15, "updated_at": now, "deleted": False,
                                               "vendor": "acme"}))
    producer.send(FEEDBACK_TOPIC, orjson.dumps({"alert_id": alert["id"], "device_id": unique_name,
                                                "metric": "speed_kmh", "detector": "seasonal",
                                                "kind": "false_positive", "note": "roadworks", "at": now}))
    producer.send(DEADLETTER_TOPIC, b"\xff{not json", headers=[
        ("cb-reason", b"invalid JSON"), ("cb-stage", b"ingest"), ("cb-adapter", unique_name.encode())])
    producer.send(ALERTS_TOPIC, orjson.dumps({"id": "al-broken"}))
    producer.flush()
    sink = Sink(store, kafka_bootstrap, group_id=unique_name, settings=FAST).start()
    one = "SELECT count() AS n FROM {t} WHERE {c} = {{v:String}}"
    wait_for(lambda: store.query(one.format(t="feedback", c="device_id"), {"v": unique_name})[0]["n"] == 1)
    wait_for(lambda: store.query(one.format(t="deadletters", c="adapter"), {"v": unique_name})[0]["n"] == 1)
    sink.stop()
    assert store.query(one.format(t="anomalies", c="device_id"), {"v": unique_name})[0]["n"] == 1
    assert store.query(one.format(t="incidents", c="id"), {"v": incident["id"]})[0]["n"] == 1
    stored = store.query("SELECT severity, evidence FROM alerts WHERE id = {v:String}", {"v": alert["id"]})
    assert stored[0]["severity"] == "high" and orjson.loads(stored[0]["evidence"])[0]["anomaly_id"] == anomaly.id
    device = store.query("SELECT cell, attributes FROM devices WHERE device_id = {v:String}", {"v": unique_name})
    assert orjson.loads(device[0]["attributes"]) == {"vendor": "acme"}
    dead = store.query("SELECT payload FROM deadletters WHERE adapter = {v:String}", {"v": unique_name})[0]
    assert dead["payload"] in (b"\xff{not json", "\ufffd{not json")  # original bytes kept
    assert store.query("SELECT count() AS n FROM deadletters WHERE stage = 'sink'"
                       " AND kafka_topic = {t:String}", {"t": ALERTS_TOPIC})[0]["n"] >= 1


def test_a_recreated_topic_is_a_new_epoch_not_old_offsets(store: Any, unique_name: str, tmp_path: Any) -> None:
    """`citybrain up` again: the in-memory broker starts empty (offsets from 0), chdb keeps its data."""
    from deploy.broker import EmbeddedBroker
    from deploy.topics import ensure_topics

    for life in ("before", "after"):
        with EmbeddedBroker(log_path=tmp_path / f"{life}.log") as broker:
            ensure_topics(broker.bootstrap, partitions=2)
            p = KafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=5)
            produce_events(p, f"test/{unique_name}/{life}", 0, 1000)
            p.close()
            sink = Sink(store, broker.bootstrap, topics=[EVENTS_TOPIC], group_id=unique_name, settings=FAST).start()
            wait_for(lambda life=life: counts(store, f"test/{unique_name}/{life}")[0] == 1000)
            sink.stop()
    assert counts(store, f"test/{unique_name}/after") == (1000, 1000)
    epochs = store.query("SELECT count() AS n FROM sink_epochs WHERE topic = {t:String}", {"t": EVENTS_TOPIC})
    assert epochs[0]["n"] == 2


def test_an_event_published_twice_is_stored_once_even_across_a_sink_restart(
    store: Any, producer: KafkaProducer, kafka_bootstrap: str, unique_name: str
) -> None:
    """A client re-sends a request whose answer was lost with a killed API: the same ids reach Kafka again,
    at new offsets. The sink stores them once, and a restarted sink still knows them (refilled from ClickHouse)."""
    source = f"test/{unique_name}"
    produce_events(producer, source, 0, 1000)
    produce_events(producer, source, 0, 1000)  # the retry: same ids, new offsets
    first = Sink(store, kafka_bootstrap, group_id=unique_name, settings=FAST).start()
    wait_for(lambda: first.stats()["repeated_events"] == 1000)
    first.stop()
    assert counts(store, source) == (1000, 1000)

    produce_events(producer, source, 500, 1000)  # 500 repeats, 500 new, after the sink restarted
    same_id_other_source = event_dict(id=f"{source}-1", source=f"{source}/other", device_id="dev-1")
    producer.send(EVENTS_TOPIC, orjson.dumps([same_id_other_source]), key=b"dev-1").get(10)
    again = Sink(store, kafka_bootstrap, group_id=unique_name, settings=FAST).start()
    wait_for(lambda: counts(store, source)[0] >= 1500 and counts(store, f"{source}/other")[0] == 1)
    time.sleep(1.0)  # a duplicate would show up within a batch age
    again.stop()
    assert counts(store, source) == (1500, 1500)
    # ClickHouse, not Kafka, says where to resume, and the wholly repeated messages stored no row: the new
    # sink reads them again and drops them again (>= 500), which is harmless
    assert again.stats()["repeated_events"] >= 500
    assert counts(store, f"{source}/other") == (1, 1), "ids are unique per source, not across sources"


class AnswerLost:
    """chdb underneath; the first `fail` inserts into `events` land, then answer with an error after a pause
    (a server that stored the part but dropped the connection), while the sink keeps reading behind them."""

    def __init__(self, store: Any, fail: int) -> None:
        self._store, self.fail = store, fail

    def insert(self, table: str, columns: Any, *, dedup_token: str | None = None) -> int:
        n = self._store.insert(table, columns, dedup_token=dedup_token)
        if table == "events" and self.fail > 0:
            self.fail -= 1
            time.sleep(0.5)
            raise StoreUnavailable("Code: 210. connection reset after the insert")
        return n

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_a_batch_whose_answer_was_lost_is_taken_back_with_what_was_read_meanwhile(
    store: Any, producer: KafkaProducer, kafka_bootstrap: str, unique_name: str
) -> None:
    """The writer thread inserts while the sink thread reads on: a failed batch comes back with the messages
    read since behind it, the retry asks ClickHouse what landed, and every event is stored once."""
    source = f"test/{unique_name}"
    flaky = AnswerLost(store, fail=2)
    sink = Sink(flaky, kafka_bootstrap, group_id=unique_name, settings=FAST).start()
    assert sink.assigned.wait(60)
    for round_ in range(6):  # events keep arriving while inserts fail
        produce_events(producer, source, round_ * 1000, 1000)
        time.sleep(0.6)
    wait_for(lambda: counts(store, source)[0] >= 6000)
    time.sleep(1.0)  # a duplicate would show up within a batch age
    sink.stop()
    stats = sink.stats()
    assert counts(store, source) == (6000, 6000)
    assert flaky.fail == 0 and stats["errors"].get("unavailable") == 2
    assert stats["skipped_already_stored"] > 0, "the retry found the landed messages in ClickHouse"


def test_good_events_beside_a_bad_one_are_stored_and_the_bad_one_dead_lettered(
    store: Any, producer: KafkaProducer, kafka_bootstrap: str, unique_name: str
) -> None:
    """A message with one bad event takes the per-event path; its good events join the fast path's in the
    same insert (each message is turned into Arrow as it is decoded)."""
    source = f"test/{unique_name}"
    produce_events(producer, source, 0, 200)
    mixed = [event_dict(id=f"{source}-mixed-{i}", source=source, device_id="dev-1") for i in range(3)]
    producer.send(EVENTS_TOPIC, orjson.dumps(mixed[:2] + [{"id": f"{source}-bad"}] + mixed[2:]), key=b"dev-1").get(10)
    produce_events(producer, source, 200, 200)
    sink = Sink(store, kafka_bootstrap, group_id=unique_name, settings=FAST).start()
    wait_for(lambda: counts(store, source)[0] >= 403)
    time.sleep(1.0)
    sink.stop()
    assert counts(store, source) == (403, 403)
    dead = store.query("SELECT reason FROM deadletters WHERE payload LIKE {p:String}", {"p": f"%{source}-bad%"})
    assert len(dead) == 1 and "source" in dead[0]["reason"]

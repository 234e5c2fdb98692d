"""Security of a running platform (issue 10, item 5), beyond the API unit tests (access matrix, injection,
tokens): personal identifiers sent in clear through GA/T 1400, citizen reports and plain events never
appear in clear in any Kafka topic, ClickHouse table, file under the data dir or the /metrics output; and
no process of `citybrain up` listens on anything but loopback.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition

from deploy.chaos import wait_stored
from deploy.local import LocalPlatform
from ingest.viid import CST
from tests.chdb_query import query_chdb
from tests.factories import event_dict

PLATES = ["浙B9X7Q3", "沪KQ8X21"]
PHONES = ["13912345678", "+86 139 8765 4321"]
PERSON, FACE, ID_NUMBER = "PX-CLEAR-4471", "FACE-CLEAR-9920", "330106199001017788"
CLEAR = [*PLATES, "B9X7Q3", "KQ8X21", PHONES[0], "13987654321", PERSON, FACE, ID_NUMBER]
LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1 and ::1 as /proc/net shows them


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory):
    running = LocalPlatform(tmp_path_factory.mktemp("secure"), env={"CITYBRAIN_ENV": "test"})
    running.start()
    yield running
    running.stop(timeout_s=30)


def _post(platform: LocalPlatform, path: str, body: object) -> httpx.Response:
    return httpx.post(f"{platform.base_url}{path}", json=body, headers=platform.headers, timeout=30)


def _send_identifiers(platform: LocalPlatform) -> int:
    """Every door that takes identifiers, valid and invalid records; returns how many were accepted."""
    now = datetime.now(CST).strftime("%Y%m%d%H%M%S")
    vehicles = [{"MotorVehicleID": f"mv-sec-{i}", "DeviceID": "cam-sec-1", "PlateNo": plate, "Speed": "40",
                 "PassTime": now} for i, plate in enumerate(PLATES)]
    vehicles.append({"MotorVehicleID": "mv-sec-bad", "DeviceID": "cam-sec-1", "PlateNo": PLATES[0],
                     "PassTime": "not-a-time"})  # rejected: its dead letter must be scrubbed too
    r = _post(platform, "/VIID/MotorVehicles", {"MotorVehicleListObject": {"MotorVehicleObject": vehicles}})
    assert r.status_code == 200, r.text
    persons = [{"PersonID": PERSON, "DeviceID": "cam-sec-1", "PersonAppearTime": now, "FaceID": FACE,
                "IDNumber": ID_NUMBER}]
    assert _post(platform, "/VIID/Persons", {"PersonListObject": {"PersonObject": persons}}).status_code == 200
    reports = [{"id": f"rep-sec-{i}", "category": "traffic_accident", "text": "两车相撞", "lat": 30.27,
                "lon": 120.15, "reporter_phone": phone} for i, phone in enumerate(PHONES)]
    assert _post(platform, "/api/v1/reports", reports).status_code == 202
    events = [event_dict(id="ev-sec-1", attributes={"plate_no": PLATES[1]}),  # a sender's mistake
              event_dict(id="ev-sec-2", lat=123.0, attributes={"plate_no": PLATES[0]})]  # rejected
    r = _post(platform, "/api/v1/events", events)
    assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
    return len(PLATES) + len(persons) + len(reports) + 1


def _leaks(text: str) -> list[str]:
    return [value for value in CLEAR if value in text]


def _topics(bootstrap: str) -> dict[str, list[bytes]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=3000)
    try:
        parts = [TopicPartition(t, p) for t in consumer.topics() for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        found: dict[str, list[bytes]] = {}
        for m in consumer:
            blob = b" ".join([m.key or b"", m.value or b"", *(v or b"" for _, v in m.headers)])
            found.setdefault(m.topic, []).append(blob)
        return found
    finally:
        consumer.close()


def test_identifiers_never_in_clear_in_topics_tables_logs_or_metrics(platform: LocalPlatform) -> None:
    accepted = _send_identifiers(platform)
    assert wait_stored(platform, accepted, 60), platform.logs()
    time.sleep(2)
    metrics = httpx.get(f"{platform.base_url}/metrics", headers=platform.headers, timeout=10).text
    assert not _leaks(metrics)
    topics = _topics(platform.bootstrap)
    assert {"citybrain.events.v1", "citybrain.deadletter.v1"} <= set(topics), sorted(topics)
    for topic, blobs in topics.items():
        assert not _leaks(b"\n".join(blobs).decode(errors="replace")), topic
    _check_listening(platform)  # while everything runs
    platform.stop(timeout_s=30)
    chdb = platform.data_dir / "chdb"
    columns: dict[str, list[str]] = {}
    for r in query_chdb(chdb, "SELECT table, name FROM system.columns WHERE database = currentDatabase()"
                              " AND type LIKE '%String%' AND type NOT LIKE '%AggregateFunction%'"):
        columns.setdefault(r["table"], []).append(f"`{r['name']}`")
    assert {"events", "deadletters"} <= set(columns)
    rows = {t: json.dumps(query_chdb(chdb, f"SELECT {', '.join(cols)} FROM {t}"), ensure_ascii=False)
            for t, cols in columns.items()}
    assert "ps1:" in rows["events"] and "mv-sec-0" in rows["events"], "the records did not arrive"
    assert "mv-sec-bad" in rows["deadletters"] and "ev-sec-2" in rows["deadletters"], "rejects not kept"
    for table, text in rows.items():
        assert not _leaks(text), table
    for path in platform.data_dir.rglob("*"):
        if path.is_file() and chdb not in path.parents:
            assert not _leaks(path.read_bytes().decode(errors="replace")), path


def _descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
    found, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        kids = [p for p, parent in parents.items() if parent == pid and p not in found]
        found.update(kids)
        frontier.extend(kids)
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().as_posix()
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _check_listening(platform: LocalPlatform) -> None:
    assert platform.proc is not None
    pids = _descendants(platform.proc.pid)
    inodes = {inode: pid for pid in pids for inode in _socket_inodes(pid)}
    listening = []
    for table, state in (("tcp", "0A"), ("tcp6", "0A"), ("udp", "07"), ("udp6", "07")):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == state and cols[9] in inodes:
                address, port = cols[1].split(":")
                listening.append((table, address, int(port, 16), inodes[cols[9]]))
    assert listening, "found no listening socket at all: the inspection is broken"
    exposed = [s for s in listening if s[1] not in LOOPBACK]
    assert not exposed, f"listening beyond loopback: {exposed}"
    ports = {port for _, _, port, _ in listening}
    assert platform.port in ports and 6066 not in ports  # the API is seen; faust's web server is off

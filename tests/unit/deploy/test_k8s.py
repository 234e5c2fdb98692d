"""deploy/k8s: the rendered production overlay keeps the invariants the scaling rules depend on —
probes, PDBs, non-root pods, topics equal to streams.topics.all_topics, workers <= event partitions,
one alert writer — and the shipped secret placeholders are ones the platform refuses to run with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from brain_api.settings import ApiSettings, refuse_weak_admin_token
from ingest.errors import ConfigurationError
from ingest.settings import CommonSettings, PrivacySettings, refuse_default_secrets
from ingest.topics import EVENTS_TOPIC
from streams.settings import DetectionSettings, SinkSettings
from streams.topics import all_topics

ROOT = Path(__file__).resolve().parents[3]
Docs = list[dict[str, Any]]


def _one(docs: Docs, kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def _config(docs: Docs) -> dict[str, str]:
    return _one(docs, "ConfigMap", "citybrain-config")["data"]


def _containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    return deployment["spec"]["template"]["spec"]["containers"]


def test_every_manifest_file_parses_and_names_its_kind() -> None:
    files = sorted(p for p in (ROOT / "deploy/k8s").rglob("*.yaml") if p.parent.name != "adapter")
    assert len(files) >= 10
    for path in files:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            assert doc and "kind" in doc and ("apiVersion" in doc or doc["kind"] == "Kustomization"), path


def test_pods_run_unprivileged_with_bounded_resources(production: Docs) -> None:
    pods = [d["spec"]["template"] for d in production if d["kind"] in ("Deployment", "Job")]
    assert len(pods) == 6
    for pod in pods:
        spec = pod["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] != 0
        assert spec["serviceAccountName"] == "citybrain"
        for c in spec["containers"]:
            assert {"requests", "limits"} <= set(c["resources"]), c["name"]
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
            assert c["securityContext"]["readOnlyRootFilesystem"] is True
            assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
            assert c["image"].startswith("registry.example.org/") and not c["image"].endswith(":latest")


@pytest.mark.parametrize("name", ["citybrain-api", "citybrain-api-writer"])
def test_api_probes_liveness_on_healthz_and_readiness_on_readyz(production: Docs, name: str) -> None:
    (api,) = _containers(_one(production, "Deployment", name))
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["startupProbe"]["httpGet"]["path"] == "/healthz"


def test_worker_probes_its_metrics_port_from_inside(production: Docs) -> None:
    (worker,) = _containers(_one(production, "Deployment", "citybrain-worker"))
    port = _config(production)["CITYBRAIN_WORKER_METRICS_PORT"]
    assert worker["command"][-4:] == ["--metrics-port", port, "--metrics-host", "0.0.0.0"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert f"127.0.0.1:{port}/metrics" in " ".join(worker[probe]["exec"]["command"])


def test_scaled_deployments_have_disruption_budgets(production: Docs) -> None:
    budgets = {d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]: d["spec"]
               for d in production if d["kind"] == "PodDisruptionBudget"}
    for hpa in (d for d in production if d["kind"] == "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]["name"]
        deployment = _one(production, "Deployment", target)
        assert deployment["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] in budgets, target
        assert hpa["spec"]["minReplicas"] >= 2, f"{target}: a budget cannot protect a single replica"


def test_workers_never_outnumber_the_event_partitions(production: Docs, base: Docs) -> None:
    for docs in (production, base):
        partitions = int(_config(docs)["CITYBRAIN_KAFKA_PARTITIONS"])
        events = next(s for s in all_topics(partitions) if s.name == EVENTS_TOPIC)
        hpa = _one(docs, "HorizontalPodAutoscaler", "citybrain-worker")["spec"]
        assert hpa["minReplicas"] <= hpa["maxReplicas"] <= events.partitions
        sink = _one(docs, "HorizontalPodAutoscaler", "citybrain-sink")["spec"]
        assert sink["maxReplicas"] <= events.partitions


def test_autoscalers_follow_the_consumer_lag_of_their_own_groups(production: Docs) -> None:
    def lag_selector(name: str) -> dict[str, str]:
        metrics = _one(production, "HorizontalPodAutoscaler", name)["spec"]["metrics"]
        assert any(m["type"] == "Resource" and m["resource"]["name"] == "cpu" for m in metrics)
        (external,) = [m["external"] for m in metrics if m["type"] == "External"]
        assert external["metric"]["name"] == "citybrain_consumergroup_lag"
        return external["metric"]["selector"]["matchLabels"]

    assert lag_selector("citybrain-worker") == {"consumergroup": DetectionSettings().group_id, "topic": EVENTS_TOPIC}
    assert lag_selector("citybrain-sink") == {"consumergroup": SinkSettings().group_id}
    adapter = yaml.safe_load((ROOT / "deploy/k8s/adapter/prometheus-adapter-values.yaml").read_text())
    assert [r["name"]["as"] for r in adapter["rules"]["external"]] == ["citybrain_consumergroup_lag"]


def test_kafka_topics_match_streams_topics(production: Docs) -> None:
    partitions = int(_config(production)["CITYBRAIN_KAFKA_PARTITIONS"])
    crs = {d["spec"]["topicName"]: d["spec"] for d in production if d["kind"] == "KafkaTopic"}
    expected = {s.name: s for s in all_topics(partitions)}
    assert set(crs) == set(expected)
    brokers = sum(p["spec"]["replicas"] for p in production
                  if p["kind"] == "KafkaNodePool" and "broker" in p["spec"]["roles"])
    for name, spec in crs.items():
        assert spec["partitions"] == expected[name].partitions, name
        assert (spec["config"]["cleanup.policy"] == "compact") == expected[name].compacted, name
        assert spec["replicas"] <= brokers
        assert spec["replicas"] == int(_config(production)["CITYBRAIN_KAFKA_REPLICATION_FACTOR"])


def test_kafka_is_kraft_and_clickhouse_is_two_shards_by_two_replicas(production: Docs) -> None:
    kafka = _one(production, "Kafka", "citybrain")
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert _config(production)["CITYBRAIN_KAFKA_BOOTSTRAP"] == "citybrain-kafka-bootstrap:9092"
    chi = _one(production, "ClickHouseInstallation", "citybrain")["spec"]["configuration"]
    assert chi["clusters"][0]["layout"] == {"shardsCount": 2, "replicasCount": 2}
    keeper = _one(production, "ClickHouseKeeperInstallation", "citybrain-keeper")["spec"]["configuration"]
    assert keeper["clusters"][0]["layout"]["replicasCount"] == 3
    assert chi["zookeeper"]["nodes"][0]["host"] == "keeper-citybrain-keeper"


def test_alert_transitions_have_exactly_one_writer(production: Docs) -> None:
    writer = _one(production, "Deployment", "citybrain-api-writer")
    assert writer["spec"]["replicas"] == 1 and writer["spec"]["strategy"]["type"] == "Recreate"
    scaled = {d["spec"]["scaleTargetRef"]["name"] for d in production if d["kind"] == "HorizontalPodAutoscaler"}
    assert "citybrain-api-writer" not in scaled
    paths = _one(production, "Ingress", "citybrain")["spec"]["rules"][0]["http"]["paths"]
    route = {p["path"]: p["backend"]["service"]["name"] for p in paths}
    assert route["/api/v1/alerts"] == "citybrain-api-writer" and route["/"] == "citybrain-api"

    def escalation(name: str) -> str:
        env = _containers(_one(production, "Deployment", name))[0]["env"]
        return next(e["value"] for e in env if e["name"] == "CITYBRAIN_API_RUN_ESCALATION")

    assert (escalation("citybrain-api-writer"), escalation("citybrain-api")) == ("true", "false")


def test_worker_state_is_on_one_shared_volume(production: Docs) -> None:
    pod = _one(production, "Deployment", "citybrain-worker")["spec"]["template"]["spec"]
    (claim,) = [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v]
    assert _one(production, "PersistentVolumeClaim", claim)["spec"]["accessModes"] == ["ReadWriteMany"]
    mounts = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert _config(production)["CITYBRAIN_STATE_DIR"] in mounts


def test_config_and_secrets_name_only_settings_the_platform_reads(base: Docs, env_names: set[str]) -> None:
    names = set(_config(base)) | set(_one(base, "Secret", "citybrain-secrets")["stringData"])
    assert names and names <= env_names, names - env_names
    example = (ROOT / "deploy/k8s/overlays/production/secrets.env.example").read_text(encoding="utf-8")
    entries = [line for line in example.splitlines() if "=" in line and not line.startswith("#")]
    assert {line.split("=")[0] for line in entries} <= env_names


def test_secret_placeholders_are_refused_outside_dev(base: Docs) -> None:
    placeholders = _one(base, "Secret", "citybrain-secrets")["stringData"]
    prod = CommonSettings(env="prod")
    with pytest.raises(ConfigurationError):
        refuse_weak_admin_token(ApiSettings(admin_token=placeholders["CITYBRAIN_ADMIN_TOKEN"]), prod)
    privacy = PrivacySettings(hmac_keys=placeholders["CITYBRAIN_PRIVACY_HMAC_KEYS"])
    with pytest.raises(ConfigurationError):
        refuse_default_secrets(prod, privacy)
    refuse_default_secrets(CommonSettings(env="dev"), privacy)  # dev keeps working with them

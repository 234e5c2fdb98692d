"""deploy/compose and deploy/Dockerfile: the services exist, run as documented, use only settings the
platform reads, are health-checked, and publish nothing but the API beyond loopback."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_DIR = ROOT / "deploy/compose"
PLATFORM = ("migrate", "topics", "api", "worker", "sink", "mqtt-bridge")
_REQUIRED_VAR = re.compile(r"\$\{(\w+):\?")


def _env(service: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (service.get("environment") or {}).items()}


def test_every_engine_and_platform_process_is_a_service(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(PLATFORM) | {"kafka", "clickhouse", "prometheus", "grafana"} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")
    third_party = [s["image"] for name, s in services.items() if name not in PLATFORM]
    assert all(":" in image and not image.endswith(":latest") for image in third_party), third_party


def test_kafka_runs_in_kraft_mode_without_auto_created_topics(compose: dict[str, Any]) -> None:
    env = _env(compose["services"]["kafka"])
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert not any("ZOOKEEPER" in name for name in env)
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_platform_services_use_only_settings_the_platform_reads(compose: dict[str, Any],
                                                                env_names: set[str]) -> None:
    for name in PLATFORM:
        service = compose["services"][name]
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        unknown = {k for k in _env(service) if k.startswith("CITYBRAIN_")} - env_names
        assert not unknown, f"{name}: {unknown} is read by no settings class"
        assert _env(service)["CITYBRAIN_ENV"] == "prod"


def test_server_mode_is_selected_and_the_sink_runs_alone(compose: dict[str, Any]) -> None:
    services = compose["services"]
    api = _env(services["api"])
    assert api["CITYBRAIN_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert api["CITYBRAIN_CLICKHOUSE_URL"].startswith("clickhouse://")
    assert api["CITYBRAIN_API_RUN_SINK"] == "false"
    assert services["sink"]["command"] == ["python", "-m", "streams.storage.sink"]
    assert services["migrate"]["command"] == ["citybrain", "migrate"]
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_workers_scale_by_replicas_and_share_one_state_volume(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert str(worker["deploy"]["replicas"]).startswith("${CITYBRAIN_WORKERS")
    state_dir = _env(worker)["CITYBRAIN_STATE_DIR"]
    named = [v.split(":")[0] for v in worker["volumes"] if v.split(":")[1] == state_dir]
    assert named and named[0] in compose["volumes"], "snapshots must live on a named volume all workers mount"


def test_api_has_the_only_port_open_beyond_loopback(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            host_ip = str(port).split(":")[0] if str(port).count(":") == 2 else None
            if name != "api":
                assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond loopback"


def test_health_is_checked_on_the_platform_endpoints(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("kafka", "clickhouse", "api", "worker", "prometheus", "grafana"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])
    assert "9108/metrics" in " ".join(services["worker"]["healthcheck"]["test"])
    dockerfile = (ROOT / "deploy/Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", dockerfile, re.MULTILINE)


def test_dockerfile_is_multi_stage_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "deploy/Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) >= 2
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("0", "root")


def test_prometheus_scrapes_api_workers_and_consumer_lag() -> None:
    config = yaml.safe_load((COMPOSE_DIR / "prometheus.yml").read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    api = jobs["citybrain-api"]
    assert api["authorization"]["credentials_file"].startswith("/run/secrets/")
    assert api["dns_sd_configs"][0]["names"] == ["api"] and api["dns_sd_configs"][0]["port"] == 8000
    assert jobs["citybrain-worker"]["dns_sd_configs"][0]["port"] == 9108
    assert "kafka-exporter:9308" in jobs["kafka-exporter"]["static_configs"][0]["targets"]


def test_grafana_is_provisioned_from_the_dashboards_folder(compose: dict[str, Any]) -> None:
    mounts = compose["services"]["grafana"]["volumes"]
    assert any(m.startswith("../../dashboards/grafana:/etc/grafana/provisioning") for m in mounts)


def test_env_example_names_every_required_variable() -> None:
    required = set(_REQUIRED_VAR.findall((COMPOSE_DIR / "compose.yaml").read_text(encoding="utf-8")))
    example = (COMPOSE_DIR / ".env.example").read_text(encoding="utf-8")
    defined = {line.split("=", 1)[0] for line in example.splitlines() if "=" in line and not line.startswith("#")}
    assert required and required <= defined, required - defined


def test_topics_job_creates_the_topics_citybrain_up_creates(compose: dict[str, Any]) -> None:
    script = " ".join(compose["services"]["topics"]["command"])
    assert "deploy.topics import ensure_topics" in script and "CITYBRAIN_KAFKA_PARTITIONS" in script


def _compose_client() -> list[str] | None:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True,
                                                 timeout=30).returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def test_docker_compose_config_validates(tmp_path: Path) -> None:
    client = _compose_client()
    if client is None:
        pytest.skip("no docker compose client installed; the structural tests above still ran")
    source = (COMPOSE_DIR / "compose.yaml").read_text(encoding="utf-8")
    if client == ["docker-compose"]:  # compose v1 (1.29) predates the top-level `name:` of the spec
        source = re.sub(r"^name: .*\n", "", source, flags=re.MULTILINE)
    shutil.copytree(COMPOSE_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "compose.yaml").write_text(source, encoding="utf-8")
    (tmp_path / "secrets" / "metrics_token").write_text("token\n", encoding="utf-8")
    out = subprocess.run([*client, "--env-file", str(tmp_path / ".env.example"), "-f",
                          str(tmp_path / "compose.yaml"), "config"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert yaml.safe_load(out.stdout)["services"]["worker"]["deploy"]["replicas"] == 2

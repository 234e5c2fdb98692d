"""Write the Grafana dashboards (JSON, provisioned from dashboards/grafana/dashboards/) from one table of panels.

Generated rather than hand-edited so every panel shares one layout and datasource reference, and so a test
can check each query against what exists: Prometheus metric names against the `prometheus_client`
definitions in the code, ClickHouse tables against the migrations.

    python dashboards/grafana/build_dashboards.py        # rewrites dashboards/*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards"
PROM = {"type": "prometheus", "uid": "citybrain-prometheus"}
CH = {"type": "vertamedia-clickhouse-datasource", "uid": "citybrain-clickhouse"}

# (title, unit, [(legend, PromQL)])
PIPELINE: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("Events/s accepted per adapter", "ops", [
        ("{{adapter}}", "sum by (adapter) (rate(citybrain_ingest_accepted_total[1m]))")]),
    ("Events/s refused per adapter", "ops", [
        ("rejected {{adapter}}", "sum by (adapter) (rate(citybrain_ingest_rejected_total[1m]))"),
        ("duplicates {{adapter}}", "sum by (adapter) (rate(citybrain_ingest_duplicates_total[1m]))"),
        ("refused requests {{reason}}", "sum by (reason) (rate(citybrain_ingest_refused_requests_total[1m]))")]),
    ("Consumer lag (messages)", "short", [
        ("sink", "citybrain_sink_lag_messages"),
        # kafka-exporter (danielqsj) metric: lag of every consumer group, detection included
        ("{{consumergroup}}", 'sum by (consumergroup) (kafka_consumergroup_lag{consumergroup=~"citybrain-.*"})')]),
    ("Sink batch latency", "s", [
        ("p50 {{table}}",
         "histogram_quantile(0.5, sum by (le, table) (rate(citybrain_sink_batch_seconds_bucket[5m])))"),
        ("p99 {{table}}",
         "histogram_quantile(0.99, sum by (le, table) (rate(citybrain_sink_batch_seconds_bucket[5m])))")]),
    ("Sink rows/s per table", "ops", [("{{table}}", "sum by (table) (rate(citybrain_sink_rows_total[1m]))")]),
    ("Dead letters/s", "ops", [
        ("{{stage}}", "sum by (stage) (rate(citybrain_deadletters_total[5m]))"),
        ("sink undecodable", "rate(citybrain_sink_deadletters_total[5m])")]),
    ("Detector latency per batch", "s", [
        ("p50", "histogram_quantile(0.5, sum by (le) (rate(citybrain_detect_batch_seconds_bucket[5m])))"),
        ("p99", "histogram_quantile(0.99, sum by (le) (rate(citybrain_detect_batch_seconds_bucket[5m])))")]),
    ("Scored events, anomalies and alerts per second", "ops", [
        ("events scored", "rate(citybrain_detect_events_total[1m])"),
        ("anomalies", "rate(citybrain_detect_anomalies_total[1m])"),
        ("alerts", "rate(citybrain_fusion_alerts_total[1m])"),
        ("alerts suppressed", "rate(citybrain_fusion_alerts_suppressed_total[1m])")]),
    ("Sink health", "short", [
        ("paused", "max(citybrain_sink_paused)"),
        ("errors/s {{kind}}", "sum by (kind) (rate(citybrain_sink_errors_total[5m]))")]),
]

_STATE = ("(SELECT alert_id, argMax(to_state, version) AS state FROM citybrain.alert_transitions "
          "GROUP BY alert_id)")
# (title, kind, format, SQL) — Altinity plugin macros: $timeFilterByColumn(col), $interval (seconds)
CITY: list[tuple[str, str, str, str]] = [
    ("Events per interval by category", "timeseries", "time_series",
     "SELECT toStartOfInterval(time, INTERVAL $interval second) AS t, category, count() AS events "
     "FROM citybrain.events WHERE $timeFilterByColumn(time) GROUP BY t, category ORDER BY t"),
    ("Alerts per interval by department", "timeseries", "time_series",
     "SELECT toStartOfInterval(created_at, INTERVAL $interval second) AS t, department, uniqExact(id) AS alerts "
     "FROM citybrain.alerts WHERE $timeFilterByColumn(created_at) GROUP BY t, department ORDER BY t"),
    ("Open alerts by department and severity", "table", "table",
     "SELECT a.department, a.severity, count() AS open_alerts FROM "
     "(SELECT id, any(department) AS department, any(severity) AS severity FROM citybrain.alerts GROUP BY id) AS a "
     f"LEFT JOIN {_STATE} AS s ON s.alert_id = a.id "
     "WHERE s.state IN ('', 'open', 'escalated', 'acknowledged', 'dispatched') "
     "GROUP BY a.department, a.severity ORDER BY open_alerts DESC"),
    ("Time to acknowledge by department (s)", "table", "table",
     "SELECT a.department, quantile(0.5)(dateDiff('second', a.created_at, t.at)) AS p50_s, "
     "quantile(0.9)(dateDiff('second', a.created_at, t.at)) AS p90_s, count() AS acknowledged "
     "FROM (SELECT id, any(department) AS department, min(created_at) AS created_at FROM citybrain.alerts "
     "GROUP BY id) AS a INNER JOIN (SELECT alert_id, min(at) AS at FROM citybrain.alert_transitions "
     "WHERE to_state = 'acknowledged' GROUP BY alert_id) AS t ON t.alert_id = a.id "
     "WHERE $timeFilterByColumn(a.created_at) GROUP BY a.department ORDER BY p50_s DESC"),
    ("Hottest cells: anomalies in range", "table", "table",
     "SELECT cell, category, count() AS anomalies, uniqExact(device_id) AS devices, max(score) AS max_score "
     "FROM citybrain.anomalies WHERE $timeFilterByColumn(time) GROUP BY cell, category "
     "ORDER BY anomalies DESC LIMIT 25"),
    ("Anomalies per interval by detector", "timeseries", "time_series",
     "SELECT toStartOfInterval(time, INTERVAL $interval second) AS t, detector, count() AS anomalies "
     "FROM citybrain.anomalies WHERE $timeFilterByColumn(time) GROUP BY t, detector ORDER BY t"),
    ("Reporting devices per cell (last hour)", "table", "table",
     "SELECT cell, category, uniq(device_id) AS device_count, count() AS readings "
     "FROM citybrain.events WHERE time >= now() - INTERVAL 1 HOUR "
     "GROUP BY cell, category ORDER BY readings DESC LIMIT 50"),
]


def _grid(i: int) -> dict[str, int]:
    """Two panels per row, in table order."""
    return {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)}


def pipeline_dashboard() -> dict[str, Any]:
    panels = [{
        "id": i + 1, "type": "timeseries", "title": title, "datasource": PROM, "gridPos": _grid(i),
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": chr(65 + j), "datasource": PROM, "expr": expr, "legendFormat": legend}
                    for j, (legend, expr) in enumerate(targets)],
    } for i, (title, unit, targets) in enumerate(PIPELINE)]
    return _dashboard("citybrain-pipeline", "City Brain · pipeline health", panels, ["citybrain", "pipeline"])


def city_dashboard() -> dict[str, Any]:
    panels = [{
        "id": i + 1, "type": kind, "title": title, "datasource": CH, "gridPos": _grid(i),
        "targets": [{"refId": "A", "datasource": CH, "rawQuery": True, "query": sql, "format": fmt,
                     "database": "citybrain", "dateTimeType": "DATETIME64"}],
    } for i, (title, kind, fmt, sql) in enumerate(CITY)]
    return _dashboard("citybrain-city", "City Brain · city", panels, ["citybrain", "city"])


def _dashboard(uid: str, title: str, panels: list[dict[str, Any]], tags: list[str]) -> dict[str, Any]:
    return {
        "uid": uid, "title": title, "tags": tags, "timezone": "browser", "schemaVersion": 39, "version": 1,
        "editable": True, "refresh": "30s", "time": {"from": "now-6h", "to": "now"}, "panels": panels,
        "templating": {"list": []}, "annotations": {"list": []},
    }


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, board in (("pipeline-health.json", pipeline_dashboard()), ("city.json", city_dashboard())):
        (OUT / name).write_text(json.dumps(board, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Name what an anomaly means for the city: a *signal* (speed drop, crowd surge, sensor fault...) and the
incident family it belongs to. Fusion reasons about signals, not raw metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.records import Anomaly

FAULT_DETECTORS = frozenset({"flatline", "offline", "silence"})  # silence: it reports, but its bursts stopped


@dataclass(frozen=True)
class Signal:
    kind: str  # e.g. "speed_drop"
    family: str  # incident category (Smart Data Models Alert category)
    weight: float  # how much one such signal alone says an incident is real


# (event category, metric, direction) -> signal; direction +1 = above baseline, -1 = below, 0 = either
_TABLE: dict[tuple[str, str, int], Signal] = {
    ("traffic", "speed_kmh", -1): Signal("speed_drop", "traffic", 0.75),
    ("traffic", "occupancy", +1): Signal("occupancy_rise", "traffic", 0.7),
    ("traffic", "speed_kmh", +1): Signal("free_flow", "traffic", 0.1),  # faster than usual is no incident
    ("traffic", "occupancy", -1): Signal("occupancy_drop", "traffic", 0.1),
    ("traffic", "flow", -1): Signal("flow_drop", "traffic", 0.4),
    ("traffic", "flow", +1): Signal("flow_rise", "traffic", 0.3),
    # one passing car is a noisy series: its speed corroborates, it never opens an incident by itself
    ("vehicle", "speed_kmh", +1): Signal("speeding", "traffic", 0.1),
    ("vehicle", "speed_kmh", -1): Signal("slow_vehicles", "traffic", 0.2),
    ("crowd", "count", +1): Signal("crowd_surge", "security", 0.9),
    ("crowd", "count", -1): Signal("crowd_thin", "security", 0.05),
    ("air", "pm25", +1): Signal("pollution", "environment", 0.85),
    ("air", "no2", +1): Signal("pollution", "environment", 0.85),
    ("air", "pm25", -1): Signal("cleaner_air", "environment", 0.05),
    ("air", "no2", -1): Signal("cleaner_air", "environment", 0.05),
    ("water", "level_m", +1): Signal("water_rise", "naturalDisaster", 0.85),
    ("manhole", "level_m", +1): Signal("water_rise", "naturalDisaster", 0.8),
    ("manhole", "tilt_deg", 0): Signal("manhole_tilt", "infrastructure", 0.85),
    ("fire", "smoke", +1): Signal("smoke", "security", 0.9),
    ("fire", "temperature_c", +1): Signal("heat", "security", 0.6),
    ("wearable", "heart_rate", 0): Signal("vital_sign", "health", 0.7),
}
_FAMILY = {"traffic": "traffic", "vehicle": "traffic", "air": "environment", "crowd": "security",
           "water": "naturalDisaster", "manhole": "infrastructure", "fire": "security", "wearable": "health"}
_REPORT_FAMILY = {"traffic": "traffic", "air": "environment", "water": "naturalDisaster",
                  "manhole": "infrastructure", "crowd": "security", "fire": "security", "wearable": "health"}


def signal_of(anomaly: Anomaly) -> Signal:
    """Classify an anomaly. Device faults are maintenance work, never fused with city incidents.

    >>> from tests.factories import make_anomaly
    >>> signal_of(make_anomaly(metric="speed_kmh", observed=8.0, expected=45.0)).kind
    'speed_drop'
    """
    if anomaly.detector in FAULT_DETECTORS:
        return Signal("sensor_fault", "infrastructure", 0.95)
    if anomaly.detector == "citizen_report":
        return Signal("report", _REPORT_FAMILY.get(anomaly.category, "infrastructure"), 0.5)
    if anomaly.detector == "multivariate":  # several metrics moved together: corroborates, never alone
        return Signal(f"{anomaly.category}_joint", _FAMILY.get(anomaly.category, "infrastructure"), 0.4)
    direction = 1 if anomaly.observed >= anomaly.expected else -1
    for d in (direction, 0):
        found = _TABLE.get((anomaly.category, anomaly.metric, d))
        if found:
            return found
    # an unnamed deviation corroborates an incident but is not one by itself
    family = _FAMILY.get(anomaly.category, "infrastructure")
    return Signal(f"{anomaly.metric}_{'rise' if direction > 0 else 'drop'}", family, 0.3)


def sub_category(family: str, kinds: frozenset[str]) -> str:
    """Name the incident from the signals seen so far (Smart Data Models subCategory vocabulary).

    >>> sub_category("traffic", frozenset({"speed_drop", "occupancy_rise", "crowd_surge"}))
    'carAccident'
    >>> sub_category("traffic", frozenset({"speed_drop"}))
    'trafficJam'
    """
    if "sensor_fault" in kinds:
        return "sensorFailure"
    if family == "traffic":
        if {"speed_drop", "occupancy_rise"} <= kinds and kinds & {"crowd_surge", "report"}:
            return "carAccident"
        return "trafficJam"
    security = "crowdSurge" if "crowd_surge" in kinds else "fire" if kinds & {"smoke", "heat"} else "suspiciousAction"
    return {
        "security": security,
        "environment": "airPollution",
        "naturalDisaster": "flood",
        "health": "healthEmergency",
        "infrastructure": "manholeDisplaced" if "manhole_tilt" in kinds else "facilityFault",
    }.get(family, "other")

// Where something is happening now: a pulsing ring at each active alert (open or escalated) and a steady
// dot once someone is on it (acknowledged, dispatched). Closed alerts leave the map. Capped so that a
// storm of alerts cannot turn the map into hundreds of running CSS animations.

import L from "leaflet";

const PULSING = new Set(["open", "escalated"]);
const STEADY = new Set(["acknowledged", "dispatched"]);
const MAX_MARKERS = 300;

export function createIncidentLayer(map, { onSelect, locate }) {
  const group = L.layerGroup().addTo(map);
  const markers = new Map();

  function icon(alert) {
    const kind = PULSING.has(alert.state) ? "cb-pulse" : "cb-steady";
    return L.divIcon({
      className: "cb-incident",
      html: `<span class="${kind} sev-${alert.severity}" data-alert-marker="${alert.id}"></span>`,
      iconSize: [22, 22],
    });
  }

  function where(alert) {
    if (Number.isFinite(alert.lat) && Number.isFinite(alert.lon)) return L.latLng(alert.lat, alert.lon);
    return alert.cell ? locate(alert.cell) : null;
  }

  return {
    upsert(alert) {
      const existing = markers.get(alert.id);
      if (!PULSING.has(alert.state) && !STEADY.has(alert.state)) {
        if (existing) group.removeLayer(existing);
        markers.delete(alert.id);
        return;
      }
      const at = where(alert);
      if (!at) return;
      if (existing) {
        existing.setLatLng(at).setIcon(icon(alert));
        return;
      }
      if (markers.size >= MAX_MARKERS) return;
      const marker = L.marker(at, { icon: icon(alert), pane: "incidents", keyboard: false });
      marker.on("click", () => onSelect(alert.id));
      marker.addTo(group);
      markers.set(alert.id, marker);
    },
    size: () => markers.size,
  };
}

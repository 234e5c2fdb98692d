// The map: no base tiles needed (a closed command-center network has none) — the city's district
// outlines and the H3 grid cells coloured by state are the picture; tiles are added only when a tile URL
// is configured. Cells are SVG paths so they can be restyled in place when a `cell` event arrives and so
// tests can see them (`path.cb-cell[data-status]`).

import L from "leaflet";

export const STATUS_COLOURS = { normal: "#2e7d5b", warning: "#f0a202", alert: "#e5383b" };

export function createMap(el, { city, tileUrl, tileAttribution }) {
  const map = L.map(el, { zoomSnap: 0.5, minZoom: 8, maxZoom: 18, attributionControl: Boolean(tileUrl) });
  if (tileUrl) L.tileLayer(tileUrl, { attribution: tileAttribution || "", maxZoom: 19 }).addTo(map);
  map.createPane("cells").style.zIndex = 350;
  map.createPane("devices").style.zIndex = 420;
  map.createPane("incidents").style.zIndex = 640;
  if (city && city.features && city.features.length) {
    const outlines = L.geoJSON(city, {
      interactive: false,
      style: { className: "cb-district", color: "#5c7cab", weight: 1.5, fill: false },
    }).addTo(map);
    map.fitBounds(outlines.getBounds(), { padding: [10, 10] });
  } else {
    map.setView([30.2741, 120.1551], 12);
  }
  return map;
}

/** `minLon,minLat,maxLon,maxLat` of the visible map, the order GeoJSON and the API use. */
export function bboxParam(map) {
  const b = map.getBounds();
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
}

/** One number for a cell's heat: the API may give a number or a {metric: value} object. */
export function heatOf(heat) {
  if (typeof heat === "number") return heat;
  if (heat && typeof heat === "object") return Math.max(0, ...Object.values(heat).filter(Number.isFinite));
  return 0;
}

export function cellStyle(props) {
  const status = props.status in STATUS_COLOURS ? props.status : "normal";
  const heat = Math.min(1, Math.max(0, heatOf(props.heat)));
  return {
    color: STATUS_COLOURS[status],
    weight: status === "normal" ? 0.6 : 1.6,
    fillColor: STATUS_COLOURS[status],
    fillOpacity: status === "normal" ? 0.06 + 0.3 * heat : 0.35 + 0.3 * heat,
  };
}

export function createCellLayer(map) {
  const renderer = L.svg({ pane: "cells", padding: 0.5 });
  const group = L.layerGroup().addTo(map);
  const byCell = new Map();

  function mark(layer, props) {
    const el = layer.getElement();
    if (!el) return;
    el.dataset.cell = props.cell;
    el.dataset.status = props.status || "normal";
  }

  function upsert(feature) {
    const props = feature.properties || {};
    const existing = byCell.get(props.cell);
    if (existing) {
      const old = existing.feature.properties;
      // a refresh mostly repeats what is drawn: touching 1,000+ SVG paths for nothing costs frames
      if (old.status === props.status && old.heat === props.heat && old.open_incidents === props.open_incidents) {
        return existing;
      }
      existing.feature.properties = { ...old, ...props };
      existing.setStyle(cellStyle(existing.feature.properties));
      mark(existing, existing.feature.properties);
      return existing;
    }
    const layer = L.geoJSON(feature, {
      renderer,
      pane: "cells",
      interactive: false,
      style: () => ({ ...cellStyle(props), className: "cb-cell" }),
    }).getLayers()[0];
    layer.addTo(group);
    mark(layer, props);
    byCell.set(props.cell, layer);
    return layer;
  }

  return {
    /** Replace the drawn cells by a fresh FeatureCollection (after a pan/zoom). */
    replaceAll(collection) {
      const seen = new Set();
      for (const f of collection.features || []) {
        if (!f.properties || !f.properties.cell) continue;
        seen.add(f.properties.cell);
        upsert(f);
      }
      for (const [cell, layer] of byCell) {
        if (!seen.has(cell)) {
          group.removeLayer(layer);
          byCell.delete(cell);
        }
      }
    },
    /** Apply a live `cell` event; returns false when the cell is not drawn yet (caller refetches). */
    update(props) {
      const layer = byCell.get(props.cell);
      if (!layer) return false;
      upsert({ type: "Feature", properties: props, geometry: layer.feature.geometry });
      return true;
    },
    centre(cell) {
      const layer = byCell.get(cell);
      return layer ? layer.getBounds().getCenter() : null;
    },
    size: () => byCell.size,
  };
}

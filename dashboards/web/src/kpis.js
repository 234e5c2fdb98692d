// The KPI strip: how fast alerts are being handled, the numbers city brains are judged by (issue 6:
// time to acknowledge/resolve, share handled within 5 minutes, false-positive rate), plus the open count
// the queue knows locally. `GET /api/v1/kpis?period=week` answers one row per department and week; the
// strip folds them into one city figure, weighting each row by its alert count (so a percentile shown
// here is the alert-weighted mean of the departments' percentiles, labelled "≈").

import { formatDuration, formatShare } from "./format.js";
import { t } from "./i18n.js";

const WEIGHTED = {
  ack_p50: "ack_p50_s",
  resolve_p50: "resolve_p50_s",
  within_5m: "handled_within_5min",
  fp_rate: "false_positive_rate",
};

/** Fold per-department rows ({data: [...]}) into the strip's numbers; missing values stay null. */
export function summarise(kpis) {
  const rows = (kpis && Array.isArray(kpis.data) && kpis.data) || [];
  const out = { alerts: rows.length ? rows.reduce((n, r) => n + (r.alerts || 0), 0) : null };
  for (const [key, field] of Object.entries(WEIGHTED)) {
    let sum = 0;
    let weight = 0;
    for (const r of rows) {
      if (!Number.isFinite(r[field]) || !r.alerts) continue;
      sum += r[field] * r.alerts;
      weight += r.alerts;
    }
    out[key] = weight ? sum / weight : null;
  }
  return out;
}

export function renderKpis(strip, kpis, openCount) {
  const s = summarise(kpis);
  const items = [
    ["kpi_open", String(openCount)],
    ["kpi_alerts", s.alerts === null ? "—" : String(s.alerts)],
    ["kpi_ack_p50", formatDuration(s.ack_p50)],
    ["kpi_resolve_p50", formatDuration(s.resolve_p50)],
    ["kpi_within_5m", formatShare(s.within_5m)],
    ["kpi_fp_rate", formatShare(s.fp_rate)],
  ];
  strip.innerHTML = items
    .map(([k, v]) => `<div class="kpi" data-kpi="${k}"><span class="v">${v}</span><span class="k">${t(k)}</span></div>`)
    .join("");
}

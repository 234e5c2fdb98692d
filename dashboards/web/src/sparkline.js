// The evidence picture: a device metric's recent series, the detector's baseline (expected values) as a
// dashed line, and the points judged anomalous in red — enough to see at a glance whether an alert is a
// real departure or noise. Pure SVG string building, so it is cheap and testable without a browser.

const NS = "http://www.w3.org/2000/svg";

function extent(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.08;
  return [lo - pad, hi + pad];
}

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

/**
 * points: [{t: ms, v: number}] series; baseline: [{t, v}] expected values (may be one point, drawn flat);
 * anomalies: [{t, v}] marked points. Returns an SVG element string.
 */
export function sparklineSvg({ points = [], baseline = [], anomalies = [], width = 280, height = 64, label = "" }) {
  const all = [...points, ...baseline, ...anomalies];
  if (!all.length) return `<svg xmlns="${NS}" class="cb-spark" width="${width}" height="${height}"></svg>`;
  const [t0, t1] = extent(all.map((p) => p.t));
  const [v0, v1] = extent(all.map((p) => p.v));
  const x = (t) => (((t - t0) / (t1 - t0)) * (width - 4) + 2).toFixed(1);
  const y = (v) => (height - 2 - ((v - v0) / (v1 - v0)) * (height - 4)).toFixed(1);
  const line = (ps) => ps.map((p, i) => `${i ? "L" : "M"}${x(p.t)},${y(p.v)}`).join("");
  const base =
    baseline.length === 1
      ? `M2,${y(baseline[0].v)}H${width - 2}`
      : line([...baseline].sort((a, b) => a.t - b.t));
  const dots = anomalies.map((p) => `<circle class="cb-spark-anomaly" cx="${x(p.t)}" cy="${y(p.v)}" r="3"/>`);
  return (
    `<svg xmlns="${NS}" class="cb-spark" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"` +
    ` role="img" aria-label="${esc(label)}">` +
    (baseline.length ? `<path class="cb-spark-baseline" d="${base}"/>` : "") +
    (points.length ? `<path class="cb-spark-series" d="${line([...points].sort((a, b) => a.t - b.t))}"/>` : "") +
    dots.join("") +
    "</svg>"
  );
}

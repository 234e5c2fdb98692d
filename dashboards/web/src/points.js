// Device points as typed arrays in Web-Mercator pixels at zoom 0 (no Leaflet here, so it is testable
// in Node): projecting once means a redraw is one multiply-add per point, whatever the zoom.

export const STATUS_RGBA = {
  normal: [120, 170, 220, 255],
  warning: [240, 162, 2, 255],
  alert: [229, 56, 59, 255],
  offline: [110, 110, 120, 255],
};
export const STATUSES = Object.keys(STATUS_RGBA);

/** Web-Mercator pixel coordinates at zoom 0 (256 px world), the same projection Leaflet uses. */
export function project(lat, lon) {
  const clamped = Math.max(-85.0511, Math.min(85.0511, lat));
  const s = Math.sin((clamped * Math.PI) / 180);
  return [(256 * (lon + 180)) / 360, 128 - (256 / (4 * Math.PI)) * Math.log((1 + s) / (1 - s))];
}

/** Split a device FeatureCollection into typed point arrays and a short list of clusters. */
export function packFeatures(features) {
  const points = features.filter((f) => !(f.properties && f.properties.cluster));
  const xs = new Float64Array(points.length);
  const ys = new Float64Array(points.length);
  const status = new Uint8Array(points.length);
  points.forEach((f, i) => {
    const [lon, lat] = f.geometry.coordinates;
    [xs[i], ys[i]] = project(lat, lon);
    const k = STATUSES.indexOf(f.properties && f.properties.status);
    status[i] = k < 0 ? 0 : k;
  });
  const clusters = features
    .filter((f) => f.properties && f.properties.cluster)
    .map((f) => {
      const [lon, lat] = f.geometry.coordinates;
      const [x, y] = project(lat, lon);
      return { x, y, count: f.properties.count || 0, status: f.properties.status || "normal" };
    });
  return { xs, ys, status, clusters };
}

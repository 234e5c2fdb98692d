// Devices on one canvas, so a whole city stays smooth. The API clusters server-side, but the layer is
// built for the worst case of 100,000 single devices: points are projected to Web-Mercator pixels at
// zoom 0 once, kept in typed arrays, and drawn straight into an ImageData buffer (no per-point canvas
// calls). While dragging, Leaflet moves the pane with a CSS transform, so no frame redraws anything;
// the canvas is drawn with a margin around the view and redrawn only when the move ends.

import L from "leaflet";

import { packFeatures, STATUS_RGBA, STATUSES } from "./points.js";

const PADDING = 0.3; // canvas covers the view plus 30% of it on each side

export const DeviceLayer = L.Layer.extend({
  initialize() {
    this._data = packFeatures([]);
  },
  onAdd(map) {
    this._canvas = L.DomUtil.create("canvas", "cb-devices leaflet-zoom-hide");
    map.getPane("devices").appendChild(this._canvas);
    map.on("moveend zoomend resize viewreset", this._schedule, this);
    this._draw();
  },
  onRemove(map) {
    map.off("moveend zoomend resize viewreset", this._schedule, this);
    L.DomUtil.remove(this._canvas);
  },
  /** Points already packed (see device_feed.js), so nothing heavy runs on the main thread. */
  setPacked(packed) {
    this._data = packed;
    if (this._map) this._schedule();
  },
  /** Several triggers in one frame (moveend + zoomend + new data) draw once, in the next frame. */
  _schedule() {
    if (this._frame) return;
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      if (this._map) this._draw();
    });
  },
  count() {
    return this._data.xs.length + this._data.clusters.reduce((n, c) => n + c.count, 0);
  },
  _draw() {
    const map = this._map;
    const size = map.getSize();
    const pad = size.multiplyBy(PADDING).round();
    const topLeft = map.containerPointToLayerPoint(pad.multiplyBy(-1)).round();
    const width = size.x + 2 * pad.x;
    const height = size.y + 2 * pad.y;
    const canvas = this._canvas;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    L.DomUtil.setPosition(canvas, topLeft);
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, width, height);
    // layer point = world pixel * 2^zoom - pixel origin; canvas point = layer point - topLeft
    const scale = 2 ** map.getZoom();
    const origin = map.getPixelOrigin();
    const ox = origin.x + topLeft.x;
    const oy = origin.y + topLeft.y;
    const { xs, ys, status, clusters } = this._data;
    if (xs.length) {
      // reuse one pixel buffer: allocating ~10 MB per redraw shows up as a long frame
      if (!this._image || this._image.width !== width || this._image.height !== height) {
        this._image = ctx.createImageData(width, height);
        this._pixels = new Uint32Array(this._image.data.buffer);
      }
      const image = this._image;
      const px = this._pixels;
      px.fill(0);
      const colours = STATUSES.map((s) => {
        const [r, g, b, a] = STATUS_RGBA[s];
        return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0; // little-endian RGBA
      });
      for (let i = 0; i < xs.length; i++) {
        const x = Math.round(xs[i] * scale - ox);
        const y = Math.round(ys[i] * scale - oy);
        if (x < 1 || y < 1 || x >= width - 1 || y >= height - 1) continue;
        const c = colours[status[i]];
        const row = y * width + x;
        px[row - width] = c;
        px[row - 1] = c;
        px[row] = c;
        px[row + 1] = c;
        px[row + width] = c;
      }
      ctx.putImageData(image, 0, 0);
    }
    ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    for (const c of clusters) {
      const x = c.x * scale - ox;
      const y = c.y * scale - oy;
      const r = 9 + Math.min(16, Math.log10(Math.max(1, c.count)) * 5);
      const [cr, cg, cb] = STATUS_RGBA[c.status] || STATUS_RGBA.normal;
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fillStyle = `rgba(${cr},${cg},${cb},0.75)`;
      ctx.fill();
      ctx.fillStyle = "#fff";
      ctx.fillText(c.count >= 1000 ? `${Math.round(c.count / 100) / 10}k` : String(c.count), x, y);
    }
    this._drawnAt = performance.now();
  },
});

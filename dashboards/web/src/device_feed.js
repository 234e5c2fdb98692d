// The device layer's data source: a worker that fetches and packs `GET /api/v1/map/devices` (see
// devices.worker.js). Only the newest request's answer is used, so a fast pan never paints stale points.
// Browsers without module workers fall back to doing the same on the main thread.

import { queryString } from "./api.js";
import { packFeatures } from "./points.js";

export function createDeviceFeed({ base = "", token }) {
  let worker = null;
  try {
    worker = new Worker(new URL("devices.worker.js", import.meta.url), { type: "module" });
  } catch {
    worker = null;
  }
  let seq = 0;
  const pending = new Map();
  if (worker) {
    worker.onmessage = ({ data }) => {
      const waiter = pending.get(data.id);
      pending.delete(data.id);
      if (waiter) (data.ok ? waiter.resolve(data.packed) : waiter.reject(new Error(data.error)));
    };
  }

  return {
    /** Packed devices for the view; rejects with AbortError when a newer request superseded it. */
    async load(params) {
      const id = ++seq;
      const url = new URL(`${base}/api/v1/map/devices${queryString(params)}`, window.location.href).href;
      let packed;
      if (worker) {
        packed = await new Promise((resolve, reject) => {
          pending.set(id, { resolve, reject });
          worker.postMessage({ id, url, token: token() });
        });
      } else {
        const res = await fetch(url, { headers: { Authorization: `Bearer ${token()}` } });
        if (!res.ok) throw new Error(`devices answered ${res.status}`);
        packed = packFeatures((await res.json()).features || []);
      }
      if (id !== seq) throw new DOMException("superseded", "AbortError");
      return packed;
    },
  };
}

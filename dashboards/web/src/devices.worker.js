// Fetches and packs the device layer off the main thread: parsing a large GeoJSON answer (up to 100,000
// devices when the server does not cluster) would otherwise stall the map for hundreds of milliseconds.
// The typed arrays are transferred back, not copied.

import { packFeatures } from "./points.js";

self.onmessage = async ({ data: { id, url, token } }) => {
  try {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(url, { headers });
    if (!res.ok) throw new Error(`devices answered ${res.status}`);
    const collection = await res.json();
    const packed = packFeatures(collection.features || []);
    self.postMessage({ id, ok: true, packed }, [packed.xs.buffer, packed.ys.buffer, packed.status.buffer]);
  } catch (err) {
    self.postMessage({ id, ok: false, error: String(err) });
  }
};

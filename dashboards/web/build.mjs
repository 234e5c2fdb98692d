// Build the page into dist/: one bundled ES module (Leaflet vendored in, so no CDN at run time), the
// stylesheets, Leaflet's images and the run-time config. The city outline (dist/city.geojson) comes
// from dashboards/tools/city_geojson.py; `make -C dashboards` runs both.
import { build } from "esbuild";
import { copyFileSync, cpSync, mkdirSync } from "node:fs";

const dist = "dist/";
mkdirSync(dist, { recursive: true });
await build({
  entryPoints: { app: "src/main.js", "devices.worker": "src/devices.worker.js" },
  bundle: true,
  format: "esm",
  minify: true,
  sourcemap: false, // dist is committed: keep it small; src/ is the readable source
  target: ["chrome110", "firefox110", "safari16"],
  outdir: dist,
  logLevel: "info",
});
for (const f of ["index.html", "app.css", "config.json"]) copyFileSync(`src/${f}`, dist + f);
copyFileSync("node_modules/leaflet/dist/leaflet.css", `${dist}leaflet.css`);
cpSync("node_modules/leaflet/dist/images", `${dist}images`, { recursive: true });

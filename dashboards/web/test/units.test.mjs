// Unit tests of the page's pure logic, run by `node --test` (and by pytest through
// tests/unit/dashboards/test_web_units.py). Browser behaviour is covered in tests/e2e/.
import assert from "node:assert/strict";
import { test } from "node:test";

import { actionsFor, allowedActions, tokenFromHash } from "../src/auth.js";
import { queryString } from "../src/api.js";
import { pickLanguage } from "../src/i18n.js";
import { summarise } from "../src/kpis.js";
import { parseBlock, splitBlocks } from "../src/live.js";
import { packFeatures, project } from "../src/points.js";
import { matches } from "../src/queue.js";
import { sparklineSvg } from "../src/sparkline.js";
import { sparkInputs } from "../src/detail.js";

test("the token is taken from the fragment and the rest of the fragment kept", () => {
  assert.deepEqual(tokenFromHash("#token=abc.def"), ["abc.def", ""]);
  assert.deepEqual(tokenFromHash("#view=map&token=s3cret"), ["s3cret", "#view=map"]);
  assert.deepEqual(tokenFromHash(""), [null, ""]);
});

test("what a role may not do is not offered", () => {
  assert.deepEqual(allowedActions({ role: "engineer" }), []);
  assert.deepEqual(actionsFor({ role: "operator" }, "open"), ["ack", "dispatch", "false-positive", "escalate"]);
  assert.deepEqual(actionsFor({ role: "admin" }, "resolved"), []);
  assert.deepEqual(actionsFor({ role: "grid-worker" }, "dispatched"), ["resolve", "false-positive", "escalate"]);
  assert.deepEqual(actionsFor({ role: "operator", actions: ["ack"] }, "open"), ["ack"]);
  assert.deepEqual(actionsFor(null, "open"), []);
});

test("zh-CN is the default when the browser asks for any Chinese first", () => {
  assert.equal(pickLanguage(null, ["zh-TW", "en"]), "zh-CN");
  assert.equal(pickLanguage(null, ["en-GB", "zh-CN"]), "en");
  assert.equal(pickLanguage("en", ["zh-CN"]), "en");
  assert.equal(pickLanguage("klingon", []), "en");
});

test("SSE blocks split on blank lines, CRLF included, keeping the unfinished rest", () => {
  const [blocks, rest] = splitBlocks("id: 1\r\nevent: alert\r\ndata: {\"id\":\"a\"}\r\n\r\n: keepalive\n\nid: 2\ndata: {");
  assert.equal(blocks.length, 2);
  assert.equal(rest, "id: 2\ndata: {");
  assert.deepEqual(parseBlock(blocks[0]), { event: "alert", id: "1", data: '{"id":"a"}' });
  assert.equal(parseBlock(blocks[1]), null);
  assert.deepEqual(parseBlock("data: a\ndata: b"), { event: "message", id: null, data: "a\nb" });
});

test("empty filters are not sent, and live alerts are matched against the active ones", () => {
  assert.equal(queryString({ state: "open", severity: "", cursor: null }), "?state=open");
  assert.equal(queryString({}), "");
  assert.ok(matches({ state: "open", severity: "high" }, { state: "open", severity: "" }));
  assert.ok(!matches({ state: "resolved" }, { state: "open" }));
});

test("KPI rows fold into alert-weighted city figures", () => {
  const s = summarise({ data: [
    { department: "traffic", alerts: 3, ack_p50_s: 60, resolve_p50_s: null, handled_within_5min: 1, false_positive_rate: 0 },
    { department: "health", alerts: 1, ack_p50_s: 300, resolve_p50_s: 900, handled_within_5min: 0, false_positive_rate: 1 },
  ] });
  assert.deepEqual(s, { alerts: 4, ack_p50: 120, resolve_p50: 900, within_5m: 0.75, fp_rate: 0.25 });
  assert.deepEqual(summarise(null), { alerts: null, ack_p50: null, resolve_p50: null, within_5m: null, fp_rate: null });
});

test("projection matches Leaflet's zoom-0 Web Mercator and points pack into typed arrays", () => {
  const [x, y] = project(0, 0);
  assert.equal(x, 128);
  assert.ok(Math.abs(y - 128) < 1e-9);
  const packed = packFeatures([
    { geometry: { coordinates: [120.1, 30.2] }, properties: { device_id: "a", status: "alert" } },
    { geometry: { coordinates: [120.2, 30.3] }, properties: { cluster: true, count: 1500, status: "warning" } },
    { geometry: { coordinates: [120.3, 30.4] }, properties: { device_id: "b", status: "weird" } },
  ]);
  assert.equal(packed.xs.length, 2);
  assert.deepEqual([...packed.status], [2, 0]);
  assert.equal(packed.clusters[0].count, 1500);
});

test("the sparkline marks the anomalous point and draws the baseline", () => {
  const ev = { time: "2026-11-21T10:00:00Z", observed: 5, expected: 44 };
  const series = { points: [0, 1, 2].map((i) => ({ time: `2026-11-21T09:5${7 + i}:00Z`, value: 42 + i })), anomalies: [] };
  const input = sparkInputs(ev, series);
  assert.equal(input.points.length, 3);
  assert.deepEqual(input.anomalies, [{ t: Date.parse(ev.time), v: 5 }]);
  const svg = sparklineSvg({ ...input, label: "<x>" });
  assert.match(svg, /class="cb-spark-series"/);
  assert.match(svg, /class="cb-spark-baseline" d="M2,[\d.]+H278"/);
  assert.equal((svg.match(/cb-spark-anomaly/g) || []).length, 1);
  assert.match(svg, /aria-label="&lt;x&gt;"/);
  assert.doesNotMatch(sparklineSvg({}), /path/);
});

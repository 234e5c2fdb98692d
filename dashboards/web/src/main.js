// Boot: language, token, who am I, then the map, the queue, the KPI strip and the live stream.
// Where to start reading: map.js (cells), devices.js (100k-point canvas), queue.js + detail.js (work the
// alerts), live.js (SSE with resume), auth.js (token, what a role is offered).

import { createApi } from "./api.js";
import { actionsFor, forgetToken, storedToken, storeToken, takeFragmentToken } from "./auth.js";
import { createDetail } from "./detail.js";
import { createDeviceFeed } from "./device_feed.js";
import { DeviceLayer } from "./devices.js";
import { initLanguage, t, toggleLanguage } from "./i18n.js";
import { createIncidentLayer } from "./incidents.js";
import { renderKpis } from "./kpis.js";
import { connectLive } from "./live.js";
import { bboxParam, createCellLayer, createMap } from "./map.js";
import { createQueue } from "./queue.js";

const $ = (sel) => document.querySelector(sel);
const KEY_ACTIONS = { a: "ack", d: "dispatch", r: "resolve", f: "false-positive", e: "escalate" };
const ACTIVE = new Set(["open", "escalated", "acknowledged", "dispatched"]);

async function loadJson(url, fallback) {
  try {
    const res = await fetch(url, { cache: "no-cache" });
    return res.ok ? await res.json() : fallback;
  } catch {
    return fallback;
  }
}

function showLogin(message = "") {
  $("#app").hidden = true;
  $("#login").hidden = false;
  $("#login .error").textContent = message;
  $("#login input[name=token]").focus();
}

async function whoAmI(api) {
  return api.get("/api/v1/me");
}

async function start(api, me) {
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#whoami").textContent = me.department ? `${me.role} · ${me.department}` : me.role;
  const [config, city] = await Promise.all([loadJson("config.json", {}), loadJson("city.geojson", null)]);
  const map = createMap($("#map"), { city, tileUrl: config.tile_url, tileAttribution: config.tile_attribution });
  const cells = createCellLayer(map);
  const devices = new DeviceLayer().addTo(map);
  const deviceFeed = createDeviceFeed({ base: api.base, token: api.token });
  let kpis = null;
  let openCount = 0;

  const detail = createDetail({ panel: $("#detail"), api, me: () => me, onAction: (id, a) => perform(id, a) });
  const incidents = createIncidentLayer(map, { onSelect: (id) => queue.select(id, true), locate: (c) => cells.centre(c) });
  const queue = createQueue({
    list: $("#alert-list"),
    filterForm: $("#filters"),
    moreButton: $("#more"),
    api,
    onSelect: (id) => detail.current() !== id && detail.open(id, queue.get(id)).catch(() => {}),
    onChange: (alerts) => {
      openCount = alerts.filter((a) => ACTIVE.has(a.state)).length;
      renderKpis($("#kpis"), kpis, openCount);
      for (const a of alerts) incidents.upsert(a);
    },
  });

  let inflight = null;
  let timer = null;
  async function refreshMap() {
    if (inflight) inflight.abort();
    inflight = new AbortController();
    const params = { bbox: bboxParam(map), zoom: Math.round(map.getZoom()) };
    const settle = (p) => p.catch((err) => err.name !== "AbortError" && console.warn("map refresh failed", err));
    await Promise.all([
      settle(api.get("/api/v1/map/cells", params, inflight.signal).then((fc) => {
        cells.replaceAll(fc);
        $("#map").dataset.cells = String(cells.size());
      })),
      settle(deviceFeed.load(params).then((packed) => devices.setPacked(packed))),
    ]);
  }
  const scheduleMap = () => {
    clearTimeout(timer);
    timer = setTimeout(refreshMap, 200);
  };
  map.on("moveend", scheduleMap);

  async function post(id, action, note, retries = 40) {
    try {
      return await api.post(`/api/v1/alerts/${encodeURIComponent(id)}/${action}`, { note });
    } catch (err) {
      // a live alert can be acted on before the sink has stored it: 404 for a second or more (up to ~30 s here)
      if (err.status !== 404 || retries === 0) throw err;
      await new Promise((r) => setTimeout(r, 750));
      return post(id, action, note, retries - 1);
    }
  }

  async function perform(id, action) {
    const alert = queue.get(id);
    if (!alert || !actionsFor(me, alert.state).includes(action)) return;
    try {
      await post(id, action, detail.note());
      const fresh =
        detail.current() === id ? await detail.open(id, alert) : await api.get(`/api/v1/alerts/${encodeURIComponent(id)}`);
      queue.upsert(fresh);
    } catch (err) {
      const key = err.status === 409 ? "conflict" : err.status === 403 ? "forbidden" : "action_failed";
      detail.showError(`${t(key)}: ${err.message}`);
      $("#toast").textContent = t(key);
    }
  }

  document.addEventListener("keydown", (ev) => {
    if (ev.target.closest("input, textarea, select") || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "ArrowDown" || ev.key === "j") queue.move(1);
    else if (ev.key === "ArrowUp" || ev.key === "k") queue.move(-1);
    else if (ev.key === "Escape") detail.close();
    else if (ev.key === "Enter" && queue.selected()) detail.open(queue.selected(), queue.get(queue.selected())).catch(() => {});
    else if (KEY_ACTIONS[ev.key] && queue.selected()) perform(queue.selected(), KEY_ACTIONS[ev.key]);
    else return;
    ev.preventDefault();
  });

  const live = connectLive({
    url: `${api.base}/api/v1/live`,
    token: api.token,
    onStatus: (s) => {
      $("#conn").dataset.status = s;
      $("#conn").textContent = t(s);
    },
    onEvent: (kind, data) => {
      if (kind === "alert") {
        queue.upsert(data);
        if (detail.current() === data.id) detail.open(data.id, queue.get(data.id)).catch(() => {});
      } else if (kind === "cell") {
        if (!cells.update(data)) scheduleMap();
      }
    },
  });

  async function refreshKpis() {
    kpis = await api.get("/api/v1/kpis", { period: "week" }).catch(() => kpis);
    renderKpis($("#kpis"), kpis, openCount);
  }
  document.addEventListener("citybrain:language", () => renderKpis($("#kpis"), kpis, openCount));
  setInterval(refreshKpis, 30000);
  await Promise.all([refreshMap(), queue.load().catch(() => {}), refreshKpis()]);
  // Stable hooks for tests and benchmarks; nothing in the page depends on them.
  window.citybrain = { map, cells, devices, queue, incidents, live, refreshMap };
  document.body.dataset.ready = "1";
}

async function boot() {
  initLanguage();
  $("#lang").addEventListener("click", toggleLanguage);
  takeFragmentToken();
  const api = createApi({ token: storedToken, onUnauthorized: () => {} });
  $("#logout").addEventListener("click", () => {
    forgetToken();
    window.location.reload();
  });
  $("#login form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const token = ev.target.elements.token.value.trim();
    if (!token) return;
    storeToken(token);
    try {
      await start(api, await whoAmI(api));
    } catch {
      forgetToken();
      showLogin(t("login_failed"));
    }
  });
  if (!storedToken()) return showLogin();
  try {
    await start(api, await whoAmI(api));
  } catch (err) {
    if (err.status === 401 || err.status === 403) forgetToken();
    showLogin(err.status === 401 ? t("login_failed") : "");
  }
}

boot();

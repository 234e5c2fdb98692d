// The alert detail panel: what happened, the evidence a detector gave (observed vs baseline, score), a
// sparkline per evidence series, the history of who did what, and the actions this role may take now.

import { actionsFor } from "./auth.js";
import { escapeHtml, formatNumber, formatTime } from "./format.js";
import { t } from "./i18n.js";
import { sparklineSvg } from "./sparkline.js";

const SERIES_WINDOW_MS = 2 * 3600 * 1000;

/** Sparkline inputs for one evidence item from a series answer ({points:[{time,value}], anomalies:[...]}). */
export function sparkInputs(evidence, series) {
  const ms = (iso) => new Date(iso).getTime();
  const points = (series.points || []).map((p) => ({ t: ms(p.time), v: p.value }));
  const marked = (series.anomalies || []).map((a) => ({ t: ms(a.time), v: a.observed }));
  const baseline = (series.anomalies || []).map((a) => ({ t: ms(a.time), v: a.expected }));
  marked.push({ t: ms(evidence.time), v: evidence.observed });
  baseline.push({ t: ms(evidence.time), v: evidence.expected });
  const flat = baseline.length < 3 ? [{ t: ms(evidence.time), v: evidence.expected }] : baseline;
  return { points, anomalies: marked, baseline: flat };
}

export function createDetail({ panel, api, me, onAction }) {
  let current = null;

  async function sparkline(ev, slot) {
    const since = new Date(new Date(ev.time).getTime() - SERIES_WINDOW_MS).toISOString();
    let series = { points: [], anomalies: [] };
    try {
      series = await api.get(`/api/v1/devices/${encodeURIComponent(ev.device_id)}/series`, { metric: ev.metric, since });
    } catch {
      // no series endpoint or no rights to events: still show the evidence point against its baseline
    }
    slot.innerHTML = sparklineSvg({ ...sparkInputs(ev, series), label: `${ev.device_id} ${ev.metric}` });
  }

  function render(alert) {
    const actions = actionsFor(me(), alert.state);
    const evidence = alert.evidence || [];
    panel.innerHTML = `
      <header>
        <span class="sev sev-${escapeHtml(alert.severity)}">${escapeHtml(t(`severity.${alert.severity}`))}</span>
        <h2>${escapeHtml(alert.title)}</h2>
        <button type="button" class="close" data-close aria-label="${escapeHtml(t("close"))}">×</button>
      </header>
      <p class="description">${escapeHtml(alert.description)}</p>
      <dl class="facts">
        <dt>${escapeHtml(t("filter_state"))}</dt><dd class="state state-${escapeHtml(alert.state)}" data-detail-state>${escapeHtml(t(`state.${alert.state}`))}</dd>
        <dt>${escapeHtml(t("filter_department"))}</dt><dd>${escapeHtml(t(`department.${alert.department}`))}</dd>
        <dt>${escapeHtml(t("filter_category"))}</dt><dd>${escapeHtml(t(`category.${alert.category}`))} / ${escapeHtml(alert.sub_category)}</dd>
        <dt>${escapeHtml(t("cell"))}</dt><dd><code>${escapeHtml(alert.cell)}</code></dd>
        <dt>${escapeHtml(t("created"))}</dt><dd>${escapeHtml(formatTime(alert.created_at))}</dd>
      </dl>
      ${actions.length ? `<div class="actions">
        <textarea name="note" rows="2" placeholder="${escapeHtml(t("note"))}"></textarea>
        ${actions.map((a) => `<button type="button" data-action="${a}">${escapeHtml(t(`action.${a}`))}</button>`).join("")}
      </div>` : ""}
      <p class="error" role="alert" hidden></p>
      <h3>${escapeHtml(t("evidence"))}</h3>
      <ul class="evidence">${evidence.map((ev, i) => `
        <li>
          <div><b>${escapeHtml(ev.device_id)}</b> · ${escapeHtml(ev.metric)} · ${escapeHtml(ev.detector)}</div>
          <div class="numbers">${escapeHtml(t("observed"))} ${formatNumber(ev.observed)} ·
            ${escapeHtml(t("expected"))} ${formatNumber(ev.expected)} · ${escapeHtml(t("score"))} ${formatNumber(ev.score)}</div>
          <div class="spark" data-spark="${i}"></div>
        </li>`).join("")}
      </ul>
      <h3>${escapeHtml(t("history"))}</h3>
      <ol class="history">${(alert.history || []).map((h) => `
        <li>${escapeHtml(formatTime(h.at))} · ${escapeHtml(t(`state.${h.to_state}`))}
          ${h.actor ? `· ${escapeHtml(h.actor)}` : ""} ${h.note ? `— ${escapeHtml(h.note)}` : ""}</li>`).join("")}
      </ol>`;
    panel.hidden = false;
    panel.querySelector("[data-close]").addEventListener("click", close);
    for (const btn of panel.querySelectorAll("[data-action]")) {
      btn.addEventListener("click", () => onAction(alert.id, btn.dataset.action));
    }
    evidence.forEach((ev, i) => sparkline(ev, panel.querySelector(`[data-spark="${i}"]`)));
  }

  function close() {
    current = null;
    panel.hidden = true;
    panel.replaceChildren();
  }

  return {
    /**
     * Show an alert. A live event can arrive before the sink has stored the alert (404 for a moment):
     * then the copy from the event (`fallback`) is shown and the stored one fetched again shortly.
     */
    async open(id, fallback = null, retries = 5) {
      current = id;
      try {
        const alert = await api.get(`/api/v1/alerts/${encodeURIComponent(id)}`);
        if (current === id) render(alert);
        return alert;
      } catch (err) {
        if (err.status !== 404 || !fallback) throw err;
        if (current === id) render(fallback);
        if (retries > 0) setTimeout(() => current === id && this.open(id, fallback, retries - 1).catch(() => {}), 1000);
        return fallback;
      }
    },
    close,
    current: () => current,
    note() {
      const box = panel.querySelector("textarea[name=note]");
      return box ? box.value.trim() : "";
    },
    showError(message) {
      const p = panel.querySelector(".error");
      if (!p) return;
      p.textContent = message;
      p.hidden = false;
    },
  };
}

// The alert queue operators work from the keyboard. Rows are stable DOM nodes keyed by alert id
// (`li[data-alert-id]`), updated in place when a live event or an action changes an alert, so focus and
// selection survive updates. Filters are sent to the API; live alerts are matched locally against them.

import { escapeHtml, formatTime } from "./format.js";
import { t } from "./i18n.js";

export const FILTERS = {
  state: ["open", "acknowledged", "dispatched", "escalated", "resolved", "false_positive"],
  severity: ["critical", "high", "medium", "low", "informational"],
  department: ["traffic", "public-security", "environment", "health", "city-management"],
  category: ["traffic", "air", "water", "manhole", "fire", "wearable", "vehicle", "person", "crowd", "citizen", "device"],
};

/** Does an alert pass the active filters (empty filter = any)? */
export function matches(alert, filters) {
  return Object.entries(filters).every(([k, v]) => !v || alert[k] === v);
}

export function createQueue({ list, filterForm, moreButton, api, onSelect, onChange }) {
  const alerts = new Map(); // id -> alert, insertion order = display order
  let filters = Object.fromEntries(Object.keys(FILTERS).map((k) => [k, ""]));
  let cursor = null;
  let selected = null;

  function fillFilters() {
    for (const [name, values] of Object.entries(FILTERS)) {
      const select = filterForm.elements[name];
      const keep = select.value;
      select.innerHTML =
        `<option value="">${escapeHtml(t("any"))}</option>` +
        values.map((v) => `<option value="${v}">${escapeHtml(t(`${name}.${v}`))}</option>`).join("");
      select.value = keep;
    }
  }

  function rowHtml(a) {
    return (
      `<span class="sev sev-${escapeHtml(a.severity)}">${escapeHtml(t(`severity.${a.severity}`))}</span>` +
      `<span class="title">${escapeHtml(a.title)}</span>` +
      `<span class="state state-${escapeHtml(a.state)}">${escapeHtml(t(`state.${a.state}`))}</span>` +
      `<span class="meta">${escapeHtml(t(`department.${a.department}`))} · ${escapeHtml(formatTime(a.created_at))}</span>`
    );
  }

  function renderRow(a) {
    let li = list.querySelector(`li[data-alert-id="${CSS.escape(a.id)}"]`);
    if (!li) {
      li = document.createElement("li");
      li.dataset.alertId = a.id;
      li.tabIndex = -1;
      li.addEventListener("click", () => select(a.id, true));
    }
    li.dataset.state = a.state;
    li.className = `alert-row sev-${a.severity}${a.id === selected ? " selected" : ""}`;
    li.innerHTML = rowHtml(a);
    return li;
  }

  function render() {
    const rows = [...alerts.values()].map(renderRow);
    list.replaceChildren(...rows);
    list.dataset.empty = rows.length ? "" : t("empty_queue");
    moreButton.hidden = !cursor;
    onChange([...alerts.values()]);
  }

  async function load({ append = false } = {}) {
    const page = await api.get("/api/v1/alerts", { ...filters, cursor: append ? cursor : "" });
    if (!append) alerts.clear();
    for (const a of page.data || []) alerts.set(a.id, a);
    cursor = page.next_cursor || null;
    render();
  }

  function select(id, open = false) {
    selected = id;
    for (const li of list.children) li.classList.toggle("selected", li.dataset.alertId === id);
    const li = list.querySelector(`li[data-alert-id="${CSS.escape(id)}"]`);
    if (li) li.focus({ preventScroll: true }), li.scrollIntoView({ block: "nearest" });
    if (open) onSelect(id);
  }

  function move(step) {
    const ids = [...alerts.keys()];
    if (!ids.length) return;
    const i = ids.indexOf(selected);
    select(ids[Math.max(0, Math.min(ids.length - 1, i < 0 ? 0 : i + step))], true);
  }

  filterForm.addEventListener("change", () => {
    filters = Object.fromEntries(Object.keys(FILTERS).map((k) => [k, filterForm.elements[k].value]));
    load().catch(() => {});
  });
  moreButton.addEventListener("click", () => load({ append: true }).catch(() => {}));
  document.addEventListener("citybrain:language", () => {
    fillFilters();
    render();
  });
  fillFilters();

  return {
    load,
    select,
    move,
    selected: () => selected,
    get: (id) => alerts.get(id),
    /** A new or changed alert (live event, or the answer to an action). New ones go on top. */
    upsert(alert) {
      const known = alerts.get(alert.id);
      if (known) {
        alerts.set(alert.id, { ...known, ...alert });
      } else if (matches(alert, filters)) {
        const rest = [...alerts.entries()];
        alerts.clear();
        alerts.set(alert.id, alert);
        for (const [k, v] of rest) alerts.set(k, v);
      } else {
        return;
      }
      render();
      const li = list.querySelector(`li[data-alert-id="${CSS.escape(alert.id)}"]`);
      if (li && !known) li.classList.add("fresh");
    },
  };
}

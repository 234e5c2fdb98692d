// Who is looking at the screen. A token comes from the login form, or once from the URL fragment
// (`#token=...`, for kiosk screens that cannot type) and is then removed from the address bar and
// history so it does not leak through screenshots or bookmarks. What a role may not do is not offered:
// the allowed actions decide which buttons and keys exist at all (the API still enforces them).

const STORAGE_KEY = "citybrain.token";

export const ACTIONS = ["ack", "dispatch", "resolve", "false-positive", "escalate"];

// Mirrors brain_api/routers/alerts.py (`Worker` roles may transition, within their scope); engineers read.
const ROLE_ACTIONS = {
  admin: ACTIONS,
  operator: ACTIONS,
  department: ACTIONS,
  "grid-worker": ACTIONS,
  engineer: [],
};

// Mirrors brain_api/alerting/machine.py TRANSITIONS; terminal states offer nothing.
const STATE_ACTIONS = {
  open: ["ack", "dispatch", "false-positive", "escalate"],
  acknowledged: ["dispatch", "resolve", "false-positive", "escalate"],
  dispatched: ["resolve", "false-positive", "escalate"],
  escalated: ["ack", "dispatch", "resolve", "false-positive"],
  resolved: [],
  false_positive: [],
};

/** Read `#token=` from a location hash; returns [token, hashWithoutToken]. */
export function tokenFromHash(hash) {
  const params = new URLSearchParams((hash || "").replace(/^#/, ""));
  const token = params.get("token");
  params.delete("token");
  const rest = params.toString();
  return [token, rest ? `#${rest}` : ""];
}

export function takeFragmentToken() {
  const [token, rest] = tokenFromHash(window.location.hash);
  if (!token) return null;
  storeToken(token);
  history.replaceState(null, "", window.location.pathname + window.location.search + rest);
  return token;
}

export function storedToken() {
  return localStorage.getItem(STORAGE_KEY);
}

export function storeToken(token) {
  localStorage.setItem(STORAGE_KEY, token);
}

export function forgetToken() {
  localStorage.removeItem(STORAGE_KEY);
}

/** Actions a principal may take: an explicit `actions` list from the API wins over the role table. */
export function allowedActions(me) {
  if (!me) return [];
  if (Array.isArray(me.actions)) return ACTIONS.filter((a) => me.actions.includes(a));
  return ROLE_ACTIONS[me.role] || [];
}

/** The intersection of what the role may do and what the alert's state allows. */
export function actionsFor(me, state) {
  const byState = STATE_ACTIONS[state] || [];
  return allowedActions(me).filter((a) => byState.includes(a));
}

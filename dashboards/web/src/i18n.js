// UI text in Simplified Chinese and English. Chinese is the default whenever the browser lists a zh
// language first; the choice made with the switch is remembered per screen (localStorage).
// Static markup carries data-i18n="key" (text) or data-i18n-title / data-i18n-placeholder attributes.

const TEXT = {
  "zh-CN": {
    title: "城市大脑 · 指挥中心",
    login_title: "登录",
    login_hint: "请输入访问令牌",
    login_submit: "进入",
    login_failed: "令牌无效或已过期",
    logout: "退出",
    lang_switch: "English",
    live: "实时",
    reconnecting: "重连中…",
    offline: "离线",
    queue: "告警队列",
    filter_state: "状态",
    filter_severity: "级别",
    filter_department: "部门",
    filter_category: "类别",
    any: "全部",
    load_more: "加载更多",
    empty_queue: "没有符合条件的告警",
    keys_hint: "↑↓ 选择 · a 确认 · d 派遣 · r 办结 · f 误报 · e 升级",
    evidence: "证据",
    history: "处置记录",
    note: "备注",
    close: "关闭",
    device: "设备",
    metric: "指标",
    observed: "观测值",
    expected: "基线",
    score: "评分",
    detector: "检测器",
    cell: "网格",
    created: "发生时间",
    action_failed: "操作失败",
    conflict: "告警状态已被他人更改",
    forbidden: "无此权限",
    kpi_alerts: "告警数",
    kpi_open: "待处理",
    kpi_ack_p50: "确认用时 ≈P50",
    kpi_resolve_p50: "办结用时 ≈P50",
    kpi_within_5m: "5 分钟内响应",
    kpi_fp_rate: "误报率",
    "action.ack": "确认",
    "action.dispatch": "派遣",
    "action.resolve": "办结",
    "action.false-positive": "误报",
    "action.escalate": "升级",
    "state.open": "待处理",
    "state.acknowledged": "已确认",
    "state.dispatched": "已派遣",
    "state.resolved": "已办结",
    "state.false_positive": "误报",
    "state.escalated": "已升级",
    "severity.informational": "提示",
    "severity.low": "低",
    "severity.medium": "中",
    "severity.high": "高",
    "severity.critical": "紧急",
    "department.traffic": "交通",
    "department.public-security": "公安",
    "department.environment": "环保",
    "department.health": "卫健",
    "department.city-management": "城管",
    "category.traffic": "交通",
    "category.air": "空气",
    "category.water": "水务",
    "category.manhole": "井盖",
    "category.fire": "消防",
    "category.wearable": "穿戴设备",
    "category.vehicle": "车辆",
    "category.person": "人员",
    "category.crowd": "人群",
    "category.citizen": "市民上报",
    "category.device": "设备",
  },
  en: {
    title: "City Brain · Command Center",
    login_title: "Sign in",
    login_hint: "Enter your access token",
    login_submit: "Enter",
    login_failed: "Token invalid or expired",
    logout: "Sign out",
    lang_switch: "中文",
    live: "Live",
    reconnecting: "Reconnecting…",
    offline: "Offline",
    queue: "Alert queue",
    filter_state: "State",
    filter_severity: "Severity",
    filter_department: "Department",
    filter_category: "Category",
    any: "All",
    load_more: "Load more",
    empty_queue: "No alerts match",
    keys_hint: "↑↓ select · a ack · d dispatch · r resolve · f false positive · e escalate",
    evidence: "Evidence",
    history: "History",
    note: "Note",
    close: "Close",
    device: "Device",
    metric: "Metric",
    observed: "Observed",
    expected: "Baseline",
    score: "Score",
    detector: "Detector",
    cell: "Cell",
    created: "Raised",
    action_failed: "Action failed",
    conflict: "Someone else changed this alert first",
    forbidden: "Not allowed for your role",
    kpi_alerts: "Alerts",
    kpi_open: "Open",
    kpi_ack_p50: "Ack ≈P50",
    kpi_resolve_p50: "Resolve ≈P50",
    kpi_within_5m: "Handled ≤ 5 min",
    kpi_fp_rate: "False positives",
    "action.ack": "Acknowledge",
    "action.dispatch": "Dispatch",
    "action.resolve": "Resolve",
    "action.false-positive": "False positive",
    "action.escalate": "Escalate",
    "state.open": "Open",
    "state.acknowledged": "Acknowledged",
    "state.dispatched": "Dispatched",
    "state.resolved": "Resolved",
    "state.false_positive": "False positive",
    "state.escalated": "Escalated",
    "severity.informational": "Info",
    "severity.low": "Low",
    "severity.medium": "Medium",
    "severity.high": "High",
    "severity.critical": "Critical",
  },
};

const STORAGE_KEY = "citybrain.lang";
let current = "en";

/** The language to start in: a saved choice, else zh-CN when the browser prefers any zh variant. */
export function pickLanguage(saved, browserLanguages) {
  if (saved && saved in TEXT) return saved;
  const first = (browserLanguages || []).find(Boolean) || "en";
  return first.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

export function initLanguage() {
  current = pickLanguage(localStorage.getItem(STORAGE_KEY), navigator.languages || [navigator.language]);
  applyToDocument();
  return current;
}

export function language() {
  return current;
}

export function setLanguage(lang) {
  current = lang in TEXT ? lang : "en";
  localStorage.setItem(STORAGE_KEY, current);
  applyToDocument();
}

export function toggleLanguage() {
  setLanguage(current === "en" ? "zh-CN" : "en");
}

/** Translate a key; unknown keys fall back to English, then to the last part of the key itself. */
export function t(key) {
  return TEXT[current][key] ?? TEXT.en[key] ?? key.split(".").pop();
}

export function applyToDocument(root = document) {
  document.documentElement.lang = current;
  document.title = t("title");
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  document.dispatchEvent(new CustomEvent("citybrain:language", { detail: current }));
}

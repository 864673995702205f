// Shared helpers of the console pages: API calls, DOM building, header, live WebSocket.
// Uses only the public REST + WebSocket API (see /docs/api.md and /openapi.json).

export class ApiError extends Error {
  constructor(status, message, body) { super(message); this.status = status; this.body = body; }
}

function loginUrl() {
  const next = encodeURIComponent(location.pathname + location.search);
  return `/login?next=${next}`;
}

export async function api(path, { method = "GET", body, raw = false } = {}) {
  const opts = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  if (res.status === 401 && !path.startsWith("/api/auth/login")) {
    location.href = loginUrl();
    throw new ApiError(401, "not logged in");
  }
  if (raw) return res;
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) {
    const msg = (data && (data.message || (typeof data.detail === "string" ? data.detail : null)))
      || `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, msg, data);
  }
  return data;
}

// h("div", {class: "x", onclick: fn}, "text", child) -> element (text is never parsed as HTML)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const SEVERITY = { 1: "info", 2: "low", 3: "medium", 4: "high", 5: "critical" };
export const TYPE_KO = {
  intrusion: "침입 intrusion", line_crossing: "선 통과 line crossing", loitering: "배회 loitering",
  crowding: "밀집 crowding", fall: "쓰러짐 fall", abandoned_object: "방치 물체 abandoned object",
  camera_offline: "카메라 끊김 offline", camera_frozen: "화면 정지 frozen", camera_covered: "가림 covered",
  camera_blurred: "흐림 blurred", camera_moved: "카메라 이동 moved",
};

export function sevBadge(sev) {
  return h("span", { class: `sev sev-${sev}`, title: SEVERITY[sev] || "" }, sev);
}
export function stateBadge(state) { return h("span", { class: `state state-${state}` }, state); }
export function healthBadge(health) {
  return h("span", { class: `health health-${health || "unknown"}` }, health || "unknown");
}

// Times: one formatter for every page, in the monitoring config's time zone (GET /api/console; Asia/Seoul
// until it answers), zero-padded, 24 h, labelled: "2026-12-07 08:05:09 KST".
export const TIME = { zone: "Asia/Seoul", label: "KST", offsetMs: 0 };
const fmtCache = new Map();
function zoneParts(d) {
  let f = fmtCache.get(TIME.zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone: TIME.zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
    fmtCache.set(TIME.zone, f);
  }
  const p = {};
  for (const { type, value } of f.formatToParts(d)) p[type] = value;
  if (p.hour === "24") p.hour = "00";
  return p;
}
function toDate(v) { return v instanceof Date ? v : new Date(typeof v === "number" ? v * 1000 : v); }
export function fmtTime(iso, { date = true } = {}) {
  if (iso === null || iso === undefined || iso === "") return "–";
  const d = toDate(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = zoneParts(d);
  const hms = `${p.hour}:${p.minute}:${p.second}`;
  return date ? `${p.year}-${p.month}-${p.day} ${hms} ${TIME.label}` : `${hms} ${TIME.label}`;
}
export function fmtClock(v) { return fmtTime(v, { date: false }); }
// Date / ISO / unix s -> "YYYY-MM-DD HH:MM:SS" in the configured zone (a text input that zoneToIso reads back)
export function zoneText(v) {
  const p = zoneParts(toDate(v));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}
// the zone's offset from UTC (ms) at the instant t (ms)
function zoneOffset(t) {
  const p = zoneParts(new Date(t));
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(t / 1000) * 1000;
}
// "YYYY-MM-DD HH:MM[:SS]" (or a datetime-local value) read as a time in the configured zone -> ISO (UTC)
export function zoneToIso(v) {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(String(v || "").trim());
  if (!m) return "";
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  let t = guess - zoneOffset(guess);
  t = guess - zoneOffset(t);
  return new Date(t).toISOString();
}
export function fmtDur(s) {
  if (s === null || s === undefined) return "";
  s = Math.round(s);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
export function fmtKrw(v) {
  if (v === null || v === undefined) return "–";
  if (Math.abs(v) >= 1e8) return `${(v / 1e8).toFixed(2)}억 원`;
  if (Math.abs(v) >= 1e4) return `${Math.round(v / 1e4).toLocaleString("ko-KR")}만 원`;
  return `${Math.round(v).toLocaleString("ko-KR")} 원`;
}

const NAV = [
  ["wall", "Video wall", "viewer"], ["incidents", "Incidents", "viewer"], ["events", "Event history", "viewer"], ["search", "Search", "operator"],
  ["cameras", "Cameras & map", "viewer"],
  ["plans", "Plans", "viewer"], ["audit", "Audit", "admin"], ["admin", "Users & groups", "admin"],
];
const RANK = { viewer: 0, operator: 1, admin: 2 };
export const canOperate = (me) => RANK[me.role] >= RANK.operator;

// Render the header, check the session (redirects to /login on 401). Returns the user.
export async function initPage(active, { minRole = "viewer" } = {}) {
  const me = await api("/api/auth/me");
  try {
    const t0 = Date.now();
    const info = await api("/api/console");
    Object.assign(TIME, { zone: info.timezone, label: info.tz_label,
      offsetMs: info.server_time * 1000 - (t0 + Date.now()) / 2 });
  } catch (e) { if (e.status === 401) throw e; }
  const conn = h("span", { class: "conn", id: "conn", title: "live connection" });
  const clock = h("span", { class: "clock", id: "clock" });
  const tick = () => { clock.textContent = fmtClock(new Date()); };
  tick(); setInterval(tick, 1000);
  const nav = h("nav", {}, NAV.filter(([, , r]) => RANK[me.role] >= RANK[r]).map(([p, label]) =>
    h("a", { href: `/${p}`, id: `nav-${p}`, class: p === active ? "active" : "" }, label,
      p === "incidents" ? h("span", { class: "nav-count", id: "nav-unacked", hidden: true }) : null)));
  const logout = h("button", { id: "logout", onclick: async () => {
    await api("/api/auth/logout", { method: "POST", body: {} }).catch(() => {});
    location.href = "/login";
  } }, "Log out");
  // narrow screens: the menu collapses behind this button (css: #menu-toggle, header.top.menu-open)
  const menu = h("button", { id: "menu-toggle", type: "button", "aria-expanded": "false", "aria-label": "menu",
    onclick: () => menu.setAttribute("aria-expanded", String(header.classList.toggle("menu-open"))) }, "☰ Menu");
  const header = h("header", { class: "top" },
    h("span", { class: "brand" }, h("span", { class: "dot" }), "safecity 관제"),
    nav,
    h("span", { class: "who" }, conn, clock,
      h("span", { id: "whoami" }, `${me.username} · ${me.role}`), logout), menu);
  document.body.prepend(header);
  if (RANK[me.role] < RANK[minRole]) {
    document.querySelector("main").replaceChildren(
      h("div", { class: "panel" }, h("h2", {}, "Forbidden"), `This page needs the ${minRole} role.`));
    throw new ApiError(403, "forbidden");
  }
  // every page: the unacknowledged count and the alarm (alarm.js), the keyboard and its `?` help (keys.js)
  await Promise.all([import("./keys.js"), import("./alarm.js").then((m) => m.startAlarm(me))]);
  return me;
}

// Live WebSocket with reconnect; onMessage gets parsed messages. One socket per page, shared by every
// caller (the page's own code and the alarm).
const liveListeners = [];
let liveOpen = false;
export function connectLive(onMessage) {
  liveListeners.push(onMessage);
  if (liveOpen) return;
  liveOpen = true;
  let delay = 1000;
  const dot = () => document.getElementById("conn");
  function open() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/ws/live`);
    ws.onopen = () => { delay = 1000; dot()?.classList.add("on"); dot()?.classList.remove("off"); };
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch (err) { console.error(err); return; }
      for (const fn of liveListeners) { try { fn(msg); } catch (err) { console.error(err); } }
    };
    ws.onclose = (e) => {
      dot()?.classList.remove("on"); dot()?.classList.add("off");
      if (e.code === 4401) { location.href = loginUrl(); return; }
      setTimeout(open, delay); delay = Math.min(delay * 2, 15000);
    };
  }
  open();
}

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) u.set(k, v);
  const s = u.toString();
  return s ? `?${s}` : "";
}

// Date -> "YYYY-MM-DDTHH:MM" in the configured zone (the value of a time input that localToIso reads back)
export function zoneInput(d) {
  const p = zoneParts(toDate(d));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}
// datetime-local input value, read in the configured time zone (not the browser's) -> ISO
export function localToIso(v) { return v ? zoneToIso(v) : ""; }

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

export function fmtTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString("ko-KR", { hour12: false });
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
  ["wall", "Video wall", "viewer"], ["events", "Events", "viewer"], ["search", "Search", "operator"],
  ["cameras", "Cameras & map", "viewer"],
  ["plans", "Plans", "viewer"], ["audit", "Audit", "admin"], ["admin", "Users & groups", "admin"],
];
const RANK = { viewer: 0, operator: 1, admin: 2 };
export const canOperate = (me) => RANK[me.role] >= RANK.operator;

// Render the header, check the session (redirects to /login on 401). Returns the user.
export async function initPage(active, { minRole = "viewer" } = {}) {
  const me = await api("/api/auth/me");
  const conn = h("span", { class: "conn", id: "conn", title: "live connection" });
  const clock = h("span", { class: "clock" });
  const tick = () => { clock.textContent = new Date().toLocaleTimeString("ko-KR", { hour12: false }); };
  tick(); setInterval(tick, 1000);
  const nav = h("nav", {}, NAV.filter(([, , r]) => RANK[me.role] >= RANK[r]).map(([p, label]) =>
    h("a", { href: `/${p}`, class: p === active ? "active" : "" }, label)));
  const logout = h("button", { id: "logout", onclick: async () => {
    await api("/api/auth/logout", { method: "POST", body: {} }).catch(() => {});
    location.href = "/login";
  } }, "Log out");
  const header = h("header", { class: "top" },
    h("span", { class: "brand" }, h("span", { class: "dot" }), "safecity 관제"),
    nav,
    h("span", { class: "who" }, conn, clock,
      h("span", { id: "whoami" }, `${me.username} · ${me.role}`), logout));
  document.body.prepend(header);
  if (RANK[me.role] < RANK[minRole]) {
    document.querySelector("main").replaceChildren(
      h("div", { class: "panel" }, h("h2", {}, "Forbidden"), `This page needs the ${minRole} role.`));
    throw new ApiError(403, "forbidden");
  }
  return me;
}

// Live WebSocket with reconnect; onMessage gets parsed messages.
export function connectLive(onMessage) {
  let delay = 1000;
  const dot = () => document.getElementById("conn");
  function open() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/ws/live`);
    ws.onopen = () => { delay = 1000; dot()?.classList.add("on"); dot()?.classList.remove("off"); };
    ws.onmessage = (e) => { try { onMessage(JSON.parse(e.data)); } catch (err) { console.error(err); } };
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

// datetime-local input value -> ISO with the browser's offset
export function localToIso(v) { return v ? new Date(v).toISOString() : ""; }

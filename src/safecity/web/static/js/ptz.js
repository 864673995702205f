// PTZ controls on the wall's tiles: arrows, zoom, presets, stop, home, release, and who holds the lease.
// Loaded by wall.html next to wall.js; it only adds a bar to tiles whose camera is listed by GET /api/ptz
// and calls the /api/ptz routes (docs/ptz.md). Hold an arrow (button or key) to move; release to stop.
// Keys work on the focused bar: arrows, + / - (zoom), space or Escape (stop).
import { api, canOperate, h } from "./api.js";

const me = await api("/api/auth/me");
const operate = canOperate(me);
let cameras = new Map(); // key -> {key, presets, lease, ...}
const HOLD_S = 2; // each continuous move lasts this long at most; renewed while held
const DIRS = { left: [-0.5, 0, 0], right: [0.5, 0, 0], up: [0, 0.5, 0], down: [0, -0.5, 0],
  in: [0, 0, 0.5], out: [0, 0, -0.5] };
const KEYS = { ArrowLeft: "left", ArrowRight: "right", ArrowUp: "up", ArrowDown: "down",
  "+": "in", "=": "in", "-": "out" };

function leaseText(info) {
  const l = info.lease;
  if (!l) return "PTZ · free";
  const left = Math.max(0, Math.round(l.expires_s - Date.now() / 1000));
  return l.holder === me.username ? `PTZ · you (${left} s)` : `PTZ · ${l.holder} steering (${left} s)`;
}

// What the patrol driver of the server says (GET /api/ptz "patrol"): on tour at a preset, travelling,
// held by an operator or a hand-off, or why it cannot drive the camera.
function patrolText(info) {
  const p = info.patrol;
  if (!p) return "";
  if (p.mode === "unreachable") return `patrol paused: ${p.reason}`;
  if (p.mode === "held") return "";
  const where = p.preset ? (p.armed ? `at ${p.preset}` : `→ ${p.preset}`) : "";
  const late = p.not_returned ? " (did not return!)" : "";
  return `${p.mode} ${where}${late}`.trim();
}

// Commands of one bar go out one after another (a stop never overtakes the move it ends).
function call(bar, path, body) {
  bar._queue = (bar._queue || Promise.resolve()).then(() => send(bar, path, body));
  return bar._queue;
}

async function send(bar, path, body) {
  try {
    const r = await api(`/api/ptz/${encodeURIComponent(bar.dataset.camera)}/${path}`, { method: "POST", body });
    const info = cameras.get(bar.dataset.camera);
    if (info && r && "lease" in r) info.lease = r.lease;
    if (info && r && "released" in r) info.lease = null;
    bar.querySelector(".ptz-msg").textContent = "";
    if (info) bar.querySelector(".ptz-lease").textContent = leaseText(info);
  } catch (e) {
    const detail = e.body && e.body.detail;
    bar.querySelector(".ptz-msg").textContent = (detail && detail.message) || e.message;
    const lease = detail && detail.lease;
    const info = cameras.get(bar.dataset.camera);
    if (info && lease) { info.lease = lease; bar.querySelector(".ptz-lease").textContent = leaseText(info); }
  }
}

function startMove(bar, dir) {
  stopHold(bar);
  const [pan, tilt, zoom] = DIRS[dir];
  const again = () => call(bar, "move", { mode: "continuous", pan, tilt, zoom, seconds: HOLD_S });
  again();
  bar._hold = setInterval(again, (HOLD_S * 1000) * 0.75);
}
function stopHold(bar) {
  if (bar._hold) { clearInterval(bar._hold); bar._hold = null; return true; }
  return false;
}
function endMove(bar) { if (stopHold(bar)) call(bar, "stop", {}); }

function button(bar, dir, label, title) {
  const b = h("button", { type: "button", class: "ptz-btn", dataset: { ptz: dir }, title }, label);
  b.addEventListener("pointerdown", (e) => { e.preventDefault(); startMove(bar, dir); });
  for (const ev of ["pointerup", "pointerleave", "pointercancel"]) b.addEventListener(ev, () => endMove(bar));
  return b;
}

function makeBar(key, info) {
  const bar = h("div", { class: "ptz-bar", tabindex: "0", dataset: { camera: key } });
  bar.addEventListener("click", (e) => e.stopPropagation()); // the tile itself opens the events page
  bar.addEventListener("pointerdown", (e) => e.stopPropagation());
  const lease = h("span", { class: "ptz-lease" }, leaseText(info));
  const msg = h("span", { class: "ptz-msg", role: "status" });
  const patrol = h("span", { class: "ptz-patrol", title: "patrol (analytics run only at rest)" }, patrolText(info));
  if (!operate) { bar.append(lease, patrol, msg); return bar; }
  const select = h("select", { class: "ptz-preset", title: "preset" },
    info.presets.map((p) => h("option", { value: p }, p)));
  bar.append(
    lease,
    patrol,
    button(bar, "left", "◀", "pan left (←)"), button(bar, "up", "▲", "tilt up (↑)"),
    button(bar, "down", "▼", "tilt down (↓)"), button(bar, "right", "▶", "pan right (→)"),
    button(bar, "out", "−", "zoom out (-)"), button(bar, "in", "+", "zoom in (+)"),
    h("button", { type: "button", class: "ptz-btn", dataset: { ptz: "stop" }, title: "stop (space)",
      onclick: () => { stopHold(bar); call(bar, "stop", {}); } }, "■"),
    select,
    h("button", { type: "button", class: "ptz-btn", dataset: { ptz: "goto" },
      onclick: () => call(bar, "preset", { preset: select.value }) }, "Go"),
    h("button", { type: "button", class: "ptz-btn", dataset: { ptz: "home" },
      onclick: () => call(bar, "home", {}) }, "Home"),
    h("button", { type: "button", class: "ptz-btn", dataset: { ptz: "release" },
      onclick: () => call(bar, "release", {}) }, "Release"),
    msg);
  bar.addEventListener("keydown", (e) => {
    if (e.target.tagName === "SELECT") return;
    const dir = KEYS[e.key];
    if (dir) { e.preventDefault(); if (!e.repeat) startMove(bar, dir); }
    else if (e.key === " " || e.key === "Escape") { e.preventDefault(); stopHold(bar); call(bar, "stop", {}); }
  });
  bar.addEventListener("keyup", (e) => { if (KEYS[e.key]) endMove(bar); });
  bar.addEventListener("blur", () => endMove(bar));
  return bar;
}

function decorate() {
  for (const tile of document.querySelectorAll("#wall .tile[data-camera]")) {
    const key = tile.dataset.camera;
    const info = cameras.get(key);
    let bar = tile.querySelector(".ptz-bar");
    if (!info) { bar?.remove(); continue; }
    if (!bar) { bar = makeBar(key, info); tile.append(bar); }
    const label = bar.querySelector(".ptz-lease");
    const text = leaseText(info);
    if (label.textContent !== text) label.textContent = text; // only real changes: we observe mutations
    const patrol = bar.querySelector(".ptz-patrol");
    const ptext = patrolText(info);
    if (patrol && patrol.textContent !== ptext) patrol.textContent = ptext;

  }
}

async function refresh() {
  try {
    const r = await api("/api/ptz");
    cameras = new Map(r.cameras.map((c) => [c.key, c]));
    decorate();
  } catch (e) { console.error(e); }
}

new MutationObserver(() => decorate()).observe(document.body, { childList: true, subtree: true });
await refresh();
setInterval(refresh, 3000);

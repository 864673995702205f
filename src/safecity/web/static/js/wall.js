// Video wall: live tiles chosen by the monitoring runtime, each with the reason it is there.
// Every tile sits in a fixed slot (data-slot) while its camera stays on the wall, so an operator can
// learn where a camera is; operators pin a camera to a slot (server-side: survives reloads, audited).
// Updated from the /ws/live WebSocket (falls back to polling /api/wall); the page never reloads.
import { api, canOperate, connectLive, fmtDur, fmtTime, h, initPage, sevBadge, TYPE_KO } from "./api.js";
import { drawOverlay, openTileSocket } from "./tiles.js";

const me = await initPage("wall");
const operate = canOperate(me);
const main = document.getElementById("main");
const wallEl = h("div", { class: "wall slotted", id: "wall" });
const feedEl = h("div", { class: "feed", id: "feed" });
const status = h("div", { class: "muted", id: "wall-status" }, "connecting…");
const overlayToggle = h("input", { type: "checkbox", id: "overlay-toggle",
  checked: localStorage.getItem("wall.overlays") === "1" });
const openSel = h("select", { id: "open-camera", title: "open any camera live" },
  h("option", { value: "" }, "카메라 열기 · open camera…"));
const tools = h("div", { class: "wall-tools" },
  h("label", { class: "inline" }, overlayToggle, " 구역·선·박스 overlays"), openSel);
main.append(h("div", { class: "wall-layout" },
  h("div", {}, tools, wallEl, status),
  h("div", { class: "panel side" }, h("h2", {}, "Live events"), feedEl)));

const tiles = new Map(); // camera -> {el, img, canvas, cam, reason, meta, badge, pinBtn, frames}
const holes = new Map(); // free slot -> placeholder element
const names = new Map(); // camera -> Hangul name
let lastWallAt = Date.now();
let slotCount = 0;
let cols = 2;

// ---- tiles ------------------------------------------------------------------------------------
function tileFor(t) {
  let tile = tiles.get(t.camera);
  if (tile) return tile;
  const img = h("img", { alt: `live ${t.name || t.camera}` });
  const canvas = h("canvas", { class: "overlay" });
  const cam = h("div", { class: "cam" });
  const reason = h("div", { class: "reason" });
  const meta = h("div", { class: "meta" });
  const badge = h("div", { class: "badge" }, "PINNED · 미확인");
  const slotTag = h("div", { class: "slot-tag" });
  const pinBtn = h("button", { type: "button", class: "pin-btn", title: "pin this camera to its slot" }, "pin");
  const openBtn = h("a", { class: "open-btn", href: `/camera?key=${encodeURIComponent(t.camera)}`,
    title: "open this camera (live, playback)" }, "↗");
  const el = h("div", { class: "tile fresh", dataset: { camera: t.camera } }, img, canvas,
    h("div", { class: "cap" }, cam, reason, meta), badge, slotTag, h("div", { class: "tile-tools" },
      openBtn, operate ? pinBtn : null));
  // the flash plays once when a camera comes up, then the class goes (it is never overwritten)
  el.addEventListener("animationend", (e) => { if (e.animationName === "flash") el.classList.remove("fresh"); });
  openBtn.addEventListener("click", (e) => e.stopPropagation());
  pinBtn.addEventListener("click", async (e) => {
    e.stopPropagation();
    const current = tiles.get(t.camera);
    try {
      if (current.pinnedBy) await api(`/api/wall/pins/${encodeURIComponent(t.camera)}`, { method: "DELETE" });
      else await api("/api/wall/pins", { method: "POST", body: { camera: t.camera, slot: current.slot } });
      renderWall(await api("/api/wall"));
    } catch (err) { status.textContent = err.message; }
  });
  el.addEventListener("click", () => {
    const uid = (tiles.get(t.camera).uids || [])[0];
    location.href = uid ? `/events?uid=${encodeURIComponent(uid)}` : `/camera?key=${encodeURIComponent(t.camera)}`;
  });
  tile = { el, img, canvas, cam, reason, meta, badge, slotTag, pinBtn, frames: 0, slot: -1 };
  tiles.set(t.camera, tile);
  return tile;
}

function place(el, slot) {
  el.dataset.slot = String(slot);
  el.style.gridColumn = String((slot % cols) + 1);
  el.style.gridRow = String(Math.floor(slot / cols) + 1);
}

function renderWall(wall) {
  lastWallAt = Date.now();
  const list = wall.tiles || [];
  slotCount = Math.max(wall.slots || 0, list.length, ...list.map((t) => t.slot + 1));
  cols = slotCount <= 4 ? 2 : slotCount <= 9 ? 3 : 4;
  wallEl.style.setProperty("--cols", cols);
  const keep = new Set(list.map((t) => t.camera));
  for (const [cam, tile] of tiles) {
    if (!keep.has(cam)) { dropImage(tile); tile.el.remove(); tiles.delete(cam); }
  }
  status.textContent = `${list.length} tile(s) of ${slotCount} slots · ${me.username} (${me.role})`;
  subscribe(list.map((t) => t.camera));
  wallEl.querySelector("#wall-empty")?.remove();
  if (wall.monitor === false) {
    wallEl.replaceChildren(h("div", { class: "wall-empty", id: "wall-empty" },
      "No monitoring runtime is connected to this console."));
    return;
  }
  const used = new Set();
  list.forEach((t, i) => {
    const tile = tileFor(t);
    const slot = t.slot >= 0 ? t.slot : i;
    used.add(slot);
    names.set(t.camera, t.name || t.camera);
    const alert = t.pinned || t.alert;
    tile.el.classList.remove("sev-b0", "sev-b1", "sev-b2", "sev-b3", "sev-b4", "sev-b5");
    tile.el.classList.add(`sev-b${t.severity}`);
    tile.el.classList.toggle("pinned", alert);
    tile.el.classList.toggle("slot-pinned", Boolean(t.pinned_by));
    tile.uids = t.event_uids || [];
    tile.slot = slot;
    tile.pinnedBy = t.pinned_by || "";
    tile.el.dataset.eventUids = tile.uids.join(" ");
    tile.badge.style.display = alert ? "" : "none";
    tile.badge.textContent = t.pinned ? "PINNED · 미확인" : "ALERT · 미확인";
    tile.slotTag.textContent = `${slot + 1}${t.pinned_by ? ` · pinned by ${t.pinned_by}` : ""}`;
    tile.pinBtn.textContent = t.pinned_by ? "unpin" : "pin";
    tile.pinBtn.title = t.pinned_by ? `pinned by ${t.pinned_by}: unpin` : `pin to slot ${slot + 1}`;
    tile.cam.replaceChildren(sevBadge(t.severity), h("span", { class: "cam-name" }, t.name || t.camera));
    tile.cam.title = t.camera;
    tile.img.alt = `live ${t.name || t.camera}`;
    tile.reason.textContent = t.reason;
    const ev = (t.events || [])[0];
    const bits = [];
    if (ev && ev.type) bits.push(TYPE_KO[ev.type] || ev.type);
    if (ev && ev.zone) bits.push(`zone ${ev.zone}`);
    if (ev && ev.count) bits.push(`${ev.count} obj`);
    bits.push(`on wall ${fmtDur(t.on_wall_s)}`);
    tile.meta.replaceChildren(...bits.map((b) => h("span", {}, b)));
    place(tile.el, slot);
    if (tile.el.parentElement !== wallEl) wallEl.append(tile.el);
  });
  // free slots stay visible, so the places do not move when a camera leaves
  for (let s = 0; s < slotCount; s++) {
    let hole = holes.get(s);
    if (used.has(s)) { hole?.remove(); holes.delete(s); continue; }
    if (!hole) {
      hole = h("div", { class: "tile hole", dataset: { slot: String(s) } }, h("span", {}, `${s + 1} · free`));
      holes.set(s, hole);
    }
    place(hole, s);
    if (hole.parentElement !== wallEl) wallEl.append(hole);
  }
  for (const [s, hole] of holes) if (s >= slotCount) { hole.remove(); holes.delete(s); }
  if (!list.length) {
    wallEl.append(h("div", { class: "wall-empty", id: "wall-empty" }, "Quiet: no camera needs attention right now."));
  }
}

// ---- live pictures: one WebSocket for every tile -------------------------------------------------
function dropImage(tile) {
  if (tile.url) URL.revokeObjectURL(tile.url);
  tile.url = null;
}
const tileSocket = openTileSocket((camera, blob) => {
  const tile = tiles.get(camera);
  if (!tile) return;
  const url = URL.createObjectURL(blob);
  const old = tile.url;
  tile.url = url;
  tile.img.src = url;
  tile.frames += 1;
  tile.el.dataset.frames = String(tile.frames);
  if (old) setTimeout(() => URL.revokeObjectURL(old), 1000);
});
function subscribe(cameras) { tileSocket.subscribe(cameras); }

// ---- overlays: zones, lines and live boxes (drawn only when the toggle is on) --------------------
async function refreshOverlays() {
  if (!overlayToggle.checked || !tiles.size) return;
  try {
    const r = await api(`/api/wall/overlays?cameras=${encodeURIComponent([...tiles.keys()].join(","))}`);
    for (const [cam, tile] of tiles) drawOverlay(tile.canvas, tile.img, r.cameras[cam]);
  } catch (e) { console.error(e); }
}
overlayToggle.addEventListener("change", () => {
  localStorage.setItem("wall.overlays", overlayToggle.checked ? "1" : "0");
  wallEl.classList.toggle("overlays", overlayToggle.checked);
  if (!overlayToggle.checked) for (const tile of tiles.values()) drawOverlay(tile.canvas, tile.img, null);
  refreshOverlays();
});
wallEl.classList.toggle("overlays", overlayToggle.checked);
setInterval(refreshOverlays, 1000);

// ---- open any camera on demand -----------------------------------------------------------------
try {
  const cams = await api("/api/cameras");
  for (const c of cams.cameras.filter((x) => x.live)) {
    names.set(c.key, c.name);
    openSel.append(h("option", { value: c.key }, `${c.name} (${c.key})`));
  }
} catch (e) { console.error(e); }
openSel.addEventListener("change", () => {
  if (openSel.value) location.href = `/camera?key=${encodeURIComponent(openSel.value)}`;
});

// ---- live feed ---------------------------------------------------------------------------------
const seen = new Set();
function addFeed(msg) {
  const ev = msg.event;
  if (seen.has(ev.uid)) return; // each event once (the first page and the live socket overlap)
  seen.add(ev.uid);
  const at = ev.start_at || (ev.start_s ? new Date(ev.start_s * 1000) : null);
  const item = h("div", { class: `item sev-b${ev.severity}` },
    h("div", {}, sevBadge(ev.severity), " ", TYPE_KO[ev.type] || ev.type, " · ", ev.camera_name || names.get(ev.camera) || ev.camera,
      ev.zone ? ` · ${ev.zone}` : ""),
    h("div", { class: "t" }, `${msg.kind} · ${at ? fmtTime(at) : "–"}`));
  item.addEventListener("click", () => { location.href = `/events?uid=${encodeURIComponent(ev.uid)}`; });
  feedEl.prepend(item);
  while (feedEl.children.length > 60) feedEl.lastChild.remove();
}

// the feed starts with the newest events of the user's cameras
try {
  const recent = await api("/api/events?limit=15");
  for (const ev of recent.events.reverse()) addFeed({ kind: ev.state, event: ev });
} catch (e) { console.error(e); }

connectLive((msg) => {
  if (msg.type === "wall") renderWall(msg.wall);
  else if (msg.type === "event" && msg.kind === "start") addFeed(msg);
});
// fallback when the socket is down: poll
setInterval(async () => {
  if (Date.now() - lastWallAt > 5000) renderWall(await api("/api/wall"));
}, 2500);
renderWall(await api("/api/wall"));

// Video wall: live tiles (MJPEG) chosen by the monitoring runtime, each with the reason it is there.
// Updated from the /ws/live WebSocket (falls back to polling /api/wall); the page never reloads.
import { api, connectLive, fmtDur, h, initPage, sevBadge, TYPE_KO } from "./api.js";

const me = await initPage("wall");
const main = document.getElementById("main");
const wallEl = h("div", { class: "wall", id: "wall" });
const feedEl = h("div", { class: "feed", id: "feed" });
const status = h("div", { class: "muted", id: "wall-status" }, "connecting…");
main.append(h("div", { class: "wall-layout" },
  h("div", {}, wallEl, status),
  h("div", { class: "panel side" }, h("h2", {}, "Live events"), feedEl)));

const tiles = new Map(); // camera -> {el, img, parts}
let lastWallAt = Date.now();

function tileFor(t) {
  let tile = tiles.get(t.camera);
  if (tile) return tile;
  const img = h("img", { alt: `live ${t.camera}` });
  const cam = h("div", { class: "cam" });
  const reason = h("div", { class: "reason" });
  const meta = h("div", { class: "meta" });
  const badge = h("div", { class: "badge" }, "PINNED · 미확인");
  const el = h("div", { class: "tile fresh", dataset: { camera: t.camera } }, img,
    h("div", { class: "cap" }, cam, reason, meta), badge);
  el.addEventListener("click", () => {
    const uid = (t.event_uids || [])[0];
    location.href = uid ? `/events?uid=${encodeURIComponent(uid)}` : `/events?camera=${encodeURIComponent(t.camera)}`;
  });
  tile = { el, img, cam, reason, meta, badge };
  tiles.set(t.camera, tile);
  return tile;
}

function renderWall(wall) {
  lastWallAt = Date.now();
  const list = wall.tiles || [];
  const cols = list.length <= 4 ? 2 : list.length <= 9 ? 3 : 4;
  wallEl.style.setProperty("--cols", cols);
  const keep = new Set(list.map((t) => t.camera));
  for (const [cam, tile] of tiles) {
    if (!keep.has(cam)) { dropImage(tile); tile.el.remove(); tiles.delete(cam); }
  }
  status.textContent = `${list.length} tile(s) · ${me.username} (${me.role})`;
  subscribeTiles(list.map((t) => t.camera));
  if (!list.length) {
    wallEl.replaceChildren(h("div", { class: "wall-empty", id: "wall-empty" },
      wall.monitor === false ? "No monitoring runtime is connected to this console."
        : "Quiet: no camera needs attention right now."));
    return;
  }
  wallEl.querySelector("#wall-empty")?.remove();
  list.forEach((t, i) => {
    const tile = tileFor(t);
    tile.el.className = `tile sev-b${t.severity}${t.pinned ? " pinned" : ""}`;
    tile.el.dataset.eventUids = (t.event_uids || []).join(" ");
    tile.badge.style.display = t.pinned ? "" : "none";
    tile.cam.replaceChildren(sevBadge(t.severity), t.camera);
    tile.reason.textContent = t.reason;
    const ev = (t.events || [])[0];
    const bits = [];
    if (ev && ev.type) bits.push(TYPE_KO[ev.type] || ev.type);
    if (ev && ev.zone) bits.push(`zone ${ev.zone}`);
    if (ev && ev.count) bits.push(`${ev.count} obj`);
    bits.push(`on wall ${fmtDur(t.on_wall_s)}`);
    tile.meta.replaceChildren(...bits.map((b) => h("span", {}, b)));
    if (wallEl.children[i] !== tile.el) wallEl.insertBefore(tile.el, wallEl.children[i] || null);
  });
}

// Live pictures: one WebSocket carries every tile's JPEGs (browsers allow only ~6 parallel
// MJPEG streams per host, fewer than a wall has tiles). Binary message: u16 key length, key, JPEG.
let tileWs = null;
let wanted = [];
function dropImage(tile) {
  if (tile.url) URL.revokeObjectURL(tile.url);
  tile.url = null;
}
function subscribeTiles(cameras) {
  const same = cameras.length === wanted.length && cameras.every((c, i) => c === wanted[i]);
  wanted = cameras;
  if (tileWs && tileWs.readyState === WebSocket.OPEN && !same) {
    tileWs.send(JSON.stringify({ cameras: wanted, fps: 3 }));
  }
}
function openTiles() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  tileWs = new WebSocket(`${proto}://${location.host}/ws/tiles`);
  tileWs.binaryType = "arraybuffer";
  tileWs.onopen = () => tileWs.send(JSON.stringify({ cameras: wanted, fps: 3 }));
  tileWs.onmessage = (e) => {
    if (typeof e.data === "string") return; // {"type": "subscribed", ...}
    const view = new DataView(e.data);
    const n = view.getUint16(0);
    const camera = new TextDecoder().decode(new Uint8Array(e.data, 2, n));
    const tile = tiles.get(camera);
    if (!tile) return;
    const url = URL.createObjectURL(new Blob([new Uint8Array(e.data, 2 + n)], { type: "image/jpeg" }));
    const old = tile.url;
    tile.url = url;
    tile.img.src = url;
    if (old) setTimeout(() => URL.revokeObjectURL(old), 1000);
  };
  tileWs.onclose = (e) => { if (e.code !== 4401) setTimeout(openTiles, 2000); };
}
openTiles();

function addFeed(msg) {
  const ev = msg.event;
  const item = h("div", { class: `item sev-b${ev.severity}` },
    h("div", {}, sevBadge(ev.severity), " ", TYPE_KO[ev.type] || ev.type, " · ", ev.camera,
      ev.zone ? ` · ${ev.zone}` : ""),
    h("div", { class: "t" }, `${msg.kind} · ${new Date().toLocaleTimeString("ko-KR", { hour12: false })}`));
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
  else if (msg.type === "event" && msg.kind !== "update") addFeed(msg);
});
// fallback when the socket is down: poll
setInterval(async () => {
  if (Date.now() - lastWallAt > 5000) renderWall(await api("/api/wall"));
}, 2500);

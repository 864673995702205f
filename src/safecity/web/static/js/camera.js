// Camera on demand: /camera?key=<camera>[&at=<ISO time>] opens any camera of the user's groups live
// (the /ws/tiles socket: role, group and audit checked by the server), with overlays, pins it to the
// wall (operators), and plays back its recorded clips around a time picked in KST (Asia/Seoul).
// Other pages link here: the map popup, the camera list, incidents (`/camera?key=K&at=ISO`).
import { api, canOperate, fmtTime, h, initPage, sevBadge, TYPE_KO, zoneText, zoneToIso } from "./api.js";
import { drawOverlay, openTileSocket } from "./tiles.js";

const me = await initPage("cameras");
const operate = canOperate(me);
const main = document.getElementById("main");
const params = new URLSearchParams(location.search);
const key = params.get("key") || "";

// the picker reads and shows times in the configured zone (KST), through api.js's one time formatter
const toKstInput = zoneText;
function fromKstInput(v) { // "YYYY-MM-DD HH:MM[:SS]" in the configured zone -> Date (null when malformed)
  const iso = zoneToIso(v);
  return iso ? new Date(iso) : null;
}

const cams = await api("/api/cameras");
const cam = cams.cameras.find((c) => c.key === key);
if (!cam || !cam.live) {
  main.replaceChildren(h("div", { class: "panel", id: "camera-missing" }, h("h2", {}, "Camera not available"),
    key ? `Camera ${key} is not a live camera of your camera groups.` : "No camera chosen (add ?key=<camera>).",
    h("div", {}, h("a", { href: "/cameras" }, "Cameras & map"))));
  throw new Error("no such camera");
}
document.title = `${cam.name} · safecity`;

const img = h("img", { id: "camera-live", alt: `live ${cam.name}` });
const canvas = h("canvas", { class: "overlay" });
const live = h("div", { class: "cam-live", id: "camera-live-box" }, img, canvas);
const liveInfo = h("div", { class: "muted", id: "camera-live-info" }, "connecting…");
const overlayToggle = h("input", { type: "checkbox", id: "camera-overlays" });
const pinOut = h("div", { class: "muted", id: "pin-status" });
const slotSel = h("select", { id: "pin-slot" }, h("option", { value: "" }, "free / weakest slot"));
const minutesSel = h("select", { id: "pin-minutes" }, h("option", { value: "" }, "until unpinned"),
  ...[5, 15, 60, 240].map((m) => h("option", { value: String(m) }, `${m} min`)));
const pinBtn = h("button", { type: "button", id: "pin-btn" }, "Pin to wall · 고정");
const unpinBtn = h("button", { type: "button", id: "unpin-btn", class: "secondary" }, "Unpin");
// ?at= an ISO time (a "+" of its offset may arrive as a space when the link did not encode it)
const atParam = params.get("at") ? new Date(params.get("at").replace(" ", "+")) : null;
const atStart = atParam && !Number.isNaN(atParam.getTime()) ? atParam : new Date();
// a text field, not datetime-local: that one shows the browser's locale and zone conventions
const at = h("input", { type: "text", id: "clip-at", value: toKstInput(atStart), size: "19", maxlength: "19",
  placeholder: "YYYY-MM-DD HH:MM:SS", pattern: "\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}(:\\d{2})?" });
const nowBtn = h("button", { type: "button", class: "secondary", id: "clip-now",
  onclick: () => { at.value = toKstInput(new Date()); } }, "now");
const around = h("select", { id: "clip-around" }, ...[10, 30, 120, 720].map((m) =>
  h("option", { value: String(m), selected: m === 30 }, `± ${m} min`)));
const findBtn = h("button", { type: "button", id: "clip-find" }, "Find clips");
const video = h("video", { id: "clip-video", controls: true, preload: "metadata", muted: true });
const clipInfo = h("div", { class: "muted", id: "clip-info" });
const clipList = h("div", { class: "clip-list", id: "clip-list" });

main.append(h("div", { class: "cam-page" },
  h("div", {},
    h("h2", { id: "camera-name" }, cam.name, h("span", { class: "muted" }, ` · ${cam.key}`)),
    live,
    h("div", { class: "row" }, liveInfo,
      h("label", { style: "flex-direction:row;align-items:center;gap:6px" }, overlayToggle, "구역·선·박스 overlays"))),
  h("div", { class: "side" },
    h("div", { class: "panel" }, h("h2", {}, "Wall"),
      operate ? h("div", { class: "row" }, slotSel, minutesSel, pinBtn, unpinBtn) : h("div", { class: "muted" },
        "Operators can pin this camera to the wall."),
      pinOut),
    h("div", { class: "panel" }, h("h2", {}, "Playback · 녹화 재생"),
      h("div", { class: "row" }, h("label", {}, "time · 시각 (KST, UTC+9)", at), nowBtn,
        h("label", {}, "window", around), findBtn),
      video, clipInfo, clipList))));

// ---- live ---------------------------------------------------------------------------------------
let frames = 0;
let firstFrameAt = 0;
let url = null;
const socket = openTileSocket((camera, blob) => {
  if (camera !== key) return;
  const old = url;
  url = URL.createObjectURL(blob);
  img.src = url;
  frames += 1;
  firstFrameAt = firstFrameAt || performance.now();
  live.dataset.frames = String(frames);
  const secs = (performance.now() - firstFrameAt) / 1000;
  liveInfo.textContent = `live · ${frames} frames${secs > 2 ? ` · ${((frames - 1) / secs).toFixed(1)} fps` : ""}`;
  if (old) setTimeout(() => URL.revokeObjectURL(old), 1000);
}, { how: "on_demand" });
socket.subscribe([key]);

async function refreshOverlay() {
  if (!overlayToggle.checked) return;
  try {
    const r = await api(`/api/wall/overlays?cameras=${encodeURIComponent(key)}`);
    drawOverlay(canvas, img, r.cameras[key]);
  } catch (e) { console.error(e); }
}
overlayToggle.addEventListener("change", () => {
  live.classList.toggle("overlays", overlayToggle.checked);
  if (!overlayToggle.checked) drawOverlay(canvas, img, null);
  refreshOverlay();
});
setInterval(refreshOverlay, 1000);

// ---- pin to the wall ------------------------------------------------------------------------------
async function showPin() {
  try {
    const [pins, wall] = await Promise.all([api("/api/wall/pins"), api("/api/wall")]);
    const slots = wall.slots || 0;
    if (slotSel.options.length !== slots + 1) {
      slotSel.replaceChildren(h("option", { value: "" }, "free / weakest slot"),
        ...Array.from({ length: slots }, (_, i) => h("option", { value: String(i) }, `slot ${i + 1}`)));
    }
    const mine = pins.pins.find((p) => p.camera === key);
    const tile = (wall.tiles || []).find((t) => t.camera === key);
    pinOut.textContent = mine
      ? `Pinned to slot ${mine.slot + 1} by ${mine.by}${mine.until_s ? ` until ${fmtTime(new Date(mine.until_s * 1000))}` : ""}.`
      : tile ? `On the wall in slot ${tile.slot + 1} (chosen by the selector).` : "Not on the wall.";
    pinOut.dataset.slot = mine ? String(mine.slot) : "";
  } catch (e) { pinOut.textContent = e.message; }
}
pinBtn.addEventListener("click", async () => {
  const body = { camera: key };
  if (slotSel.value !== "") body.slot = Number(slotSel.value);
  if (minutesSel.value !== "") body.minutes = Number(minutesSel.value);
  try { await api("/api/wall/pins", { method: "POST", body }); } catch (e) { pinOut.textContent = e.message; return; }
  showPin();
});
unpinBtn.addEventListener("click", async () => {
  try { await api(`/api/wall/pins/${encodeURIComponent(key)}`, { method: "DELETE" }); } catch (e) {
    pinOut.textContent = e.message; return;
  }
  showPin();
});
showPin();

// ---- playback of recorded clips around a time -------------------------------------------------------
// Media is recorded around events (a few seconds before to a few seconds after each start); the clip
// whose event started nearest the chosen time plays, seeked to that time when the clip covers it.
const PRE_S = 5;
async function findClips() {
  const t = fromKstInput(at.value);
  if (!t) { clipInfo.textContent = `Give the time as YYYY-MM-DD HH:MM:SS (KST), not ${JSON.stringify(at.value)}.`; return; }
  const win = Number(around.value) * 60 * 1000;
  const q = new URLSearchParams({ camera: key, since: new Date(t - win).toISOString(),
    until: new Date(t.getTime() + win).toISOString(), limit: "500" });
  let rows;
  try { rows = (await api(`/api/events?${q}`)).events.filter((e) => e.clip_path); } catch (e) {
    clipInfo.textContent = e.message; return;
  }
  rows.sort((a, b) => Math.abs(new Date(a.start_at) - t) - Math.abs(new Date(b.start_at) - t));
  clipList.replaceChildren(...rows.slice(0, 50).map((e) => {
    const item = h("div", { class: "item", dataset: { uid: e.uid } }, sevBadge(e.severity), " ",
      TYPE_KO[e.type] || e.type, e.zone ? ` · ${e.zone}` : "", " · ", fmtTime(e.start_at));
    item.addEventListener("click", () => play(e, t));
    return item;
  }));
  if (!rows.length) {
    video.removeAttribute("src");
    clipInfo.textContent = `No recorded clip within ± ${around.value} min of ${at.value} KST.`;
    return;
  }
  play(rows[0], t);
}
function play(e, t) {
  for (const el of clipList.children) el.classList.toggle("active", el.dataset.uid === e.uid);
  video.src = `/api/events/${encodeURIComponent(e.uid)}/clip`;
  // the clip's recorded first-frame time when the server has it; else the recorder's usual pre-roll
  let offset = (t - new Date(e.start_at)) / 1000 + PRE_S;
  const seek = () => { if (offset > 0 && offset < video.duration) video.currentTime = offset; };
  video.onloadedmetadata = seek;
  api(`/api/events/${encodeURIComponent(e.uid)}`).then((d) => {
    if (d.clip_start_at) {
      offset = (t - new Date(d.clip_start_at)) / 1000;
      if (video.readyState >= 1) seek();
    }
  }).catch(() => {});
  video.onerror = () => {
    clipInfo.textContent = "This clip is not on disk (written a few seconds after its event starts, or removed by retention).";
  };
  video.dataset.uid = e.uid;
  clipInfo.textContent = `${TYPE_KO[e.type] || e.type} · started ${fmtTime(e.start_at)}`;
}
findBtn.addEventListener("click", findClips);
at.addEventListener("keydown", (e) => { if (e.key === "Enter") findClips(); });
if (atParam) findClips();

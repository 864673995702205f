// Forensic search (operators, admins): tracks by period, class, colours, camera, zone, line and dwell;
// results as a thumbnail grid in time order; a result opens its event clip at the moment the object was
// first seen (or the snapshot); "where else" ranks candidates on the user's other cameras. An area can
// be drawn on the map (click corners), a synopsis of one camera and period plays every tracked object at
// once (a click on one opens its clip at the moment shown), and cases collect results, clips and
// synopses for one signed package. Every search, rendering and case action is audited by the server.
// Operators read Hangul camera names and class names and times in the configured zone (KST), typed
// and shown as YYYY-MM-DD HH:MM (24 h), not the browser's locale.
import { api, fmtDur, fmtTime, h, initPage, localToIso, qs, TIME, zoneInput } from "./api.js";
import { districtMap } from "./map.js";

const me = await initPage("search", { minRole: "operator" });
const main = document.getElementById("main");
const [pal, camList] = await Promise.all([api("/api/search/palette"), api("/api/cameras").catch(() => ({ cameras: [] }))]);
const KO = Object.fromEntries(pal.colours.map((c) => [c.key, c]));
// Korean names of the classes operators search for (COCO keys stay the values sent to the API)
const CLASS_KO = { person: "사람", bicycle: "자전거", car: "승용차", motorcycle: "오토바이", bus: "버스", truck: "트럭",
  backpack: "배낭", handbag: "핸드백", suitcase: "여행가방", umbrella: "우산", dog: "개", cat: "고양이" };
const clsName = (c) => (CLASS_KO[c] ? `${CLASS_KO[c]} ${c}` : c);
// camera key -> Hangul name (monitored and registry cameras the user may see); the key only when unnamed
const NAMES = Object.fromEntries((camList.cameras || []).map((c) => [c.key, c.name || c.key]));
const camName = (key, name) => name || NAMES[key] || key;
// the inputs hold times in the configured zone (KST) as "YYYY-MM-DD HH:MM", whatever the browser's locale
const toLocal = (d) => zoneInput(d).replace("T", " ");
const timeInput = (id, d) => h("input", { id, type: "text", value: toLocal(d), size: 16, maxlength: 19,
  placeholder: "YYYY-MM-DD HH:MM", pattern: "\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}(:\\d{2})?" });
const opts = (label, values) => [h("option", { value: "" }, label), ...values.map(([v, t]) => h("option", { value: v }, t))];
const colourOpts = (label) => opts(label, pal.colours.map((c) => [c.key, `${c.ko} · ${c.en}`]));
const camOpts = (label) => opts(label, (camList.cameras || []).map((c) => [c.key, c.name || c.key]));
const now = new Date();
const f = {
  since: timeInput("s-since", new Date(now.getTime() - 86400e3)),
  until: timeInput("s-until", new Date(now.getTime() + 60e3)),
  cls: h("select", { id: "s-class" }, opts("any class · 전체", pal.classes.map((c) => [c, clsName(c)]))),
  colour: h("select", { id: "s-colour" }, colourOpts("any colour")),
  upper: h("select", { id: "s-upper" }, colourOpts("upper: any")),
  lower: h("select", { id: "s-lower" }, colourOpts("lower: any")),
  camera: h("select", { id: "s-camera" }, camOpts("all my cameras · 전체")),
  group: h("input", { id: "s-group", placeholder: "camera group", maxlength: 100, list: "s-groups" }),
  area: h("input", { id: "s-area", placeholder: "click the map: lat,lon;…", maxlength: 8000, size: 18 }),
  zone: h("input", { id: "s-zone", placeholder: "zone", maxlength: 64 }),
  line: h("input", { id: "s-line", placeholder: "line", maxlength: 64 }),
  direction: h("select", { id: "s-direction" }, opts("either way", [["a_to_b", "a → b"], ["b_to_a", "b → a"]])),
  dwell: h("input", { id: "s-dwell", type: "number", min: 0, step: 1, placeholder: "seconds" }),
};
const form = h("form", { class: "row", id: "search-form" },
  h("label", {}, `From (${TIME.label})`, f.since), h("label", {}, `Until (${TIME.label})`, f.until), h("label", {}, "Class", f.cls),
  h("label", {}, "Colour", f.colour), h("label", {}, "Upper", f.upper), h("label", {}, "Lower", f.lower),
  h("label", {}, "Camera", f.camera), h("label", {}, "Group", f.group), h("label", {}, "Area 구역", f.area),
  h("label", {}, "Zone", f.zone), h("label", {}, "Line", f.line),
  h("label", {}, "Direction", f.direction), h("label", {}, "Min dwell", f.dwell),
  h("button", { class: "primary", type: "submit", id: "s-go" }, "Search 검색"));
const status = h("div", { class: "muted", id: "s-status" });
const gridStyle = "display:grid;grid-template-columns:repeat(auto-fill,minmax(132px,1fr));gap:8px;margin-top:8px";
const grid = h("div", { id: "s-results", style: gridStyle });
const detail = h("div", { class: "panel detail", id: "s-detail" }, h("p", { class: "muted" }, "Pick a result."));
const mapBox = h("div", { id: "s-map", style: "height:220px;margin-top:8px" });
const clearArea = h("button", { type: "button", id: "s-area-clear", onclick: () => setArea([]) }, "Clear area");
const groupList = h("datalist", { id: "s-groups" }, ...(me.groups || []).map((g) => h("option", { value: g })));
const synCam = h("select", { id: "syn-camera" }, camOpts("choose a camera"));
// a camera that /api/cameras does not list (e.g. a record's camera no longer configured) still gets an option
function ensureOption(sel, key) {
  if (key && ![...sel.options].some((o) => o.value === key)) sel.append(h("option", { value: key }, camName(key)));
}
const synBox = h("div", { id: "syn-out" });
const synPanel = h("div", { class: "panel", id: "synopsis", style: "margin-top:12px" },
  h("h2", {}, "Synopsis 요약 영상"),
  h("p", { class: "muted" }, "Every tracked object of one camera in the period above, shown together over the background, each labelled with its time (KST); click one to open its clip at that moment."),
  h("div", { class: "row" }, h("label", {}, "Camera", synCam),
    h("button", { class: "primary", type: "button", id: "syn-go", onclick: () => synopsis() }, "Render synopsis")),
  synBox);
const casePanel = h("div", { class: "panel", id: "cases", style: "margin-top:12px" });
main.append(h("div", { class: "panel", style: "margin-bottom:12px" }, form, groupList, h("div", { class: "row" }, clearArea), mapBox),
  h("div", { class: "events-layout" }, h("div", { class: "panel" }, status, grid), detail), synPanel, casePanel);
form.addEventListener("submit", (e) => { e.preventDefault(); search(); });

// ---- area drawn on the map: each click adds a corner (lat,lon); the polygon is sent as `polygon`
let corners = [];
let shape = null;
let map = null;
function setArea(pts) {
  corners = pts;
  f.area.value = pts.map(([la, lo]) => `${la.toFixed(5)},${lo.toFixed(5)}`).join(";");
  if (shape) { shape.remove(); shape = null; }
  if (map && pts.length) shape = (pts.length > 2 ? L.polygon(pts, { color: "#f0883e" }) : L.polyline(pts, { color: "#f0883e" })).addTo(map);
}
if (window.L) {
  districtMap("s-map").then((m) => {
    map = m;
    map.on("click", (e) => setArea([...corners, [e.latlng.lat, e.latlng.lng]]));
  }).catch((err) => mapBox.replaceChildren(h("p", { class: "muted" }, `map unavailable: ${err.message || err}`)));
} else { mapBox.remove(); }

const PART_KO = { upper: "상의", lower: "하의", body: "" }; // a vehicle or other object: its colour alone
const colourText = (rec) => Object.entries(rec.colours || {}).map(([part, names]) =>
  `${part in PART_KO ? PART_KO[part] : part} ${names.map((n) => (KO[n] ? KO[n].ko : n)).join("/")}`.trim()).join(" · ");

function card(rec, note) {
  const img = rec.thumbnail_url
    ? h("img", { src: rec.thumbnail_url, alt: rec.object_class, style: "height:96px;max-width:100%;object-fit:contain" })
    : h("div", { class: "muted", style: "height:96px" }, "no picture");
  return h("button", { class: "track-card", type: "button", dataset: { uid: rec.uid, camera: rec.camera },
    title: rec.camera, style: "display:flex;flex-direction:column;align-items:center;gap:2px;padding:6px;text-align:center",
    onclick: () => show(rec.uid) },
  img, h("strong", {}, CLASS_KO[rec.object_class] || rec.object_class), h("span", {}, camName(rec.camera, rec.camera_name)),
  h("span", { class: "muted" }, fmtTime(rec.first_at)),
  h("span", {}, colourText(rec)), note ? h("span", { class: "muted" }, note) : null);
}

function fail(where, err) { where.replaceChildren(h("p", { class: "error" }, err.message || String(err))); }

async function search() {
  const p = { since: localToIso(f.since.value), until: localToIso(f.until.value), class: f.cls.value,
    colour: f.colour.value, upper: f.upper.value, lower: f.lower.value, camera: f.camera.value.trim(),
    group: f.group.value.trim(), polygon: f.area.value.trim(),
    zone: f.zone.value.trim(), line: f.line.value.trim(), direction: f.direction.value,
    min_dwell_s: f.dwell.value, limit: 200 };
  status.textContent = "searching…";
  try {
    const data = await api(`/api/search/tracks${qs(p)}`);
    status.textContent = `${data.total}${data.total_capped ? "+" : ""} tracks (${data.results.length} shown, oldest first)`;
    grid.replaceChildren(...data.results.map((r) => card(r)));
  } catch (err) { grid.replaceChildren(); fail(status, err); }
}

// The clip of the event that shows `moment` (a Date; default: when the track was first seen), seeked to it:
// the server reads each clip's absolute start from the file and gives the offset (seek_s).
async function show(uid, moment) {
  try {
    const at = moment ? `?at=${encodeURIComponent(moment.toISOString())}` : "";
    const rec = await api(`/api/search/tracks/${encodeURIComponent(uid)}${at}`);
    const ev = rec.events.find((e) => e.uid === rec.clip_event) || rec.events.find((e) => e.snapshot_url);
    let media = h("p", { class: "muted" }, "No event clip or snapshot of this track (only events are recorded).");
    let clipNote = null;
    if (ev && ev.clip_url) {
      media = h("video", { id: "s-clip", src: ev.clip_url, controls: true, preload: "auto", muted: true,
        style: "width:100%", dataset: { seek: String(ev.seek_s), event: ev.uid } });
      media.addEventListener("loadedmetadata", () => { media.currentTime = Math.min(ev.seek_s, media.duration || ev.seek_s); },
        { once: true });
      const start = new Date(ev.clip_start_at);
      const shown = new Date(start.getTime() + ev.seek_s * 1000);
      const off = Math.abs(shown - new Date(rec.moment_at)) > 1000
        ? ` — ${fmtTime(rec.moment_at, { date: false })} itself is not in a recorded clip; this is the nearest recorded moment` : "";
      clipNote = h("p", { class: "muted", id: "s-clip-note" },
        `Clip from ${fmtTime(start)}${ev.clip_start_exact ? "" : " (about)"}, opened at ${fmtTime(shown, { date: false })}${off}.`);
    } else if (ev) {
      media = h("img", { src: ev.snapshot_url, alt: "snapshot", style: "width:100%" });
    }
    const more = h("div", { id: "s-where" });
    const rows = [["Camera", camName(rec.camera, rec.camera_name)], ["Class", clsName(rec.object_class)],
      ["Seen", `${fmtTime(rec.first_at)} (${fmtDur(rec.dwell_s)})`],
      ["Colours", colourText(rec) || "–"], ["Zones", (rec.zones || []).join(", ") || "–"],
      ["Lines", (rec.crossings || []).map(([l, d]) => `${l} ${d === "a_to_b" ? "a→b" : "b→a"}`).join(", ") || "–"],
      ["Speed", `${(rec.speed * 100).toFixed(1)} % of the frame / s`]];
    detail.replaceChildren(h("h2", {}, `${CLASS_KO[rec.object_class] || rec.object_class} · ${camName(rec.camera, rec.camera_name)}`), media, clipNote,
      h("dl", {}, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      h("button", { class: "primary", id: "s-where-else", type: "button", onclick: () => whereElse(uid, more) }, "Where else 다른 카메라"),
      h("button", { type: "button", id: "s-add-track", onclick: () => addToCase({ kind: "track", ref: uid }) }, "Add to case"),
      ev ? h("button", { type: "button", id: "s-add-event", onclick: () => addToCase({ kind: "event", ref: ev.uid }) }, "Add clip to case") : null,
      more);
    if (!synCam.value) { ensureOption(synCam, rec.camera); synCam.value = rec.camera; }
  } catch (err) { fail(detail, err); }
}

async function whereElse(uid, where) {
  where.replaceChildren(h("p", { class: "muted" }, "looking…"));
  try {
    const data = await api(`/api/search/tracks/${encodeURIComponent(uid)}/where-else`);
    if (!data.candidates.length) { where.replaceChildren(h("p", { class: "muted" }, "No plausible candidate on your other cameras.")); return; }
    where.replaceChildren(h("div", { id: "s-candidates", style: gridStyle },
      data.candidates.map((c) => card(c.record, `score ${c.score.toFixed(2)} · ${c.reason}`))));
  } catch (err) { fail(where, err); }
}

// ---- synopsis: the sidecar maps a click (time, x, y) to the object drawn there
async function synopsis() {
  synBox.replaceChildren(h("p", { class: "muted" }, "rendering… (up to a minute for a busy hour)"));
  try {
    const out = await api("/api/search/synopsis", { method: "POST",
      body: { camera: synCam.value.trim(), since: localToIso(f.since.value), until: localToIso(f.until.value) } });
    const side = await api(out.sidecar_url);
    const video = h("video", { id: "syn-video", src: out.video_url, controls: true, style: "width:100%;cursor:crosshair" });
    const picked = h("p", { id: "syn-picked", class: "muted" }, "Click an object in the video to open its original moment.");
    video.addEventListener("click", (e) => {
      const r = video.getBoundingClientRect();
      const x = (e.clientX - r.left) / r.width;
      const y = (e.clientY - r.top) / r.height;
      const fr = side.frames[Math.min(side.frames.length - 1, Math.floor(video.currentTime * side.fps))] || [];
      const hit = [...fr].reverse().find(([, x1, y1, x2, y2]) => x >= x1 && x <= x2 && y >= y1 && y <= y2);
      if (!hit) return;
      e.preventDefault();
      video.pause();
      const obj = side.objects[hit[0]];
      // the original moment of what was clicked: the tube plays the track from first to last seen
      const p = Math.min(1, Math.max(0, (video.currentTime - obj.start_s) / Math.max(obj.end_s - obj.start_s, 1e-6)));
      const moment = new Date((obj.first_s + p * (obj.last_s - obj.first_s)) * 1000);
      picked.dataset.moment = String(moment.getTime() / 1000);
      picked.textContent = `${CLASS_KO[obj.object_class] || obj.object_class} at ${fmtTime(moment)} (first seen ${fmtTime(new Date(obj.first_s * 1000), { date: false })}) — its clip opened on the right at that moment`;
      show(obj.uid, moment);
    });
    synBox.replaceChildren(h("p", { id: "syn-summary" }, `${out.objects} objects in ${out.duration_s.toFixed(1)} s of video (rendered in ${out.render_s.toFixed(1)} s)`),
      video, picked,
      h("button", { type: "button", id: "syn-add", onclick: () => addToCase({ kind: "synopsis", ref: out.id, camera: out.camera }) }, "Add synopsis to case"));
  } catch (err) { fail(synBox, err); }
}

// ---- cases: a request (number, agency, reason, period above, cameras) collects results for one package
let activeCase = null;
const c = {
  number: h("input", { id: "case-number", placeholder: "case number", maxlength: 64 }),
  agency: h("input", { id: "case-agency", placeholder: "agency (e.g. 구로경찰서)", maxlength: 200 }),
  reason: h("input", { id: "case-reason", placeholder: "reason", maxlength: 2000 }),
  cameras: h("select", { id: "case-cameras", multiple: true, size: 3, title: "cameras of the request (Ctrl/⌘-click for several)" },
    ...(camList.cameras || []).map((k) => h("option", { value: k.key }, k.name || k.key))),
};
const caseList = h("div", { id: "case-list" });
const caseView = h("div", { id: "case-view" });
async function loadCases() {
  try {
    const data = await api("/api/search/cases");
    caseList.replaceChildren(...data.cases.map((k) => h("button", { type: "button", class: "case-row",
      onclick: () => openCase(k.id) }, `${k.number} · ${k.agency} · ${k.cameras.map((x) => camName(x)).join(", ")}`)));
  } catch (err) { fail(caseList, err); }
}
async function openCase(id) {
  try {
    activeCase = await api(`/api/search/cases/${id}`);
    const KIND = { track: "검색 결과 track", event: "사건 영상 clip", synopsis: "요약 영상 synopsis" };
    const items = activeCase.items.map((i) => h("li", { title: i.ref }, `${KIND[i.kind] || i.kind} · ${camName(i.camera_key)}`));
    caseView.replaceChildren(h("h3", {}, `Case ${activeCase.number} (${activeCase.agency})`),
      h("p", { class: "muted" }, `${activeCase.reason} · ${fmtTime(activeCase.since_at)} – ${fmtTime(activeCase.until_at)}`),
      h("ul", { id: "case-items" }, items),
      h("button", { class: "primary", type: "button", id: "case-export", onclick: () => exportCase(id) }, "Export signed package"),
      activeCase.export_id ? h("a", { href: `/api/exports/${activeCase.export_id}/package.zip`, id: "case-download" }, "Download the package") : null);
  } catch (err) { fail(caseView, err); }
}
async function addToCase(item) {
  if (!activeCase) { caseView.replaceChildren(h("p", { class: "error" }, "Open or create a case first (below).")); return; }
  try { await api(`/api/search/cases/${activeCase.id}/items`, { method: "POST", body: item }); await openCase(activeCase.id); }
  catch (err) { fail(caseView, err); }
}
async function exportCase(id) {
  try {
    const out = await api(`/api/search/cases/${id}/export`, { method: "POST", body: {} });
    await openCase(id);
    caseView.append(h("p", { id: "case-exported" }, `Package ${out.export_id}: ${out.files} files`, out.missing.length ? ` (missing: ${out.missing.join("; ")})` : ""));
  } catch (err) { fail(caseView, err); }
}
const caseForm = h("form", { class: "row", id: "case-form" },
  c.number, c.agency, c.reason, c.cameras, h("button", { type: "submit", id: "case-create" }, "Open case 사건"));
caseForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const made = await api("/api/search/cases", { method: "POST", body: { number: c.number.value, agency: c.agency.value,
      reason: c.reason.value, since: localToIso(f.since.value), until: localToIso(f.until.value),
      cameras: [...c.cameras.selectedOptions].map((o) => o.value) } });
    await loadCases();
    await openCase(made.id);
  } catch (err) { fail(caseView, err); }
});
casePanel.append(h("h2", {}, "Cases 사건 · requests for footage"),
  h("p", { class: "muted" }, "A request (case number, agency, reason, the period above, cameras) collects results, clips and synopses and is answered with one signed evidence package."),
  caseForm, caseList, caseView);
loadCases();


const params = new URLSearchParams(location.search);
if (params.get("auto") === "1") await search();

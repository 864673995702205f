// Forensic search (operators, admins): tracks by period, class, colours, camera, zone, line and dwell;
// results as a thumbnail grid in time order; a result opens its events' clip or snapshot; "where else"
// ranks candidates on the user's other cameras. Every search is audited by the server.
import { api, fmtDur, fmtTime, h, initPage, localToIso, qs, TIME, zoneInput } from "./api.js";

await initPage("search", { minRole: "operator" });
const main = document.getElementById("main");
const pal = await api("/api/search/palette");
const KO = Object.fromEntries(pal.colours.map((c) => [c.key, c]));
const toLocal = zoneInput; // the inputs hold times in the configured zone (KST), whatever the browser's
const opts = (label, values) => [h("option", { value: "" }, label), ...values.map(([v, t]) => h("option", { value: v }, t))];
const colourOpts = (label) => opts(label, pal.colours.map((c) => [c.key, `${c.ko} · ${c.en}`]));
const now = new Date();
const f = {
  since: h("input", { id: "s-since", type: "datetime-local", value: toLocal(new Date(now.getTime() - 86400e3)) }),
  until: h("input", { id: "s-until", type: "datetime-local", value: toLocal(new Date(now.getTime() + 60e3)) }),
  cls: h("select", { id: "s-class" }, opts("any class", pal.classes.map((c) => [c, c]))),
  colour: h("select", { id: "s-colour" }, colourOpts("any colour")),
  upper: h("select", { id: "s-upper" }, colourOpts("upper: any")),
  lower: h("select", { id: "s-lower" }, colourOpts("lower: any")),
  camera: h("input", { id: "s-camera", placeholder: "camera id", maxlength: 128 }),
  zone: h("input", { id: "s-zone", placeholder: "zone", maxlength: 64 }),
  line: h("input", { id: "s-line", placeholder: "line", maxlength: 64 }),
  direction: h("select", { id: "s-direction" }, opts("either way", [["a_to_b", "a → b"], ["b_to_a", "b → a"]])),
  dwell: h("input", { id: "s-dwell", type: "number", min: 0, step: 1, placeholder: "seconds" }),
};
const form = h("form", { class: "row", id: "search-form" },
  h("label", {}, `From (${TIME.label})`, f.since), h("label", {}, `Until (${TIME.label})`, f.until), h("label", {}, "Class", f.cls),
  h("label", {}, "Colour", f.colour), h("label", {}, "Upper", f.upper), h("label", {}, "Lower", f.lower),
  h("label", {}, "Camera", f.camera), h("label", {}, "Zone", f.zone), h("label", {}, "Line", f.line),
  h("label", {}, "Direction", f.direction), h("label", {}, "Min dwell", f.dwell),
  h("button", { class: "primary", type: "submit", id: "s-go" }, "Search 검색"));
const status = h("div", { class: "muted", id: "s-status" });
const gridStyle = "display:grid;grid-template-columns:repeat(auto-fill,minmax(132px,1fr));gap:8px;margin-top:8px";
const grid = h("div", { id: "s-results", style: gridStyle });
const detail = h("div", { class: "panel detail", id: "s-detail" }, h("p", { class: "muted" }, "Pick a result."));
main.append(h("div", { class: "panel", style: "margin-bottom:12px" }, form),
  h("div", { class: "events-layout" }, h("div", { class: "panel" }, status, grid), detail));

const colourText = (rec) => Object.entries(rec.colours || {}).map(([part, names]) =>
  `${part}: ${names.map((n) => (KO[n] ? KO[n].ko : n)).join("/")}`).join(" · ");

function card(rec, note) {
  const img = rec.thumbnail_url
    ? h("img", { src: rec.thumbnail_url, alt: rec.object_class, style: "height:96px;max-width:100%;object-fit:contain" })
    : h("div", { class: "muted", style: "height:96px" }, "no picture");
  return h("button", { class: "track-card", type: "button", dataset: { uid: rec.uid },
    style: "display:flex;flex-direction:column;align-items:center;gap:2px;padding:6px;text-align:center",
    onclick: () => show(rec.uid) },
  img, h("strong", {}, `${rec.object_class} · ${rec.camera}`), h("span", { class: "muted" }, fmtTime(rec.first_at)),
  h("span", {}, colourText(rec)), note ? h("span", { class: "muted" }, note) : null);
}

function fail(where, err) { where.replaceChildren(h("p", { class: "error" }, err.message || String(err))); }

async function search() {
  const p = { since: localToIso(f.since.value), until: localToIso(f.until.value), class: f.cls.value,
    colour: f.colour.value, upper: f.upper.value, lower: f.lower.value, camera: f.camera.value.trim(),
    zone: f.zone.value.trim(), line: f.line.value.trim(), direction: f.direction.value,
    min_dwell_s: f.dwell.value, limit: 200 };
  status.textContent = "searching…";
  try {
    const data = await api(`/api/search/tracks${qs(p)}`);
    status.textContent = `${data.total}${data.total_capped ? "+" : ""} tracks (${data.results.length} shown, oldest first)`;
    grid.replaceChildren(...data.results.map((r) => card(r)));
  } catch (err) { grid.replaceChildren(); fail(status, err); }
}

async function show(uid) {
  try {
    const rec = await api(`/api/search/tracks/${encodeURIComponent(uid)}`);
    const ev = rec.events.find((e) => e.clip_url) || rec.events.find((e) => e.snapshot_url);
    const media = !ev ? h("p", { class: "muted" }, "No event clip or snapshot of this track (only events are recorded).")
      : ev.clip_url ? h("video", { id: "s-clip", src: ev.clip_url, controls: true, style: "width:100%" })
        : h("img", { src: ev.snapshot_url, alt: "snapshot", style: "width:100%" });
    const more = h("div", { id: "s-where" });
    const rows = [["Camera", rec.camera], ["Class", rec.object_class], ["Seen", `${fmtTime(rec.first_at)} (${fmtDur(rec.dwell_s)})`],
      ["Colours", colourText(rec) || "–"], ["Zones", (rec.zones || []).join(", ") || "–"],
      ["Lines", (rec.crossings || []).map(([l, d]) => `${l} ${d === "a_to_b" ? "a→b" : "b→a"}`).join(", ") || "–"],
      ["Speed", `${(rec.speed * 100).toFixed(1)} % of the frame / s`]];
    detail.replaceChildren(h("h2", {}, `${rec.object_class} · ${rec.camera}`), media,
      h("dl", {}, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      h("button", { class: "primary", id: "s-where-else", type: "button", onclick: () => whereElse(uid, more) }, "Where else 다른 카메라"),
      more);
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

form.addEventListener("submit", (e) => { e.preventDefault(); search(); });
const params = new URLSearchParams(location.search);
if (params.get("auto") === "1") await search();

// Cameras and map: registry + monitored cameras on the district map, health, last event, groups.
// Admins can lift a live camera's liftable privacy masks on their own view (1-30 min, with a reason).
/* global L */
import { api, fmtTime, h, healthBadge, initPage, TYPE_KO } from "./api.js";
import { districtMap } from "./map.js";

// compressed-domain gate of a live camera (issue 9): watching packet sizes, or decoding every frame and why
function gateNote(g) {
  if (!g) return null;
  const text = g.gate_mode === "compressed" ? `압축 게이트 gate ${g.state}` : `전체 디코딩 decode${g.fallback_reason ? `: ${g.fallback_reason}` : ""}`;
  return h("div", { class: "muted gate-note", title: g.fallback_text || "" }, text);
}

const me = await initPage("cameras");
const main = document.getElementById("main");
const list = h("tbody", { id: "camera-rows" });
const groupsEl = h("div", { id: "groups" });
const search = h("input", { placeholder: "filter cameras", id: "cam-filter" });
const onlyLive = h("input", { type: "checkbox", id: "only-live", checked: true });
main.append(h("div", { class: "map-layout" },
  h("div", { id: "map", class: "map" }),
  h("div", { class: "side" },
    h("div", { class: "panel" }, h("h2", {}, "Legend"), h("div", { class: "legend" },
      h("span", {}, h("i", { style: "background:#3fb950" }), "live online"),
      h("span", {}, h("i", { style: "background:#f85149" }), "offline"),
      h("span", {}, h("i", { style: "background:#d29922" }), "frozen / covered / blurred"),
      h("span", {}, h("i", { style: "background:#6e7f96" }), "registry camera"))),
    h("div", { class: "panel" }, h("h2", {}, "Camera groups"), groupsEl),
    h("div", { class: "panel" }, h("div", { class: "row" }, search, h("label", { style: "flex-direction:row;align-items:center" }, onlyLive, " live only")),
      h("table", {}, h("thead", {}, h("tr", {}, ["Camera", "Health", "Last event", "Groups"].map((c) => h("th", {}, c)))), list)))));

const cameraUrl = (key) => `/camera?key=${encodeURIComponent(key)}`;
const COLOR = { online: "#3fb950", offline: "#f85149", frozen: "#d29922", covered: "#d29922", blurred: "#d29922", moved: "#d29922" };
const map = await districtMap("map");
const [cams, groups] = await Promise.all([api("/api/cameras"), api("/api/groups")]);
const markers = new Map();
for (const c of cams.cameras) {
  if (c.lat == null || c.lon == null) continue;
  const color = c.live ? (COLOR[c.health] || "#58a6ff") : "#6e7f96";
  const m = L.circleMarker([c.lat, c.lon], { radius: c.live ? 8 : 3, color: c.live ? "#fff" : color, weight: c.live ? 2 : 0,
    fillColor: color, fillOpacity: c.live ? 1 : 0.7 }).addTo(map);
  const popup = h("div", {}, h("b", {}, c.name), h("br"), `key ${c.key}`, h("br"), "health ", healthBadge(c.health),
    c.purpose ? h("div", {}, `purpose: ${c.purpose}, ${c.count} camera(s)`) : null,
    c.last_event ? h("div", {}, `last event: ${TYPE_KO[c.last_event.type] || c.last_event.type} ${fmtTime(c.last_event.at)}`) : null,
    c.live ? h("img", { class: "map-popup-live", alt: `live ${c.name}` }) : null,
    c.live ? h("div", {}, h("a", { href: cameraUrl(c.key), class: "open-camera" }, "▶ 실시간·녹화 open live / playback")) : null,
    c.live && me.role === "admin" ? liftForm(c.key) : null);
  m.bindPopup(popup, { minWidth: 270 });
  if (c.live) {
    // the popup plays live (MJPEG) while it is open; closing it ends the stream
    const live = popup.querySelector("img.map-popup-live");
    m.on("popupopen", () => { live.src = `/api/cameras/${encodeURIComponent(c.key)}/mjpeg?fps=3&how=map`; });
    m.on("popupclose", () => { live.removeAttribute("src"); });
  }
  markers.set(c.key, m);
}
// Lift the liftable privacy masks of one camera for this admin's live view only (audited, expires by itself).
function liftForm(key) {
  const reason = h("input", { placeholder: "reason (audited)", maxlength: "500", class: "lift-reason" });
  const minutes = h("select", {}, ...[5, 10, 30].map((m) => h("option", { value: String(m) }, `${m} min`)));
  const out = h("div", { class: "muted" });
  const btn = h("button", { type: "submit" }, "Lift privacy mask");
  const form = h("form", { class: "lift-form", style: "margin-top:6px" }, reason, minutes, btn, out);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!reason.value.trim()) { out.className = "error"; out.textContent = "Give a reason."; return; }
    try {
      const r = await api(`/api/cameras/${encodeURIComponent(key)}/mask-lift`, { method: "POST",
        body: { reason: reason.value, minutes: Number(minutes.value) } });
      out.className = "muted"; out.textContent = `Lifted for you until ${fmtTime(r.expires_at)} (audited).`;
      const img = form.parentElement && form.parentElement.querySelector("img");
      if (img) img.src = `/api/cameras/${encodeURIComponent(key)}/mjpeg?fps=3&how=map&t=${Date.now()}`;
    } catch (err) { out.className = "error"; out.textContent = err.message; }
  });
  return form;
}

function renderList() {
  const term = search.value.trim().toLowerCase();
  const rows = cams.cameras.filter((c) => (!onlyLive.checked || c.live)
    && (!term || `${c.key} ${c.name}`.toLowerCase().includes(term))).slice(0, 300);
  list.replaceChildren(...rows.map((c) => {
    const tr = h("tr", { class: "clickable", dataset: { camera: c.key } },
      h("td", {}, h("div", {}, c.name), h("div", { class: "muted" }, c.key,
        c.live ? h("a", { href: cameraUrl(c.key), class: "open-camera", style: "margin-left:8px",
          onclick: (e) => e.stopPropagation() }, "▶ open") : null)),
      h("td", {}, healthBadge(c.health), gateNote(c.gate)),
      h("td", {}, c.last_event ? h("a", { href: `/events?uid=${encodeURIComponent(c.last_event.uid)}` },
        `${TYPE_KO[c.last_event.type] || c.last_event.type} · ${fmtTime(c.last_event.at)}`) : "–"),
      h("td", {}, (c.groups || []).join(", ") || "–"));
    tr.addEventListener("click", () => { const m = markers.get(c.key); if (m) { map.setView(m.getLatLng(), 15); m.openPopup(); } });
    return tr;
  }));
  if (!rows.length) list.append(h("tr", {}, h("td", { colspan: 4, class: "muted" }, "No cameras in your groups.")));
}
search.addEventListener("input", renderList);
onlyLive.addEventListener("change", renderList);
renderList();
groupsEl.replaceChildren(...(groups.groups.length ? groups.groups.map((g) =>
  h("div", {}, h("b", {}, g.name), ` · ${g.cameras.length} camera(s)`, g.description ? h("div", { class: "muted" }, g.description) : null))
  : [h("div", { class: "muted" }, "No groups.")]));

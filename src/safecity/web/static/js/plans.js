// Plans: saved site-selection and replacement plans on the district map with cost summaries.
/* global L */
import { api, fmtKrw, fmtTime, h, initPage } from "./api.js";
import { districtMap } from "./map.js";

await initPage("plans");
const main = document.getElementById("main");
const listEl = h("div", { id: "plan-list" });
const detailEl = h("div", { id: "plan-detail" });
main.append(h("div", { class: "map-layout" }, h("div", { id: "map", class: "map" }),
  h("div", { class: "side" }, h("div", { class: "panel" }, h("h2", {}, "Saved plans"), listEl),
    h("div", { class: "panel" }, detailEl))));
const map = await districtMap("map");
const layer = L.layerGroup().addTo(map);
const KIND_COLOR = { streetlight: "#f2cc60", existing_site: "#58a6ff", grid: "#a371f7", request: "#3fb950", replacement: "#f0883e" };

async function showPlan(id) {
  const p = await api(`/api/plans/${id}`);
  layer.clearLayers();
  const pts = [];
  for (const it of p.items) {
    const m = L.circleMarker([it.lat, it.lon], { radius: 4 + Math.min(6, it.n_cameras), color: "#fff", weight: 1,
      fillColor: KIND_COLOR[it.kind] || "#f85149", fillOpacity: 0.9 });
    m.bindPopup(h("div", {}, h("b", {}, `#${it.rank} ${it.kind}`), h("br"), `${it.n_cameras} × ${it.camera_type || "camera"}`,
      h("br"), `cost ${fmtKrw(it.cost_krw)}`, h("br"), `priority ${it.priority.toFixed(3)}`, it.ref ? h("div", {}, `ref ${it.ref}`) : null));
    m.addTo(layer); pts.push([it.lat, it.lon]);
  }
  if (pts.length) map.fitBounds(pts, { padding: [30, 30], maxZoom: 15 });
  const summary = Object.entries(p.summary || {}).filter(([, v]) => typeof v !== "object");
  detailEl.replaceChildren(
    h("h2", {}, `Plan ${p.id}: ${p.kind} · ${p.area}`),
    h("div", { class: "summary" },
      h("div", { class: "kpi" }, "Budget", h("b", {}, fmtKrw(p.budget_krw))),
      h("div", { class: "kpi" }, "Cost", h("b", {}, fmtKrw(p.cost_krw))),
      h("div", { class: "kpi" }, "Items", h("b", {}, p.items.length)),
      h("div", { class: "kpi" }, "Status", h("b", {}, `${p.status}${p.mip_gap != null ? ` (gap ${(p.mip_gap * 100).toFixed(2)} %)` : ""}`))),
    h("table", {}, h("tbody", {}, summary.map(([k, v]) => h("tr", {}, h("td", { class: "muted" }, k),
      h("td", {}, typeof v === "number" ? (/krw/i.test(k) ? fmtKrw(v) : v.toLocaleString("ko-KR", { maximumFractionDigits: 2 })) : String(v)))))),
    h("h2", { style: "margin-top:10px" }, "Top items"),
    h("table", {}, h("thead", {}, h("tr", {}, ["#", "Kind", "Cameras", "Cost"].map((c) => h("th", {}, c)))),
      h("tbody", {}, p.items.slice(0, 40).map((it) => h("tr", {}, h("td", {}, it.rank), h("td", {}, it.kind),
        h("td", {}, `${it.n_cameras} ${it.camera_type || ""}`), h("td", {}, fmtKrw(it.cost_krw)))))));
}

const { plans } = await api("/api/plans");
if (!plans.length) listEl.append(h("div", { class: "muted" }, "No plans saved yet (run `safecity plan ...`)."));
listEl.append(...plans.map((p) => {
  const row = h("div", { class: "item", style: "padding:6px 0;border-bottom:1px solid var(--line);cursor:pointer", dataset: { plan: p.id } },
    h("b", {}, `#${p.id} ${p.kind === "replace" ? "Replacement" : "Site selection"} · ${p.area}`),
    h("div", { class: "muted" }, `${fmtTime(p.created_at)} · ${p.n_items} items · cost ${fmtKrw(p.cost_krw)} / budget ${fmtKrw(p.budget_krw)}`));
  row.addEventListener("click", () => {
    for (const r of listEl.children) r.classList.toggle("selected", r === row);
    showPlan(p.id);
  });
  return row;
}));
if (plans.length) { listEl.querySelector(".item")?.classList.add("selected"); await showPlan(plans[0].id); }

// Plans: saved site-selection and replacement plans on the district map — coverage circles and sectors,
// the priority layer, a legend, each site's explanation, downloads, and the comparison of two plans.
// Drawing and wording shared with the HTML report: plandraw.js (window.SafecityPlanDraw).
/* global L */
import { api, fmtTime, h, initPage } from "./api.js";
import { districtMap } from "./map.js";

const D = window.SafecityPlanDraw;
await initPage("plans");
const main = document.getElementById("main");
const listEl = h("div", { id: "plan-list" });
const detailEl = h("div", { id: "plan-detail" });
const selA = h("select", { id: "compare-a", "aria-label": "plan A" });
const selB = h("select", { id: "compare-b", "aria-label": "plan B" });
const compareBtn = h("button", { id: "compare-btn", class: "primary", type: "button" }, "비교 Compare");
const statusEl = h("div", { id: "map-status", class: "map-status" });
main.append(h("div", { class: "map-layout plans" },
  h("div", { class: "map-wrap" }, h("div", { id: "map", class: "map" }), statusEl),
  h("div", { class: "side" },
    h("div", { class: "panel" }, h("h2", {}, "저장된 계획 · Saved plans"), listEl,
      h("div", { class: "compare-form" }, h("span", { class: "muted" }, "두 계획 비교 · compare two plans"),
        h("div", { class: "row" }, h("label", {}, "A", selA), h("label", {}, "B", selB), compareBtn))),
    h("div", { class: "panel" }, detailEl))));

const map = await districtMap("map");
D.setDongNames(await api("/api/map/boundaries?district=guro").catch(() => null));
// panes: the district fill (overlay pane, 400) < priority cells (410) < coverage and sites (450)
const heatCanvas = D.priorityRenderer(map, 0.55);
map.getPane("priority").style.zIndex = 410;
map.createPane("plansites").style.zIndex = 450;
const canvas = L.canvas({ padding: 0.5, pane: "plansites" });
const priorityLayer = L.layerGroup().addTo(map);
const coverageLayer = L.layerGroup().addTo(map);
const siteLayer = L.layerGroup().addTo(map);
L.control.layers(null, { "우선순위 priority": priorityLayer, "커버리지 coverage": coverageLayer,
  "설치 위치 sites": siteLayer }, { collapsed: false, position: "topright" }).addTo(map);
const legendCtl = L.control({ position: "bottomright" });
let legendEl = D.legend({});
legendCtl.onAdd = () => legendEl;
legendCtl.addTo(map);
function setLegend(opts) {
  const next = D.legend(opts);
  legendEl.replaceWith(next);
  legendEl = next;
}
const COLOURS = { a: "#58a6ff", b: "#f0883e", kept: "#8b949e" };
let shown = { plan: null, token: 0 };

// replaceChildren would turn a null into the text "null"
function fill(el, ...children) { el.replaceChildren(...children.filter((c) => c !== null && c !== undefined && c !== false)); }
function clearMap() { priorityLayer.clearLayers(); coverageLayer.clearLayers(); siteLayer.clearLayers(); }
function setStatus(text, cls = "") { statusEl.textContent = text || ""; statusEl.className = `map-status ${cls}`; statusEl.hidden = !text; }

const kindLabel = (k) => (k === "replace" ? "노후 교체 replacement" : "신규 지점 site selection");
const areaName = (p) => (p.summary && p.summary.area_name) || p.area;

function kpi(label, value, extra) {
  return h("div", { class: "kpi" }, label, h("b", {}, value), extra ? h("span", { class: "muted small" }, extra) : null);
}

function proofBanner(p) {
  const st = D.proofStatus(p);
  return h("div", { class: st.cls, id: "proof", dataset: { proven: String(st.proven) } }, st.text);
}

function downloads(p) {
  const a = (fmt, label) => h("a", { class: "btn", id: `dl-${fmt}`, href: `/api/plans/${p.id}/download/${fmt}`, download: "" }, label);
  return h("div", { class: "downloads" }, h("span", { class: "muted" }, "내려받기 download"),
    a("geojson", "GeoJSON"), a("csv", "CSV"), a("html", "HTML 보고서 report"));
}

function mixTable(s, sites) {
  const mix = s.mix || {};
  const guro = s.guro_2024;
  const count = (t) => sites.reduce((a, x) => a + x.cameras.filter((c) => c.type === t).length, 0);
  const ours = { ptz: mix.ptz ?? count("ptz"), fixed: mix.fixed ?? count("fixed"), sites: mix.sites ?? sites.length };
  ours.per = mix.cameras_per_site ?? (ours.sites ? (ours.ptz + ours.fixed) / ours.sites : null);
  const rows = [["회전형 PTZ", ours.ptz, guro?.ptz], ["고정형 fixed", ours.fixed, guro?.fixed],
    ["카메라 cameras", (ours.ptz || 0) + (ours.fixed || 0), guro?.cameras], ["지점 sites", ours.sites, guro?.sites],
    ["지점당 카메라 per site", ours.per, guro && guro.sites ? guro.cameras / guro.sites : null]];
  return h("table", { class: "mix", id: "mix" },
    h("thead", {}, h("tr", {}, h("th", {}, "구성 mix"), h("th", {}, "이 계획 this plan"), guro ? h("th", {}, "구로 2024 Guro") : null)),
    h("tbody", {}, rows.map(([k, a, b]) => h("tr", {}, h("td", { class: "muted" }, k), h("td", {}, D.fmtNum(a, 1)),
      guro ? h("td", {}, D.fmtNum(b, 1)) : null))));
}

function sitesKpis(p, sites) {
  const s = p.summary || {};
  const cams = sites.reduce((a, x) => a + x.cameras.length, 0);
  const lights = sites.reduce((a, x) => a + x.lights, 0);
  const value = s.covered_priority ?? p.objective;
  const pts = s.points_covered ?? s.covered_cells ?? (sites.some((x) => x.points !== null) ? sites.reduce((a, x) => a + (x.points || 0), 0) : null);
  return h("div", { class: "summary" },
    kpi("예산 budget", D.fmtWon(p.budget_krw)),
    kpi("비용 cost", D.fmtWon(p.cost_krw), p.budget_krw ? `예산의 ${D.fmtPct(p.cost_krw / p.budget_krw)} of budget` : null),
    kpi("지점 sites", D.fmtNum(sites.length, 0)),
    kpi("카메라 cameras", D.fmtNum(cams, 0)),
    kpi("커버한 가치 covered value", D.fmtNum(value, 1), s.covered_share != null ? `전체의 ${D.fmtPct(s.covered_share)} of all priority` : null),
    kpi("커버 지점 points covered", pts == null ? "–" : D.fmtNum(pts, 0), s.cells ? `of ${D.fmtNum(s.cells, 0)} cells` : null),
    lights ? kpi("보안등 추가 lights added", D.fmtNum(lights, 0)) : null);
}

function replaceKpis(p) {
  const s = p.summary || {};
  return h("div", { class: "summary" },
    kpi("예산 budget", D.fmtWon(p.budget_krw)),
    kpi("비용 cost", D.fmtWon(p.cost_krw)),
    kpi("교체 카메라 cameras replaced", D.fmtNum(s.cameras ?? p.items.reduce((a, i) => a + i.n_cameras, 0), 0),
      s.records_chosen != null ? `${D.fmtNum(s.records_chosen, 0)} 설치 기록 records` : null),
    kpi("교체 대상 cameras due", D.fmtNum(s.cameras_due, 0),
      s.cost_due_krw != null ? `전부 교체 시 all of them: ${D.fmtWon(s.cost_due_krw)}` : null),
    s.as_of ? kpi("기준일 as of", s.as_of) : null);
}

function solverLine(p) {
  const s = p.summary || {};
  const parts = [];
  if (s.cells) parts.push(`${D.fmtNum(s.cells, 0)} 수요 셀 demand cells`);
  if (s.candidates) parts.push(`${D.fmtNum(s.candidates, 0)} 후보 candidates`);
  if (s.existing_cameras != null) parts.push(`기존 카메라 existing cameras in the area ${D.fmtNum(s.existing_cameras, 0)}${s.existing_source ? ` (${s.existing_source})` : ""}`);
  if (s.bound != null && p.objective != null) parts.push(`상한 bound ${D.fmtNum(s.bound, 1)} · 해 incumbent ${D.fmtNum(s.incumbent ?? p.objective, 1)}`);
  const t = s.wall_s ?? s.solve_s;
  if (t != null) parts.push(`계산 시간 run time ${D.fmtNum(t, 1)} s`);
  return parts.length ? h("div", { class: "muted small solver" }, parts.join(" · ")) : null;
}

function siteTable(sites) {
  return h("table", { class: "items", id: "site-rows" },
    h("thead", {}, h("tr", {}, ["#", "위치 site", "동 dong", "카메라 cameras", "비용 cost", "주요 요인 top factor"].map((c) => h("th", {}, c)))),
    h("tbody", {}, sites.slice(0, 60).map((x) => {
      const top = Object.entries(x.layers).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))[0];
      const ptz = x.cameras.filter((c) => c.type === "ptz").length;
      const tr = h("tr", { class: "clickable", dataset: { site: x.key } }, h("td", {}, x.rank),
        h("td", {}, h("span", { class: "dot", style: `background:${D.siteColour(x.kind)}` }), D.siteKindKo(x.kind)),
        h("td", {}, x.dong || "–"), h("td", {}, `${ptz ? `PTZ ${ptz}` : ""}${ptz && x.cameras.length > ptz ? " + " : ""}${x.cameras.length > ptz ? `고정 ${x.cameras.length - ptz}` : ""}`),
        h("td", { class: "nowrap" }, D.fmtWon(x.cost)), h("td", {}, top ? D.layerKo(top[0]) : "–"));
      tr.addEventListener("click", () => openSite(x.key));
      return tr;
    })));
}

function replaceTable(sites) {
  return h("table", { class: "items", id: "site-rows" },
    h("thead", {}, h("tr", {}, ["#", "설치 installed", "해상도 resolution", "사유 reason", "카메라", "비용 cost"].map((c) => h("th", {}, c)))),
    h("tbody", {}, sites.slice(0, 60).map((x) => {
      const it = x.items[0], p = it.props || {};
      const year = p.install_year ?? (p.installed_ym ? String(p.installed_ym).slice(0, 4) : "–");
      const res = p.resolution ?? (p.megapixels != null ? `${p.megapixels} MP` : "–");
      const tr = h("tr", { class: "clickable", dataset: { site: x.key } }, h("td", {}, x.rank), h("td", {}, year),
        h("td", {}, typeof res === "number" ? `${res} MP` : res), h("td", {}, (D.reasons[p.reason] || p.reason || "–").split(" · ")[0]),
        h("td", {}, `${it.n_cameras} ${D.typeLabel(it.camera_type).split(" ")[0]}`), h("td", { class: "nowrap" }, D.fmtWon(x.cost)));
      tr.addEventListener("click", () => openSite(x.key));
      return tr;
    })));
}

const markers = new Map();
function openSite(key) {
  const m = markers.get(key);
  if (!m) return;
  map.setView(m.getLatLng(), Math.max(map.getZoom(), 17));
  m.openPopup();
}

function drawSites(sites, { colour = null, coverage = true, ring = null } = {}) {
  for (const s of sites) {
    if (coverage) for (const shape of D.coverageShapes(s, { renderer: canvas, colour, fillOpacity: colour ? 0.08 : 0.18 })) shape.addTo(coverageLayer);
    const m = D.siteMarker(s, { renderer: canvas, fill: colour || undefined, stroke: ring || "#0b0f14", weight: ring ? 3.5 : 1.5 });
    m.bindPopup(() => D.sitePopup(s), { maxWidth: 400, minWidth: 330, className: "plan-popup" });
    m.addTo(siteLayer);
    markers.set(s.key, m);
  }
}

async function loadPriority(p, token) {
  setStatus("우선순위 계층 불러오는 중 · loading the priority layer …");
  try {
    const g = await api(`/api/plans/${p.id}/priority`);
    if (token !== shown.token) return null;
    const f = g.features[0];
    const cells = f ? f.geometry.coordinates.map((c, i) => [c[1], c[0], f.properties.scores[i]]) : [];
    D.drawPriority(priorityLayer, cells, g.cell_m, heatCanvas);
    setStatus(g.notes && g.notes.length ? `우선순위 priority: ${g.notes.join("; ")}` : "");
    return g.max_score;
  } catch (e) {
    if (token === shown.token) setStatus(`우선순위 계층 없음 · no priority layer: ${e.message}`, "warn");
    return null;
  }
}

async function showPlan(id) {
  const token = ++shown.token;
  const p = await api(`/api/plans/${id}`);
  if (token !== shown.token) return;
  shown.plan = p;
  clearMap(); markers.clear();
  history.replaceState(null, "", `/plans?plan=${p.id}`);
  const sites = D.groupSites(p.items);
  drawSites(sites);
  const pts = sites.map((s) => [s.lat, s.lon]);
  if (pts.length) map.fitBounds(pts, { padding: [30, 30], maxZoom: 16 });
  const kinds = [...new Set(sites.map((s) => s.kind))];
  setLegend({ kinds: kinds.length ? kinds : undefined });
  const replace = p.kind === "replace";
  fill(detailEl,
    h("h2", {}, `계획 #${p.id} · ${areaName(p)} · ${kindLabel(p.kind)}`),
    h("div", { class: "muted small" }, `${fmtTime(p.created_at)} · ${p.items.length} 항목 items`),
    proofBanner(p),
    downloads(p),
    replace ? replaceKpis(p) : sitesKpis(p, sites),
    replace ? null : mixTable(p.summary || {}, sites),
    replace ? null : solverLine(p),
    h("h2", { style: "margin-top:12px" }, replace ? "교체 순위 · replacement ranking" : "지점 · sites (클릭 click for the explanation)"),
    replace ? replaceTable(sites) : siteTable(sites));
  const max = await loadPriority(p, token);
  if (token === shown.token && max != null) setLegend({ kinds: kinds.length ? kinds : undefined, priorityMax: max });
  document.body.dataset.planReady = String(p.id);
}

function diffRow(label, a, b, d, fmt) {
  const cls = d == null || d === 0 ? "" : d > 0 ? "up" : "down";
  return h("tr", {}, h("td", { class: "muted" }, label), h("td", {}, fmt(a)), h("td", {}, fmt(b)),
    h("td", { class: cls }, d == null ? "–" : `${d > 0 ? "+" : ""}${fmt(d)}`));
}

async function showCompare(a, b) {
  const token = ++shown.token;
  let diff;
  try {
    diff = await api(`/api/plans/compare?a=${a}&b=${b}`);
  } catch (e) {
    detailEl.replaceChildren(h("div", { class: "error" }, `비교할 수 없음 · cannot compare: ${e.message}`));
    return;
  }
  const [pa, pb] = await Promise.all([api(`/api/plans/${a}`), api(`/api/plans/${b}`)]);
  if (token !== shown.token) return;
  shown.plan = null;
  clearMap(); markers.clear(); setStatus("");
  history.replaceState(null, "", `/plans?a=${a}&b=${b}`);
  const sa = D.groupSites(pa.items), sb = D.groupSites(pb.items);
  const inA = new Set(sa.map((s) => s.key)), inB = new Set(sb.map((s) => s.key));
  drawSites(sb.filter((s) => inA.has(s.key)), { colour: COLOURS.kept, coverage: false });
  drawSites(sa.filter((s) => !inB.has(s.key)), { colour: COLOURS.a, ring: "#f85149" });
  drawSites(sb.filter((s) => !inA.has(s.key)), { colour: COLOURS.b, ring: "#3fb950" });
  const pts = [...sa, ...sb].map((s) => [s.lat, s.lon]);
  if (pts.length) map.fitBounds(pts, { padding: [30, 30], maxZoom: 16 });
  setLegend({ compare: { ...COLOURS, aId: a, bId: b } });
  const A = diff.a, B = diff.b, d = diff.delta;
  const won = (v) => D.fmtWon(v), n0 = (v) => D.fmtNum(v, 0), n1 = (v) => D.fmtNum(v, 1);
  const siteList = (title, list, cls) => h("div", { class: `diff-list ${cls}` }, h("b", {}, title),
    h("ul", {}, list.slice(0, 12).map((s) => h("li", {}, `${D.siteKindKo(s.site_kind)} · ${D.dongName(s.dong) || "–"} · ${s.cameras} cams · ${D.fmtWon(s.cost_krw)} · value ${D.fmtNum(s.value, 1)}`))),
    list.length > 12 ? h("div", { class: "muted small" }, `… ${list.length - 12} more`) : null);
  fill(detailEl,
    h("h2", { id: "compare-title" }, `비교 · comparison: #${a} (A) → #${b} (B)`),
    diff.same_area ? null : h("div", { class: "notice" }, `서로 다른 지역 · different areas: ${A.area_name} / ${B.area_name}`),
    h("div", { class: "summary diff-counts" },
      h("div", { class: "kpi added" }, "추가 added", h("b", { id: "diff-added" }, diff.n_added)),
      h("div", { class: "kpi removed" }, "제거 removed", h("b", { id: "diff-removed" }, diff.n_removed)),
      h("div", { class: "kpi" }, "유지 kept", h("b", { id: "diff-kept" }, diff.n_kept))),
    h("table", { class: "items", id: "diff-table" },
      h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", { style: `color:${COLOURS.a}` }, `A #${a}`), h("th", { style: `color:${COLOURS.b}` }, `B #${b}`), h("th", {}, "B − A"))),
      h("tbody", {},
        h("tr", {}, h("td", { class: "muted" }, "최적성 proof"), h("td", {}, A.proven_optimal ? "증명 proven" : "미증명 NOT proven"),
          h("td", {}, B.proven_optimal ? "증명 proven" : "미증명 NOT proven"), h("td", {}, "")),
        diffRow("예산 budget", A.budget_krw, B.budget_krw, d.budget_krw, won),
        diffRow("비용 cost", A.cost_krw, B.cost_krw, d.cost_krw, won),
        diffRow("커버한 가치 covered value", A.value, B.value, d.value, n1),
        diffRow("커버 지점 points covered", A.points_covered, B.points_covered, d.points_covered, n0),
        diffRow("지점 sites", A.sites, B.sites, d.sites, n0),
        diffRow("카메라 cameras", A.cameras, B.cameras, d.cameras, n0),
        diffRow("회전형 PTZ", A.ptz, B.ptz, d.ptz, n0),
        diffRow("고정형 fixed", A.fixed, B.fixed, d.fixed, n0))),
    siteList("추가된 지점 · sites added (B only)", diff.added, "added"),
    siteList("제거된 지점 · sites removed (A only)", diff.removed, "removed"));
  document.body.dataset.compareReady = `${a}-${b}`;
}

const { plans } = await api("/api/plans");
if (!plans.length) listEl.append(h("div", { class: "muted" }, "저장된 계획 없음 · no plans saved yet (run `safecity plan sites ...`)."));
for (const sel of [selA, selB]) {
  sel.append(...plans.map((p) => h("option", { value: p.id }, `#${p.id} ${p.kind === "replace" ? "교체" : "지점"} · ${areaName(p)} · ${D.fmtWon(p.budget_krw)}`)));
}
if (plans.length > 1) { selA.value = String(plans[1].id); selB.value = String(plans[0].id); }
compareBtn.disabled = plans.length < 2;
compareBtn.addEventListener("click", () => {
  for (const r of listEl.children) r.classList.remove("selected");
  showCompare(selA.value, selB.value);
});
listEl.append(...plans.map((p) => {
  const st = D.proofStatus(p);
  const row = h("div", { class: "item plan-row", dataset: { plan: p.id } },
    h("b", {}, `#${p.id} ${kindLabel(p.kind)} · ${areaName(p)}`),
    st.proven ? null : h("span", { class: "badge-bad" }, "미증명 unproven"),
    h("div", { class: "muted small" }, `${fmtTime(p.created_at)} · ${p.n_items} 항목 items · ${D.fmtWon(p.cost_krw)} / 예산 ${D.fmtWon(p.budget_krw)}`));
  row.addEventListener("click", () => {
    for (const r of listEl.children) r.classList.toggle("selected", r === row);
    showPlan(p.id);
  });
  return row;
}));
const q = new URLSearchParams(location.search);
if (q.get("a") && q.get("b")) {
  selA.value = q.get("a"); selB.value = q.get("b");
  await showCompare(q.get("a"), q.get("b"));
} else if (plans.length) {
  const want = Number(q.get("plan")) || plans[0].id;
  listEl.querySelector(`[data-plan="${want}"]`)?.classList.add("selected");
  await showPlan(want);
}

// The operator's queue: incidents (events of one camera and zone folded together) in tabs with counts,
// updated live without reloading (rows never move under the pointer or the selection: a new incident is
// inserted above and the list scrolls by its height), bulk acknowledge, the detail of one incident
// (actions first, so escalation is above the fold at 1080p; best snapshot, objects, timeline, history,
// suppressions), false alarms with a period, the suppressions (admins: all), and keyboard shortcuts.
import { api, canOperate, connectLive, fmtTime, h, initPage, qs, sevBadge, stateBadge, TYPE_KO } from "./api.js";
import { nextKey, registerKeys } from "./keys.js";
import { refreshCount, toggleSound } from "./alarm.js";

const me = await initPage("incidents");
const operate = canOperate(me);
const main = document.getElementById("main");
const params = new URLSearchParams(location.search);

const TABS = [
  { id: "alerts", label: "Alerts to acknowledge", ko: "확인 필요", q: { needs_ack: "true" }, match: (i) => i.needs_ack, count: (c) => c.needs_ack },
  { id: "acknowledged", label: "Acknowledged", ko: "확인됨", q: { state: "acknowledged" }, match: (i) => i.state === "acknowledged", count: (c) => c.acknowledged },
  { id: "escalated", label: "Escalated", ko: "신고됨", q: { state: "escalated" }, match: (i) => i.state === "escalated", count: (c) => c.escalated },
  { id: "recorded", label: "Recorded", ko: "기록만", q: { level: "record" }, match: (i) => i.level === "record", count: (c) => c.recorded },
  { id: "closed", label: "Closed", ko: "종결", q: { state: "closed" }, match: (i) => i.state === "closed", count: (c) => c.closed },
  { id: "false", label: "False alarms", ko: "오경보", q: { closed_reason: "false_alarm" }, match: (i) => i.closed_reason === "false_alarm", count: (c) => c.false_alarm },
  ...(operate ? [{ id: "suppressions", label: "Suppressions", ko: "억제", count: (c) => c.suppressions }] : []),
];
const TARGETS = [["112", "112 경찰 police"], ["119", "119 소방·구급 fire/ambulance"], ["district", "구청 district office"]];
const PERIODS = [[900, "15 min"], [3600, "1 h"], [8 * 3600, "8 h (a shift)"], [86400, "24 h"], [7 * 86400, "7 days"]];

let tab = TABS.find((t) => t.id === params.get("tab")) || TABS[0];
let selectedId = params.get("id") ? Number(params.get("id")) : null;
let hovered = null;
let current = null; // the incident shown in the detail
const checked = new Set();
const rows = new Map(); // incident id -> tr
let newAbove = 0;
let loading = null; // live changes held while a list loads

// ------------------------------------------------------------------ layout
const tabBar = h("div", { class: "tabs queue-tabs", role: "tablist" }, TABS.map((t) =>
  h("button", { type: "button", role: "tab", id: `tab-${t.id}`, dataset: { tab: t.id }, onclick: () => switchTab(t) },
    `${t.label} · ${t.ko} `, h("span", { class: "tab-count", id: `count-${t.id}` }, "…"))));
const tbody = h("tbody", { id: "queue-body" });
const allBox = h("input", { type: "checkbox", id: "check-all", title: "check every row that needs acknowledgement" });
const bulkBtn = h("button", { type: "button", id: "bulk-ack", class: "primary", disabled: true }, "Acknowledge checked (0)");
const newBtn = h("button", { type: "button", id: "new-above", class: "new-above", hidden: true,
  onclick: () => { list.scrollTop = 0; } }, "");
const table = h("table", { class: "queue" },
  h("thead", {}, h("tr", {}, h("th", {}, operate ? allBox : ""), ...["Sev", "What", "Camera", "Zone", "Events",
    "First", "Last", "State"].map((c) => h("th", {}, c)))), tbody);
const list = h("div", { class: "queue-list", id: "queue-list" }, table, h("div", { class: "queue-spacer" }));
const status = h("span", { class: "muted", id: "queue-status", role: "status" });
const total = h("span", { class: "muted", id: "queue-total" });
const detail = h("div", { class: "panel detail incident-detail", id: "detail" },
  h("div", { class: "muted" }, "Select an incident (j / k or click). Press ? for the keyboard."));
main.append(h("div", { class: "queue-layout" },
  h("div", { class: "panel queue-panel" }, tabBar,
    h("div", { class: "row queue-tools" }, operate ? bulkBtn : null, total, status, newBtn,
      h("a", { href: "/events", class: "muted", style: "margin-left:auto" }, "Event history →")),
    list),
  detail));

// ------------------------------------------------------------------ rows
const camLabel = (i) => [h("span", { class: "cam-name" }, i.camera_name || i.camera),
  i.camera_name ? h("span", { class: "cam-id muted" }, ` ${i.camera}`) : null];
const typesText = (i) => (i.types || []).map((t) => TYPE_KO[t] || t).join(", ") || "–";

function cells(inc) {
  const box = h("input", { type: "checkbox", class: "row-check", "aria-label": `check incident ${inc.id}`,
    checked: checked.has(inc.id), disabled: !inc.needs_ack });
  box.addEventListener("click", (e) => { e.stopPropagation(); setChecked(inc.id, box.checked); });
  return [h("td", {}, operate ? box : ""), h("td", {}, sevBadge(inc.severity)),
    h("td", {}, typesText(inc), inc.level === "record" ? h("span", { class: "muted" }, " · record") : null),
    h("td", {}, ...camLabel(inc)), h("td", {}, inc.zone || "–"),
    h("td", { class: "num" }, String(inc.event_count), inc.open_events ? h("span", { class: "live-dot", title: "events still live" }) : null),
    h("td", { class: "time" }, fmtTime(inc.first_at)), h("td", { class: "time" }, fmtTime(inc.last_at)),
    h("td", {}, stateBadge(inc.state), inc.closed_reason === "false_alarm" ? h("span", { class: "muted" }, " false alarm") : null)];
}

function makeRow(inc) {
  const tr = h("tr", { class: "clickable", dataset: { id: inc.id } });
  tr.addEventListener("click", () => select(inc.id));
  tr.addEventListener("mouseenter", () => { hovered = tr; });
  tr.addEventListener("mouseleave", () => { if (hovered === tr) hovered = null; });
  fillRow(tr, inc);
  rows.set(inc.id, tr);
  return tr;
}
function fillRow(tr, inc) {
  tr.replaceChildren(...cells(inc));
  tr.classList.toggle("selected", inc.id === selectedId);
  tr.classList.toggle("needs-ack", inc.needs_ack);
  tr.classList.toggle("left-tab", tab.match ? !tab.match(inc) : false);
  if (!inc.needs_ack) tr.classList.remove("ringing");
  tr.dataset.state = inc.state;
}

// Insert a row at the top without moving what the operator looks at: the row under the pointer, the
// selected row or the first visible row keeps its place on screen (the list scrolls by the new row's height).
function insertTop(tr) {
  const anchor = hovered || rows.get(selectedId) || [...tbody.children].find((r) => r.getBoundingClientRect().bottom > list.getBoundingClientRect().top);
  const before = anchor ? anchor.getBoundingClientRect().top : null;
  const atTop = list.scrollTop === 0 && !hovered && selectedId === null;
  tbody.prepend(tr);
  if (anchor && !atTop) {
    list.scrollTop += anchor.getBoundingClientRect().top - before;
    newAbove += 1;
  }
  paintNewAbove();
}
function paintNewAbove() {
  if (list.scrollTop <= 2) newAbove = 0;
  newBtn.hidden = !newAbove;
  newBtn.textContent = `↑ ${newAbove} new above`;
}
list.addEventListener("scroll", paintNewAbove);

function setChecked(id, on) {
  if (on) checked.add(id); else checked.delete(id);
  const tr = rows.get(id);
  const box = tr?.querySelector(".row-check");
  if (box) box.checked = on;
  bulkBtn.textContent = `Acknowledge checked (${checked.size})`;
  bulkBtn.disabled = !checked.size;
}
allBox.addEventListener("change", () => {
  for (const [id, tr] of rows) if (tr.classList.contains("needs-ack")) setChecked(id, allBox.checked);
});
bulkBtn.addEventListener("click", () => bulkAck());

async function bulkAck() {
  const ids = [...checked];
  if (!ids.length) return;
  bulkBtn.disabled = true;
  let done = 0; const failed = [];
  for (const id of ids) {
    try { const inc = await api(`/api/incidents/${id}/ack`, { method: "POST", body: { note: "bulk acknowledge" } }); done += 1; upsert(inc); setChecked(id, false); }
    catch (e) { failed.push(`${id}: ${e.message}`); }
  }
  status.textContent = `${done} acknowledged${failed.length ? `; not: ${failed.join("; ")}` : ""}`;
  allBox.checked = false;
  if (current && ids.includes(current.id)) await show(current.id);
  refreshCounts(); refreshCount();
}

// ------------------------------------------------------------------ tabs, counts, loading
async function counts() {
  const c = { ...(await api("/api/incidents?limit=1")).counts };
  const [rec, fa] = await Promise.all([api("/api/incidents?limit=1&level=record"), api("/api/incidents?limit=1&closed_reason=false_alarm")]);
  c.recorded = rec.total; c.false_alarm = fa.total;
  if (operate) c.suppressions = (await api("/api/suppressions?active=true&limit=1000")).suppressions.length;
  return c;
}
let countsTimer = null;
function refreshCounts() {
  clearTimeout(countsTimer);
  countsTimer = setTimeout(async () => {
    try {
      const c = await counts();
      for (const t of TABS) {
        const el = document.getElementById(`count-${t.id}`);
        el.textContent = String(t.count(c));
        el.classList.toggle("some", t.count(c) > 0);
      }
      total.textContent = `${tab.count(c)} in this tab`;
    } catch { /* next change retries */ }
  }, 300);
}

function switchTab(t) {
  tab = t;
  history.replaceState(null, "", `/incidents${qs({ tab: t.id, id: selectedId })}`);
  load();
}

async function load() {
  for (const b of tabBar.children) b.classList.toggle("active", b.dataset.tab === tab.id);
  delete tbody.dataset.loaded;
  rows.clear(); checked.clear(); setChecked(-1, false); newAbove = 0; paintNewAbove();
  refreshCounts();
  if (tab.id === "suppressions") { await loadSuppressions(); return; }
  table.hidden = false;
  list.querySelector(".sup-table")?.remove();
  let data;
  loading = [];
  try { data = await api(`/api/incidents${qs({ ...tab.q, limit: 500 })}`); } catch (e) {
    loading = null;
    tbody.replaceChildren(h("tr", {}, h("td", { colspan: 9, class: "error" }, e.message))); return;
  }
  status.textContent = data.total > data.incidents.length ? `newest ${data.incidents.length} shown` : "";
  tbody.replaceChildren(...data.incidents.map(makeRow));
  if (!data.incidents.length) tbody.append(h("tr", { class: "empty" }, h("td", { colspan: 9, class: "muted" }, "Nothing here.")));
  list.scrollTop = 0;
  const missed = loading;
  loading = null;
  for (const inc of missed) upsert(inc); // changes that arrived while the list was loading
  tbody.dataset.loaded = tab.id;
}

// a changed or new incident (live message or the answer to an action)
function upsert(inc) {
  if (loading) { loading.push(inc); return; }
  const tr = rows.get(inc.id);
  if (tr) fillRow(tr, inc);
  else if (tab.match && tab.match(inc)) {
    tbody.querySelector("tr.empty")?.remove();
    insertTop(makeRow(inc));
  }
  if (current && current.id === inc.id && inc.updated_at !== current.updated_at) showSoon(inc.id);
}

// ------------------------------------------------------------------ selection and keyboard moves
function visibleRows() { return [...tbody.querySelectorAll("tr.clickable")]; }
function move(step) {
  const all = visibleRows();
  if (!all.length) return;
  const i = all.findIndex((r) => Number(r.dataset.id) === selectedId);
  const next = all[Math.max(0, Math.min(all.length - 1, i < 0 ? 0 : i + step))];
  select(Number(next.dataset.id));
  next.scrollIntoView({ block: "nearest" });
}
function select(id) {
  selectedId = id;
  for (const [rid, tr] of rows) tr.classList.toggle("selected", rid === id);
  history.replaceState(null, "", `/incidents${qs({ tab: tab.id, id })}`);
  showSoon(id, 0);
}
let showTimer = null;
function showSoon(id, ms = 250) { clearTimeout(showTimer); showTimer = setTimeout(() => show(id), ms); }

// ------------------------------------------------------------------ detail
const err = h("div", { class: "error", id: "action-error", role: "alert" });
const note = h("textarea", { id: "inc-note", name: "note", maxlength: "2000", placeholder: "note: what you saw / did (n)" });
const period = h("select", { id: "fa-period", name: "period", title: "how long matching events are suppressed" },
  PERIODS.map(([s, label]) => h("option", { value: s, selected: s === 3600 }, label)));

async function act(path, body, what) {
  if (!current) return;
  err.textContent = "";
  const id = current.id;
  try {
    const out = await api(`/api/incidents/${id}/${path}`, { method: "POST", body });
    upsert(out.incident || out);
    status.textContent = `${what}: incident ${id}`;
    note.value = "";
  } catch (e) { err.textContent = `${what} failed: ${e.message}`; return; }
  refreshCounts(); refreshCount();
  await show(id);
}
const noteBody = () => ({ note: note.value.trim() || null });
const acknowledge = () => current?.state === "new" && act("ack", noteBody(), "Acknowledged");
const escalate = (target) => act("escalate", { target, ...noteBody() }, `Escalated to ${target}`);
const closeIt = () => current && current.state !== "closed" && act("close", noteBody(), "Closed");
const falseAlarm = () => current && current.state !== "closed"
  && act("false-alarm", { duration_s: Number(period.value), ...noteBody() }, "False alarm");

function actionBar(inc) {
  if (!operate) return h("div", { class: "notice", id: "view-only" }, "View only: acknowledging and escalating need the operator role.");
  if (inc.state === "closed") return h("div", { class: "muted", id: "closed-note" }, `Closed${inc.closed_reason ? ` (${inc.closed_reason.replace("_", " ")})` : ""}.`);
  const b = (id, cls, label, key, fn, disabled = false) =>
    h("button", { type: "button", id, class: cls, disabled, onclick: fn }, label, h("kbd", {}, key));
  return h("div", { class: "action-bar", id: "inc-actions" },
    h("div", { class: "row" },
      b("ack-btn", "primary", "Acknowledge ", "a", acknowledge, inc.state !== "new"),
      ...TARGETS.map(([t, label], i) => b(`esc-${t}`, "danger", `${label} `, `e ${i + 1}`, () => escalate(t))),
    ),
    h("div", { class: "row" },
      h("label", { class: "inline" }, "False alarm for", period),
      b("fa-btn", "warn", "False alarm ", "f", falseAlarm),
      b("close-btn", "", "Close ", "c", closeIt)),
    note, err);
}

async function show(id) {
  let inc;
  try { inc = await api(`/api/incidents/${id}`); } catch (e) {
    detail.replaceChildren(h("div", { class: "error" }, e.message)); current = null; return;
  }
  if (selectedId !== id) return; // the operator moved on meanwhile
  const keepNote = note.value;
  current = inc;
  const best = inc.best_event;
  const snap = best ? h("img", { class: "snap", id: "snapshot", alt: "best snapshot", src: `/api/events/${encodeURIComponent(best)}/snapshot` }) : null;
  snap?.addEventListener("error", () => snap.replaceWith(h("div", { class: "muted snap-missing" }, "No snapshot on disk yet.")));
  const sups = inc.suppressions || [];
  const parts = [
    h("h2", { id: "inc-title" }, sevBadge(inc.severity), " ", typesText(inc), " · ", ...camLabel(inc), " ", stateBadge(inc.state),
      inc.needs_ack ? h("span", { class: "needs-ack-tag" }, "확인 필요") : null),
    actionBar(inc),
    h("div", { class: "detail-grid" },
      snap || h("div", { class: "muted snap-missing" }, "No snapshot."),
      h("dl", { id: "inc-facts" },
        h("dt", {}, "Camera"), h("dd", {}, ...camLabel(inc), " ", h("a", { id: "open-camera",
          href: `/camera?key=${encodeURIComponent(inc.camera)}&at=${encodeURIComponent(inc.first_at)}`,
          title: "live view, pin to the wall, recordings around the incident (o)" }, "open camera ↗")), h("dt", {}, "Zone / line"), h("dd", {}, inc.zone || "whole frame"),
        h("dt", {}, "Level"), h("dd", {}, inc.level === "alert" ? "alert (rings, needs acknowledgement)" : "record (searchable)"),
        h("dt", {}, "Events"), h("dd", { id: "inc-count" }, `${inc.event_count}${inc.open_events ? ` (${inc.open_events} live)` : ""}`),
        h("dt", {}, "Objects"), h("dd", { id: "inc-objects" }, (inc.object_classes || []).join(", ") || "–",
          inc.track_ids?.length ? h("span", { class: "muted" }, ` · tracks ${inc.track_ids.slice(0, 12).join(", ")}${inc.track_ids.length > 12 ? " …" : ""}`) : null),
        h("dt", {}, "First"), h("dd", {}, fmtTime(inc.first_at)), h("dt", {}, "Last"), h("dd", {}, fmtTime(inc.last_at)),
        h("dt", {}, "Rang"), h("dd", {}, `${inc.rings}×`), h("dt", {}, "Incident"), h("dd", {}, `#${inc.id}`))),
  ];
  if (sups.length) parts.push(h("h3", {}, "False-alarm suppression"), supTable(sups, "inc-sups"));
  parts.push(h("h3", {}, `Timeline (${inc.timeline.length}${inc.event_count > inc.timeline.length ? ` of ${inc.event_count}` : ""})`),
    h("div", { class: "timeline-wrap" }, h("table", { class: "timeline", id: "timeline" },
      h("thead", {}, h("tr", {}, ["Start", "Event", "Sev", "Object", "State", ""].map((c) => h("th", {}, c)))),
      h("tbody", {}, inc.timeline.map((ev) => h("tr", {},
        h("td", { class: "time" }, fmtTime(ev.start_at)), h("td", {}, TYPE_KO[ev.type] || ev.type, ev.zone ? ` · ${ev.zone}` : ""),
        h("td", {}, sevBadge(ev.severity)), h("td", {}, ev.object_class || "–"), h("td", {}, stateBadge(ev.state)),
        h("td", {}, h("a", { href: `/events?uid=${encodeURIComponent(ev.uid)}` }, "open"))))))),
    h("h3", {}, "History"),
    inc.actions.length ? h("ul", { class: "history", id: "inc-history" }, inc.actions.map((a) => h("li", {},
      `${a.action}${a.target ? ` → ${a.target}` : ""} · ${a.username || "auto"} · ${fmtTime(a.at)}${a.note ? ` — ${a.note}` : ""}`)))
      : h("div", { class: "muted" }, "No action yet."));
  detail.replaceChildren(...parts);
  note.value = keepNote;
}

// ------------------------------------------------------------------ suppressions
function supTable(sups, id) {
  return h("table", { class: "sup-table", id }, h("thead", {}, h("tr", {},
    ["#", "Camera", "Rule / object", "By", "From", "Until", "Suppressed", ""].map((c) => h("th", {}, c)))),
  h("tbody", {}, sups.map((s) => h("tr", { dataset: { id: s.id }, class: s.active ? "active" : "ended" },
    h("td", {}, String(s.id)), h("td", {}, nameOf(s.camera)), h("td", {}, `${TYPE_KO[s.type] || s.type} / ${s.object_class || "any"}`),
    h("td", {}, s.username, s.note ? h("div", { class: "muted" }, s.note) : null),
    h("td", { class: "time" }, fmtTime(s.created_at)),
    h("td", { class: "time" }, s.lifted_at ? `lifted ${fmtTime(s.lifted_at)} by ${s.lifted_by}` : fmtTime(s.expires_at)),
    h("td", { class: "num sup-count" }, String(s.suppressed_count)),
    h("td", {}, s.active && operate ? h("button", { type: "button", class: "lift-btn", onclick: () => lift(s.id) }, "Lift") : (s.active ? "active" : "ended"))))));
}
const names = new Map();
const nameOf = (key) => names.get(key) || key;

async function lift(id) {
  err.textContent = "";
  try { await api(`/api/suppressions/${id}`, { method: "DELETE" }); status.textContent = `Suppression ${id} lifted`; }
  catch (e) { status.textContent = `Lifting ${id} failed: ${e.message}`; }
  refreshCounts();
  if (tab.id === "suppressions") await loadSuppressions(); else if (current) await show(current.id);
}

async function loadSuppressions() {
  table.hidden = true;
  let data;
  try { data = await api("/api/suppressions?limit=500"); } catch (e) { status.textContent = e.message; return; }
  const t = supTable(data.suppressions, "sup-list");
  list.querySelector(".sup-table")?.remove();
  list.prepend(t);
  const active = data.suppressions.filter((s) => s.active).length;
  status.textContent = `${active} active, ${data.suppressions.length - active} ended${me.role === "admin" ? " (all cameras)" : " (your cameras)"}`;
}

// ------------------------------------------------------------------ live
let supTimer = null;
connectLive((msg) => {
  if (msg.type === "incident") {
    const inc = msg.incident;
    if (inc.camera_name) names.set(inc.camera, inc.camera_name);
    upsert(inc);
    refreshCounts();
  } else if (msg.type === "event") {
    // a suppressed event joins no incident: refresh what shows suppression counts
    const cam = msg.event?.camera;
    if (tab.id === "suppressions" || (current && current.camera === cam && (current.suppressions || []).length)) {
      clearTimeout(supTimer);
      supTimer = setTimeout(() => { if (tab.id === "suppressions") loadSuppressions(); else if (current) show(current.id); }, 600);
    }
  }
});
window.addEventListener("safecity:alarm", (e) => {
  const inc = e.detail.incident;
  upsert(inc);
  const tr = rows.get(inc.id);
  if (tr) { tr.classList.remove("ringing"); void tr.offsetWidth; tr.classList.add("ringing"); }
});

// ------------------------------------------------------------------ keyboard
const tabStep = (d) => switchTab(TABS[(TABS.indexOf(tab) + d + TABS.length) % TABS.length]);
registerKeys("Queue", [
  { keys: ["j", "ArrowDown"], label: "next incident", run: () => move(1) },
  { keys: ["k", "ArrowUp"], label: "previous incident", run: () => move(-1) },
  { keys: ["t"], label: "next tab", run: () => tabStep(1) },
  { keys: ["T"], label: "previous tab", run: () => tabStep(-1) },
  { keys: ["r"], label: "reload the list (shows what left the tab)", run: () => load() },
  { keys: ["m"], label: "alarm sound on / off", run: () => toggleSound() },
  { keys: ["o"], label: "open the incident's camera (live, pin, recordings around it)", run: () => document.getElementById("open-camera")?.click() },
  ...(operate ? [
    { keys: ["a"], label: "acknowledge the selected incident (with the note)", run: () => acknowledge() },
    { keys: ["e"], label: "escalate: then 1 = 112 경찰, 2 = 119 소방·구급, 3 = 구청", run: () => current && current.state !== "closed"
      && nextKey("Escalate incident: 1 = 112 경찰 · 2 = 119 소방·구급 · 3 = 구청 · Esc = cancel", (k) => {
        const t = { 1: "112", 2: "119", 3: "district" }[k]; if (t) escalate(t);
      }) },
    { keys: ["f"], label: "false alarm: then Enter = the chosen period, 1-5 = 15 min / 1 h / 8 h / 24 h / 7 days", run: () => current && current.state !== "closed"
      && nextKey(`False alarm, suppress similar events for: Enter = ${period.selectedOptions[0].textContent} · ${PERIODS.map(([, l], i) => `${i + 1} = ${l}`).join(" · ")} · Esc = cancel`, (k) => {
        const i = Number(k) - 1;
        if (PERIODS[i]) period.value = String(PERIODS[i][0]);
        if (k === "Enter" || PERIODS[i]) falseAlarm();
      }) },
    { keys: ["c"], label: "close the selected incident", run: () => closeIt() },
    { keys: ["n"], label: "write a note (Esc leaves the field)", run: () => note.focus() },
    { keys: ["x"], label: "check / uncheck the selected row", run: () => selectedId !== null && rows.get(selectedId)?.classList.contains("needs-ack") && setChecked(selectedId, !checked.has(selectedId)) },
    { keys: ["A"], label: "acknowledge every checked incident", run: () => bulkAck() },
  ] : []),
]);

await load();
if (selectedId !== null) await show(selectedId);

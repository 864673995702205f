// Audit (admins): the log that reads like one. Two views: the audit log (logins, acknowledgements,
// escalations, refusals, admin changes; viewing as view_start / view_end rows) and viewing sessions (who
// watched which camera, how, from when to when). Filters: user, action, camera, period (KST). CSV export of
// the period (the export itself is audited).
import { TIME, api, fmtDur, fmtTime, h, initPage, localToIso, qs } from "./api.js";

await initPage("audit", { minRole: "admin" });
const main = document.getElementById("main");

// every action the console writes (docs/api.md#audit-actions), grouped as an operator reads them
const ACTIONS = [
  ["Sign-in", ["login", "logout", "unauthenticated", "denied"]],
  ["Viewing", ["view_start", "view_end", "view_camera", "view_event", "view_snapshot", "view_clip", "view_track",
    "view_mask_lift", "lift_privacy_mask", "end_mask_lift", "view_public_key"]],
  ["Incidents and events", ["incident_ack", "incident_escalate", "incident_close", "false_alarm", "lift_suppression",
    "ack", "escalate", "close", "list_events"]],
  ["Wall and PTZ", ["wall_pin", "wall_unpin", "ptz_lease", "ptz_move", "ptz_release", "ptz_lease_break"]],
  ["Search, cases, evidence", ["search_tracks", "search_where_else", "render_synopsis", "create_case", "add_case_item",
    "view_case", "export_case", "export_evidence", "download_export"]],
  ["Plans", ["list_plans", "view_plan", "view_plan_priority", "download_plan", "compare_plans"]],
  ["Administration", ["user_create", "user_update", "user_delete", "user_password_reset", "group_update",
    "group_delete", "audit_export"]],
];
const HOWS = [["", "any way"], ["wall", "wall tile"], ["on_demand", "on demand"], ["map", "map popup"],
  ["mjpeg", "MJPEG stream"], ["still", "still frames"], ["playback", "playback"]];

let view = new URLSearchParams(location.search).get("view") === "sessions" ? "sessions" : "log";
const names = new Map(); // camera key -> Hangul name
const camList = h("datalist", { id: "a-cameras" });
const f = {
  username: h("input", { id: "a-user", placeholder: "user name", size: 12 }),
  action: h("select", { id: "a-action" }, h("option", { value: "" }, "any action"),
    ACTIONS.map(([group, names]) => h("optgroup", { label: group }, names.map((a) => h("option", { value: a }, a))))),
  camera: h("input", { id: "a-camera", placeholder: "camera key or name", list: "a-cameras", size: 18 }),
  how: h("select", { id: "a-how" }, HOWS.map(([v, label]) => h("option", { value: v }, label))),
  allowed: h("select", { id: "a-allowed" }, h("option", { value: "" }, "allowed or refused"),
    h("option", { value: "true" }, "allowed"), h("option", { value: "false" }, "refused")),
  since: h("input", { id: "a-since", placeholder: "YYYY-MM-DD HH:MM", size: 16 }),
  until: h("input", { id: "a-until", placeholder: "YYYY-MM-DD HH:MM", size: 16 }),
};
const err = h("div", { class: "error", id: "audit-error" });
const exportBtn = h("button", { type: "button", id: "audit-export", title: "CSV of the period (audited)" }, "Export CSV");
const only = (cls, ...nodes) => nodes.map((n) => h("span", { class: `only-${cls}` }, n));
const form = h("form", { class: "row", id: "audit-filters" },
  h("label", {}, "User", f.username),
  ...only("log", h("label", {}, "Action", f.action), h("label", {}, "Allowed", f.allowed)),
  h("label", {}, "Camera", f.camera),
  ...only("sessions", h("label", {}, "How", f.how)),
  h("label", { id: "a-since-label" }, `From (${TIME.label})`, f.since),
  h("label", { id: "a-until-label" }, `Until (${TIME.label})`, f.until),
  h("button", { class: "primary", type: "submit" }, "Filter"), exportBtn, camList);
const tabs = h("div", { class: "tabs", id: "audit-tabs" },
  h("button", { type: "button", id: "tab-log", dataset: { view: "log" } }, "Audit log"),
  h("button", { type: "button", id: "tab-sessions", dataset: { view: "sessions" } }, "Viewing sessions"));
const total = h("div", { class: "muted", id: "audit-total" });
const head = h("thead", {});
const body = h("tbody", { id: "audit-body" });
main.append(h("div", { class: "panel", style: "margin-bottom:12px" }, tabs, form, err),
  h("div", { class: "panel" }, total, h("div", { class: "table-scroll" }, h("table", { id: "audit-table" }, head, body))));

function camLabel(key, known) {
  if (!key) return "–";
  const name = known || names.get(key);
  return name && name !== key ? h("span", { title: key }, name, h("span", { class: "muted small" }, ` ${key}`)) : key;
}
// a camera typed by name (from the list) -> its key
function cameraKey() {
  const v = f.camera.value.trim();
  if (!v || names.has(v)) return v;
  for (const [k, n] of names) if (n === v) return k;
  return v;
}
function period() {
  const since = localToIso(f.since.value), until = localToIso(f.until.value);
  if (f.since.value.trim() && !since) throw new Error(`From: expected YYYY-MM-DD HH:MM (${TIME.label}), got "${f.since.value}"`);
  if (f.until.value.trim() && !until) throw new Error(`Until: expected YYYY-MM-DD HH:MM (${TIME.label}), got "${f.until.value}"`);
  return { since, until };
}
// "YYYY-MM-DD HH:MM" of an instant in the console's zone
function zoneText(d) { const s = fmtTime(d); return s.slice(0, 16); }

function renderTabs() {
  for (const b of tabs.querySelectorAll("button")) b.classList.toggle("active", b.dataset.view === view);
  main.dataset.view = view;
  for (const el of form.querySelectorAll(".only-log")) el.hidden = view !== "log";
  for (const el of form.querySelectorAll(".only-sessions")) el.hidden = view !== "sessions";
}

async function loadLog() {
  const { since, until } = period();
  const data = await api(`/api/audit${qs({ username: f.username.value.trim(), action: f.action.value,
    allowed: f.allowed.value, camera: cameraKey(), since, until, limit: 500 })}`);
  total.textContent = `${data.total} entr${data.total === 1 ? "y" : "ies"}${data.total > data.entries.length ? ` (newest ${data.entries.length} shown)` : ""}`;
  head.replaceChildren(h("tr", {}, ["Time", "User", "Action", "Target", "From", "Allowed", "Detail"].map((c) => h("th", {}, c))));
  body.replaceChildren(...data.entries.map((e) => h("tr", { dataset: { action: e.action } },
    h("td", { class: "nowrap" }, fmtTime(e.at)), h("td", {}, e.username || "–"), h("td", {}, e.action),
    h("td", {}, e.target_type === "camera" ? camLabel(e.target_id, e.camera_name) : e.target_type ? `${e.target_type} ${e.target_id || ""}` : "–"),
    h("td", {}, e.remote_addr || "–"),
    h("td", {}, e.allowed ? "✔" : h("span", { class: "error" }, "✘ refused")), h("td", {}, e.detail || ""))));
}

async function loadSessions() {
  const { since, until } = period();
  const data = await api(`/api/audit/sessions${qs({ username: f.username.value.trim(), camera: cameraKey(),
    how: f.how.value, since, until, limit: 500 })}`);
  total.textContent = `${data.total} viewing session${data.total === 1 ? "" : "s"}${data.total > data.sessions.length ? ` (newest ${data.sessions.length} shown)` : ""}`;
  head.replaceChildren(h("tr", {}, ["Camera", "User", "How", "Start", "End", "Duration", "From"].map((c) => h("th", {}, c))));
  body.replaceChildren(...data.sessions.map((s) => h("tr", { class: "session", dataset: { session: s.id, camera: s.camera } },
    h("td", {}, s.camera_name && s.camera_name !== s.camera
      ? h("span", {}, s.camera_name, h("span", { class: "muted small" }, ` ${s.camera}`)) : s.camera),
    h("td", {}, s.username), h("td", {}, s.how_label + (s.detail ? ` · ${s.detail}` : "")),
    h("td", { class: "nowrap" }, fmtTime(s.started_at)),
    h("td", { class: "nowrap" }, s.open ? h("span", { class: "state state-new" }, "watching") : fmtTime(s.ended_at),
      s.end_reason && s.end_reason !== "closed" && !s.open ? h("span", { class: "muted small" }, ` (${s.end_reason})`) : null),
    h("td", { class: "nowrap" }, fmtDur(s.open ? Math.max(s.duration_s, (Date.now() + TIME.offsetMs) / 1000 - Date.parse(s.started_at) / 1000) : s.duration_s)),
    h("td", {}, s.remote_addr || "–"))));
}

async function load() {
  err.textContent = "";
  renderTabs();
  try { await (view === "log" ? loadLog() : loadSessions()); }
  catch (e) { err.textContent = e.message; }
}

exportBtn.addEventListener("click", () => {
  err.textContent = "";
  try {
    let { since, until } = period();
    if (!since || !until) { // no period given: the last 24 hours, shown in the fields
      const now = new Date(Date.now() + TIME.offsetMs);
      const then = new Date(now.getTime() - 86400e3);
      f.until.value = f.until.value || zoneText(new Date(now.getTime() + 60e3));
      f.since.value = f.since.value || zoneText(then);
      ({ since, until } = period());
    }
    const params = { what: view, since, until, username: f.username.value.trim(), camera: cameraKey() };
    if (view === "log") Object.assign(params, { action: f.action.value, allowed: f.allowed.value });
    else params.how = f.how.value;
    const a = h("a", { href: `/api/audit/export${qs(params)}`, download: "" });
    document.body.append(a); a.click(); a.remove();
  } catch (e) { err.textContent = e.message; }
});
tabs.addEventListener("click", (e) => {
  const b = e.target.closest("button");
  if (!b) return;
  view = b.dataset.view;
  history.replaceState(null, "", view === "sessions" ? "?view=sessions" : location.pathname);
  load();
});
form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
try {
  const { cameras } = await api("/api/admin/cameras?limit=1000");
  for (const c of cameras) names.set(c.key, c.name);
  camList.replaceChildren(...cameras.map((c) => h("option", { value: c.key }, c.name)));
} catch (e) { console.error(e); }
await load();

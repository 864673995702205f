// Audit (admins): who viewed which camera or clip, logins, acknowledgements, escalations, refusals.
import { api, fmtTime, h, initPage, localToIso, qs } from "./api.js";

await initPage("audit", { minRole: "admin" });
const main = document.getElementById("main");
const f = {
  username: h("input", { id: "a-user", placeholder: "user" }),
  action: h("select", { id: "a-action" }, ["", "login", "logout", "view_camera", "view_snapshot", "view_clip", "view_event",
    "ack", "escalate", "close", "denied", "unauthenticated", "user_create", "user_update", "group_update"].map((a) =>
    h("option", { value: a }, a || "any action"))),
  allowed: h("select", { id: "a-allowed" }, h("option", { value: "" }, "allowed or refused"),
    h("option", { value: "true" }, "allowed"), h("option", { value: "false" }, "refused")),
  target: h("input", { id: "a-target", placeholder: "target id (camera, event uid)" }),
  since: h("input", { id: "a-since", type: "datetime-local" }),
  until: h("input", { id: "a-until", type: "datetime-local" }),
};
const form = h("form", { class: "row", id: "audit-filters" }, h("label", {}, "User", f.username), h("label", {}, "Action", f.action),
  h("label", {}, "Allowed", f.allowed), h("label", {}, "Target", f.target), h("label", {}, "From", f.since),
  h("label", {}, "Until", f.until), h("button", { class: "primary", type: "submit" }, "Filter"));
const body = h("tbody", { id: "audit-body" });
const total = h("div", { class: "muted", id: "audit-total" });
main.append(h("div", { class: "panel", style: "margin-bottom:12px" }, form), h("div", { class: "panel" }, total,
  h("table", {}, h("thead", {}, h("tr", {}, ["Time", "User", "Action", "Target", "From", "Allowed", "Detail"].map((c) => h("th", {}, c)))), body)));

async function load() {
  const q = qs({ username: f.username.value.trim(), action: f.action.value, allowed: f.allowed.value,
    target_id: f.target.value.trim(), since: localToIso(f.since.value), until: localToIso(f.until.value), limit: 500 });
  const data = await api(`/api/audit${q}`);
  total.textContent = `${data.total} entr${data.total === 1 ? "y" : "ies"}`;
  body.replaceChildren(...data.entries.map((e) => h("tr", { dataset: { action: e.action } },
    h("td", {}, fmtTime(e.at)), h("td", {}, e.username || "–"), h("td", {}, e.action),
    h("td", {}, e.target_type ? `${e.target_type} ${e.target_id || ""}` : "–"), h("td", {}, e.remote_addr || "–"),
    h("td", {}, e.allowed ? "✔" : h("span", { class: "error" }, "✘ refused")), h("td", {}, e.detail || ""))));
}
form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
await load();

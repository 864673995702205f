// Users and camera groups (admins): create users, change roles/groups, disable; edit groups.
import { api, h, initPage } from "./api.js";

const me = await initPage("admin", { minRole: "admin" });
const main = document.getElementById("main");
const usersBody = h("tbody", { id: "users-body" });
const groupsBody = h("tbody", { id: "groups-body" });
const err = h("div", { class: "error", id: "admin-error" });
const nu = { username: h("input", { id: "nu-name", placeholder: "user name" }),
  password: h("input", { id: "nu-pass", type: "password", placeholder: "password (8+)" }),
  role: h("select", { id: "nu-role" }, ["viewer", "operator", "admin"].map((r) => h("option", { value: r }, r))),
  groups: h("input", { id: "nu-groups", placeholder: "groups, comma-separated" }) };
const newUser = h("form", { class: "row", id: "new-user" }, h("label", {}, "Name", nu.username), h("label", {}, "Password", nu.password),
  h("label", {}, "Role", nu.role), h("label", {}, "Groups", nu.groups), h("button", { class: "primary", type: "submit" }, "Add user"));
const ng = { name: h("input", { id: "ng-name", placeholder: "group name" }), cameras: h("input", { id: "ng-cams", placeholder: "camera keys, comma-separated", size: 40 }),
  description: h("input", { id: "ng-desc", placeholder: "description" }) };
const newGroup = h("form", { class: "row", id: "new-group" }, h("label", {}, "Group", ng.name), h("label", {}, "Cameras", ng.cameras),
  h("label", {}, "Description", ng.description), h("button", { class: "primary", type: "submit" }, "Save group"));
main.append(err,
  h("div", { class: "panel", style: "margin-bottom:12px" }, h("h2", {}, "Users"), newUser,
    h("table", {}, h("thead", {}, h("tr", {}, ["User", "Role", "Groups", "Status", ""].map((c) => h("th", {}, c)))), usersBody)),
  h("div", { class: "panel" }, h("h2", {}, "Camera groups"), newGroup,
    h("table", {}, h("thead", {}, h("tr", {}, ["Group", "Cameras", "Description", ""].map((c) => h("th", {}, c)))), groupsBody)));
const split = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);

async function run(fn) { err.textContent = ""; try { await fn(); await load(); } catch (e) { err.textContent = e.message; } }

async function load() {
  const [{ users }, { groups }] = await Promise.all([api("/api/users"), api("/api/groups")]);
  usersBody.replaceChildren(...users.map((u) => {
    const role = h("select", {}, ["viewer", "operator", "admin"].map((r) => h("option", { value: r, selected: r === u.role }, r)));
    const grp = h("input", { value: u.groups.join(", "), size: 24, placeholder: u.role === "admin" ? "all cameras (admin)" : "no group: sees nothing" });
    return h("tr", { dataset: { user: u.username } }, h("td", {}, u.username), h("td", {}, role), h("td", {}, grp),
      h("td", {}, u.disabled ? "disabled" : "active"),
      h("td", {}, h("button", { onclick: () => run(() => api(`/api/users/${encodeURIComponent(u.username)}`, { method: "PATCH", body: { role: role.value, groups: split(grp.value) } })) }, "Save"), " ",
        u.username === me.username ? null : h("button", { onclick: () => run(() => api(`/api/users/${encodeURIComponent(u.username)}`, { method: "PATCH", body: { disabled: !u.disabled } })) }, u.disabled ? "Enable" : "Disable")));
  }));
  groupsBody.replaceChildren(...groups.map((g) => h("tr", {}, h("td", {}, g.name),
    h("td", {}, `${g.cameras.length}: ${g.cameras.slice(0, 8).join(", ")}${g.cameras.length > 8 ? " …" : ""}`), h("td", {}, g.description || ""),
    h("td", {}, h("button", { class: "danger", onclick: () => run(() => api(`/api/groups/${encodeURIComponent(g.name)}`, { method: "DELETE" })) }, "Delete")))));
}
newUser.addEventListener("submit", (e) => { e.preventDefault(); run(async () => {
  await api("/api/users", { method: "POST", body: { username: nu.username.value.trim(), password: nu.password.value, role: nu.role.value, groups: split(nu.groups.value) } });
  nu.username.value = ""; nu.password.value = ""; }); });
newGroup.addEventListener("submit", (e) => { e.preventDefault(); run(() => api(`/api/groups/${encodeURIComponent(ng.name.value.trim())}`,
  { method: "PUT", body: { cameras: split(ng.cameras.value), description: ng.description.value || null } })); });
await load();

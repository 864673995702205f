// Users and camera groups (admins). Users: create, role, groups, disable, reset a password (policy checked,
// audited, the user's sessions end), delete after a confirmation. Camera groups: edited by camera name with
// search (groups hold hundreds of cameras: no raw keys to type), deleted after a confirmation.
import { api, h, initPage } from "./api.js";

const me = await initPage("admin", { minRole: "admin" });
const main = document.getElementById("main");
const usersBody = h("tbody", { id: "users-body" });
const groupsBody = h("tbody", { id: "groups-body" });
const err = h("div", { class: "error", id: "admin-error", role: "alert" });
const note = h("div", { class: "notice", id: "admin-note", role: "status" });
let groupNames = [];

// ---------------------------------------------------------------- confirmation dialog
const dlgText = h("p", { id: "confirm-text" });
const dlgOk = h("button", { class: "danger", id: "confirm-ok", value: "ok" }, "Delete");
const dlg = h("dialog", { id: "confirm-dialog", class: "panel" }, h("form", { method: "dialog" }, dlgText,
  h("div", { class: "row" }, h("button", { id: "confirm-cancel", value: "cancel", autofocus: true }, "Cancel"), dlgOk)));
document.body.append(dlg);
function confirmAction(text, okLabel = "Delete") {
  dlgText.textContent = text;
  dlgOk.textContent = okLabel;
  dlg.returnValue = "";
  dlg.showModal();
  return new Promise((resolve) => dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok"), { once: true }));
}

// ---------------------------------------------------------------- password reset dialog
const rp = { who: h("b", {}), pass: h("input", { id: "rp-pass", type: "password", autocomplete: "new-password", placeholder: "new password (8+)" }),
  again: h("input", { id: "rp-again", type: "password", autocomplete: "new-password", placeholder: "again" }),
  err: h("div", { class: "error", id: "rp-error" }) };
const rpForm = h("form", { id: "reset-form" }, h("h2", {}, "Reset the password of ", rp.who),
  h("p", { class: "muted small" }, "Policy: 8+ characters, not a common password, not the user name. Every session of the user ends."),
  h("label", {}, "New password", rp.pass), h("label", {}, "Again", rp.again), rp.err,
  h("div", { class: "row" }, h("button", { type: "button", id: "rp-cancel", onclick: () => rpDlg.close() }, "Cancel"),
    h("button", { class: "primary", type: "submit", id: "rp-ok" }, "Reset password")));
const rpDlg = h("dialog", { id: "reset-dialog", class: "panel" }, rpForm);
document.body.append(rpDlg);
let rpUser = null;
function openReset(username) {
  rpUser = username; rp.who.textContent = username; rp.pass.value = ""; rp.again.value = ""; rp.err.textContent = "";
  rpDlg.showModal(); rp.pass.focus();
}
rpForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  rp.err.textContent = "";
  if (rp.pass.value !== rp.again.value) { rp.err.textContent = "the two passwords differ"; return; }
  try {
    const r = await api(`/api/users/${encodeURIComponent(rpUser)}/password`, { method: "POST", body: { password: rp.pass.value } });
    rpDlg.close();
    note.textContent = `Password of ${r.username} reset; ${r.sessions_ended} session${r.sessions_ended === 1 ? "" : "s"} ended.`;
    if (rpUser === me.username) location.href = "/login";
  } catch (ex) { rp.err.textContent = ex.message; }
});

// ---------------------------------------------------------------- users
const groupSelect = (selected = []) => h("select", { multiple: true, size: Math.min(4, Math.max(2, groupNames.length)), class: "groups" },
  groupNames.map((g) => h("option", { value: g, selected: selected.includes(g) }, g)));
const picked = (sel) => [...sel.selectedOptions].map((o) => o.value);
const nu = { username: h("input", { id: "nu-name", placeholder: "user name", autocomplete: "off" }),
  password: h("input", { id: "nu-pass", type: "password", placeholder: "password (8+)", autocomplete: "new-password" }),
  role: h("select", { id: "nu-role" }, ["viewer", "operator", "admin"].map((r) => h("option", { value: r }, r))),
  groups: h("span", { id: "nu-groups" }) };
const newUser = h("form", { class: "row", id: "new-user" }, h("label", {}, "Name", nu.username), h("label", {}, "Password", nu.password),
  h("label", {}, "Role", nu.role), h("label", {}, "Camera groups", nu.groups), h("button", { class: "primary", type: "submit" }, "Add user"));

// ---------------------------------------------------------------- group editor
const ge = {
  name: h("input", { id: "ge-name", placeholder: "group name (letters, digits, - _ .)", size: 24 }),
  description: h("input", { id: "ge-desc", placeholder: "description", size: 36 }),
  memberFilter: h("input", { id: "ge-member-filter", placeholder: "filter members by name or key", type: "search" }),
  members: h("tbody", { id: "ge-members" }),
  memberCount: h("span", { id: "ge-member-count" }),
  search: h("input", { id: "ge-search", placeholder: "search cameras: name, address, purpose, key", type: "search", size: 32 }),
  results: h("tbody", { id: "ge-results" }),
  resultCount: h("span", { class: "muted small", id: "ge-result-count" }),
  addAll: h("button", { type: "button", id: "ge-add-all" }, "Add all shown"),
  status: h("span", { class: "muted small", id: "ge-status" }),
};
const editor = h("div", { class: "panel", id: "group-editor", hidden: true },
  h("h2", { id: "ge-title" }, "Camera group"),
  h("div", { class: "row" }, h("label", {}, "Group", ge.name), h("label", {}, "Description", ge.description)),
  h("div", { class: "group-editor-cols" },
    h("div", {}, h("h3", {}, "In this group ", ge.memberCount), ge.memberFilter,
      h("div", { class: "table-scroll pick-list" }, h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Camera"), h("th", {}, "Key"), h("th", {}, ""))), ge.members))),
    h("div", {}, h("h3", {}, "Add cameras ", ge.resultCount), h("div", { class: "row" }, ge.search, ge.addAll),
      h("div", { class: "table-scroll pick-list" }, h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Camera"), h("th", {}, "Groups"), h("th", {}, ""))), ge.results)))),
  h("div", { class: "row", style: "margin-top:10px" },
    h("button", { class: "primary", type: "button", id: "ge-save" }, "Save group"),
    h("button", { type: "button", id: "ge-cancel" }, "Close"), ge.status));
let editing = null; // { name, isNew, members: Map(key -> camera) , dirty }
let shown = []; // search results on screen

function camCell(c) {
  return h("td", {}, c.name, c.live ? h("span", { class: "health health-online small", style: "margin-left:6px" }, "live") : null,
    c.unknown ? h("span", { class: "notice small" }, " (unknown key)") : null,
    c.address && !String(c.name).includes(c.address) ? h("div", { class: "muted small" }, c.address) : null);
}
function renderMembers() {
  const words = ge.memberFilter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const all = [...editing.members.values()];
  const rows = all.filter((c) => words.every((w) => `${c.name} ${c.key} ${c.address || ""}`.toLowerCase().includes(w)));
  ge.memberCount.textContent = `(${all.length}${rows.length !== all.length ? `, ${rows.length} shown` : ""})`;
  ge.members.replaceChildren(...rows.slice(0, 500).map((c) => h("tr", { dataset: { key: c.key } }, camCell(c),
    h("td", { class: "muted small" }, c.key),
    h("td", {}, h("button", { type: "button", class: "remove", onclick: () => { editing.members.delete(c.key); dirty(); renderMembers(); renderResults(); } }, "Remove")))));
}
function renderResults() {
  ge.results.replaceChildren(...shown.map((c) => {
    const inside = editing.members.has(c.key);
    return h("tr", { dataset: { key: c.key } }, camCell(c), h("td", { class: "muted small" }, (c.groups || []).join(", ") || "–"),
      h("td", {}, inside ? h("span", { class: "muted small" }, "in group")
        : h("button", { type: "button", class: "add", onclick: () => { editing.members.set(c.key, c); dirty(); renderMembers(); renderResults(); } }, "Add")));
  }));
}
function dirty() { editing.dirty = true; ge.status.textContent = "unsaved changes"; }
let searchTimer = 0;
async function search() {
  const q = ge.search.value.trim();
  if (!q) { shown = []; ge.resultCount.textContent = ""; renderResults(); return; }
  const r = await api(`/api/admin/cameras?q=${encodeURIComponent(q)}&limit=100`);
  shown = r.cameras;
  ge.resultCount.textContent = `${r.total} found${r.total > shown.length ? `, first ${shown.length} shown` : ""}`;
  renderResults();
}
ge.search.addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => search().catch((e) => { err.textContent = e.message; }), 250); });
ge.memberFilter.addEventListener("input", renderMembers);
ge.description.addEventListener("input", () => dirty());
ge.addAll.addEventListener("click", () => { for (const c of shown) editing.members.set(c.key, c); dirty(); renderMembers(); renderResults(); });

async function openEditor(group) {
  err.textContent = ""; note.textContent = "";
  editor.hidden = true; ge.members.replaceChildren(); ge.results.replaceChildren();
  editing = { name: group ? group.name : "", isNew: !group, members: new Map(), dirty: false };
  ge.name.value = editing.name; ge.name.readOnly = !!group;
  ge.description.value = group ? group.description || "" : "";
  ge.search.value = ""; ge.memberFilter.value = ""; shown = []; ge.status.textContent = ""; ge.resultCount.textContent = "";
  document.getElementById("ge-title").textContent = group ? `Camera group ${group.name}` : "New camera group";
  if (group) {
    for (let offset = 0; ; offset += 1000) {
      const r = await api(`/api/admin/cameras?group=${encodeURIComponent(group.name)}&limit=1000&offset=${offset}`);
      for (const c of r.cameras) editing.members.set(c.key, c);
      if (offset + 1000 >= r.total) break;
    }
  }
  editor.hidden = false; renderMembers(); renderResults();
  editor.scrollIntoView({ block: "start" });
  (group ? ge.search : ge.name).focus();
}
document.addEventListener("click", async (e) => {
  if (e.target.id === "ge-cancel") {
    if (editing?.dirty && !(await confirmAction(`Close the editor and drop the unsaved changes to ${editing.name || "the new group"}?`, "Drop changes"))) return;
    editor.hidden = true; editing = null;
  } else if (e.target.id === "ge-save") {
    err.textContent = "";
    const name = ge.name.value.trim();
    if (!name) { err.textContent = "give the group a name"; return; }
    try {
      const g = await api(`/api/groups/${encodeURIComponent(name)}`, { method: "PUT",
        body: { cameras: [...editing.members.keys()], description: ge.description.value.trim() || null } });
      editing.name = name; editing.isNew = false; editing.dirty = false; ge.name.readOnly = true;
      ge.status.textContent = `saved: ${g.cameras.length} cameras`;
      await load();
    } catch (ex) { err.textContent = ex.message; }
  }
});

// ---------------------------------------------------------------- page
main.append(err, note,
  h("div", { class: "panel", style: "margin-bottom:12px" }, h("h2", {}, "Users"), newUser,
    h("div", { class: "table-scroll" }, h("table", { id: "users-table" }, h("thead", {}, h("tr", {}, ["User", "Role", "Camera groups", "Status", ""].map((c) => h("th", {}, c)))), usersBody))),
  h("div", { class: "panel", style: "margin-bottom:12px" }, h("h2", {}, "Camera groups"),
    h("div", { class: "row" }, h("button", { class: "primary", type: "button", id: "new-group", onclick: () => openEditor(null).catch((ex) => { err.textContent = ex.message; }) }, "New group")),
    h("div", { class: "table-scroll" }, h("table", { id: "groups-table" }, h("thead", {}, h("tr", {}, ["Group", "Cameras", "Description", ""].map((c) => h("th", {}, c)))), groupsBody))),
  editor);

async function run(fn) { err.textContent = ""; note.textContent = ""; try { await fn(); await load(); } catch (e) { err.textContent = e.message; } }

async function load() {
  const [{ users }, { groups }] = await Promise.all([api("/api/users"), api("/api/groups")]);
  groupNames = groups.map((g) => g.name);
  nu.groups.replaceChildren(groupSelect(picked(nu.groups.querySelector("select") || h("select"))));
  usersBody.replaceChildren(...users.map((u) => {
    const role = h("select", { class: "role" }, ["viewer", "operator", "admin"].map((r) => h("option", { value: r, selected: r === u.role }, r)));
    const grp = groupSelect(u.groups);
    const self = u.username === me.username;
    return h("tr", { dataset: { user: u.username } }, h("td", {}, u.username), h("td", {}, role),
      h("td", {}, u.role === "admin" ? h("span", { class: "muted small" }, "all cameras (admin) ") : null, grp),
      h("td", {}, u.disabled ? "disabled" : "active"),
      h("td", { class: "actions" },
        h("button", { class: "save", onclick: () => run(() => api(`/api/users/${encodeURIComponent(u.username)}`, { method: "PATCH", body: { role: role.value, groups: picked(grp) } })) }, "Save"),
        self ? null : h("button", { class: "toggle", onclick: () => run(() => api(`/api/users/${encodeURIComponent(u.username)}`, { method: "PATCH", body: { disabled: !u.disabled } })) }, u.disabled ? "Enable" : "Disable"),
        h("button", { class: "reset-pw", onclick: () => openReset(u.username) }, "Reset password"),
        self ? null : h("button", { class: "danger delete-user", onclick: async () => {
          if (await confirmAction(`Delete the user ${u.username} (${u.role})? Their sessions end at once; this cannot be undone.`)) {
            await run(() => api(`/api/users/${encodeURIComponent(u.username)}`, { method: "DELETE" }));
          }
        } }, "Delete")));
  }));
  groupsBody.replaceChildren(...groups.map((g) => {
    const usersIn = users.filter((u) => u.groups.includes(g.name)).map((u) => u.username);
    return h("tr", { dataset: { group: g.name } }, h("td", {}, g.name),
      h("td", {}, `${g.cameras.length} camera${g.cameras.length === 1 ? "" : "s"}`),
      h("td", {}, g.description || ""),
      h("td", { class: "actions" },
        h("button", { class: "edit", onclick: () => openEditor(g).catch((ex) => { err.textContent = ex.message; }) }, "Edit"),
        h("button", { class: "danger delete-group", onclick: async () => {
          const who = usersIn.length ? ` ${usersIn.join(", ")} lose access to its cameras.` : "";
          if (await confirmAction(`Delete the camera group ${g.name} (${g.cameras.length} cameras)?${who} The cameras themselves stay.`)) {
            await run(async () => {
              await api(`/api/groups/${encodeURIComponent(g.name)}`, { method: "DELETE" });
              if (editing?.name === g.name) { editor.hidden = true; editing = null; }
            });
          }
        } }, "Delete")));
  }));
}
newUser.addEventListener("submit", (e) => { e.preventDefault(); run(async () => {
  await api("/api/users", { method: "POST", body: { username: nu.username.value.trim(), password: nu.password.value, role: nu.role.value,
    groups: picked(nu.groups.querySelector("select")) } });
  note.textContent = `User ${nu.username.value.trim()} created.`;
  nu.username.value = ""; nu.password.value = ""; }); });
await load();

// Events: the event history (the operator's queue is /incidents) and search; detail with snapshot, clip, acknowledge / escalate / close,
// and a signed evidence export (operators and admins: the export_evidence permission).
import { api, canOperate, connectLive, fmtTime, h, initPage, localToIso, qs, sevBadge, stateBadge, TIME, TYPE_KO } from "./api.js";

const me = await initPage("events");
const main = document.getElementById("main");
const params = new URLSearchParams(location.search);

const f = {
  state: h("select", { name: "state", id: "f-state" }, ["", "new", "acknowledged", "escalated", "closed"].map((s) =>
    h("option", { value: s }, s || "any state"))),
  camera: h("input", { name: "camera", id: "f-camera", placeholder: "camera", value: params.get("camera") || "" }),
  type: h("select", { name: "type", id: "f-type" }, h("option", { value: "" }, "any type"),
    Object.keys(TYPE_KO).map((t) => h("option", { value: t }, TYPE_KO[t]))),
  zone: h("input", { name: "zone", id: "f-zone", placeholder: "zone" }),
  since: h("input", { name: "since", id: "f-since", placeholder: "YYYY-MM-DD HH:MM", size: 16,
    pattern: "\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2})?", title: "YYYY-MM-DD HH:MM, in the console's time zone" }),
  until: h("input", { name: "until", id: "f-until", placeholder: "YYYY-MM-DD HH:MM", size: 16,
    pattern: "\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2})?", title: "YYYY-MM-DD HH:MM, in the console's time zone" }),
};
const filterForm = h("form", { class: "row", id: "filters" },
  h("label", {}, "State", f.state), h("label", {}, "Camera", f.camera), h("label", {}, "Type", f.type),
  h("label", {}, "Zone", f.zone), h("label", {}, `From (${TIME.label})`, f.since), h("label", {}, `Until (${TIME.label})`, f.until),
  h("button", { class: "primary", type: "submit" }, "Search"));
const tabs = h("div", { class: "tabs" }, ["", "new", "acknowledged", "escalated", "closed"].map((s) =>
  h("button", { type: "button", dataset: { state: s }, onclick: () => { f.state.value = s; load(); } },
    s || "all")));
const tbody = h("tbody", { id: "events-body" });
const total = h("span", { class: "muted", id: "events-total" });
const detail = h("div", { class: "panel detail", id: "detail" }, h("div", { class: "muted" }, "Select an event."));
main.append(h("div", { class: "panel", style: "margin-bottom:12px" }, filterForm),
  h("div", { class: "events-layout" },
    h("div", { class: "panel" }, h("div", { class: "row", style: "justify-content:space-between" }, tabs, total),
      h("div", { class: "events-list" }, h("table", {},
        h("thead", {}, h("tr", {}, ["Sev", "Type", "Camera", "Zone", "Start", "State"].map((c) => h("th", {}, c)))),
        tbody))),
    detail));

let selected = params.get("uid");
const camName = (ev) => (ev.camera_name ? `${ev.camera_name} (${ev.camera})` : ev.camera);

async function load() {
  for (const b of tabs.children) b.classList.toggle("active", b.dataset.state === f.state.value);
  const q = qs({ state: f.state.value, camera: f.camera.value.trim(), type: f.type.value, zone: f.zone.value.trim(),
    since: localToIso(f.since.value), until: localToIso(f.until.value), limit: 200 });
  let data;
  try { data = await api(`/api/events${q}`); } catch (e) {
    tbody.replaceChildren(h("tr", {}, h("td", { colspan: 6, class: "error" }, e.message))); return;
  }
  total.textContent = `${data.total} event(s)`;
  tbody.replaceChildren(...data.events.map((ev) => {
    const tr = h("tr", { class: `clickable${ev.uid === selected ? " selected" : ""}`, dataset: { uid: ev.uid } },
      h("td", {}, sevBadge(ev.severity)), h("td", {}, TYPE_KO[ev.type] || ev.type), h("td", {}, camName(ev)),
      h("td", {}, ev.zone || "–"), h("td", {}, fmtTime(ev.start_at)), h("td", {}, stateBadge(ev.state)));
    tr.addEventListener("click", () => show(ev.uid));
    return tr;
  }));
  if (!data.events.length) tbody.append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No events match.")));
}

async function act(uid, path, body, errEl) {
  errEl.textContent = "";
  try { await api(`/api/events/${encodeURIComponent(uid)}/${path}`, { method: "POST", body }); }
  catch (e) { errEl.textContent = e.message; return; }
  await show(uid); await load();
}

async function show(uid) {
  selected = uid;
  history.replaceState(null, "", `/events${qs({ uid })}`);
  for (const tr of tbody.children) tr.classList.toggle("selected", tr.dataset.uid === uid);
  let ev;
  try { ev = await api(`/api/events/${encodeURIComponent(uid)}`); } catch (e) {
    detail.replaceChildren(h("div", { class: "error" }, e.message)); return;
  }
  const base = `/api/events/${encodeURIComponent(uid)}`;
  const snap = h("img", { class: "snap", id: "snapshot", alt: "snapshot", src: `${base}/snapshot` });
  snap.addEventListener("error", () => snap.replaceWith(h("div", { class: "muted" }, "No snapshot on disk yet.")));
  const video = h("video", { id: "clip", controls: true, preload: "metadata", src: `${base}/clip` });
  const noClip = h("div", { class: "muted", id: "no-clip" }, "No clip on disk yet (written a few seconds after the start).");
  let tries = 0;
  video.addEventListener("error", () => {
    if (!video.isConnected && !noClip.isConnected) return;
    if (video.isConnected) video.replaceWith(noClip);
    if (++tries <= 6 && selected === uid) setTimeout(() => { video.src = `${base}/clip?retry=${tries}`; noClip.replaceWith(video); }, 3000);
  });
  const hist = h("ul", { class: "history" },
    ...(ev.acknowledgements || []).map((a) => h("li", {}, `✔ ${a.username} · ${fmtTime(a.at)}${a.note ? ` — ${a.note}` : ""}`)),
    ...(ev.escalations || []).map((x) => h("li", {}, `⚠ ${x.username} → ${x.target} · ${fmtTime(x.at)}${x.note ? ` — ${x.note}` : ""}`)));
  const parts = [
    h("h2", {}, sevBadge(ev.severity), " ", TYPE_KO[ev.type] || ev.type, " ", stateBadge(ev.state)),
    snap, video,
    h("dl", {},
      h("dt", {}, "Camera"), h("dd", {}, camName(ev)),
      h("dt", {}, "Incident"), h("dd", { id: "event-incident" }, ev.incident_id
        ? h("a", { href: `/incidents?id=${ev.incident_id}&tab=${ev.state === "closed" ? "closed" : "alerts"}` }, `#${ev.incident_id}`)
        : ev.suppressed_by ? `none: suppressed as a false alarm (suppression #${ev.suppressed_by})` : "–"), h("dt", {}, "Zone"), h("dd", {}, ev.zone || "–"),
      h("dt", {}, "Object"), h("dd", {}, ev.object_class || "–"), h("dt", {}, "Start"), h("dd", {}, fmtTime(ev.start_at)),
      h("dt", {}, "End"), h("dd", {}, ev.end_at ? fmtTime(ev.end_at) : "live"), h("dt", {}, "Event id"), h("dd", {}, ev.uid)),
    h("h2", {}, "History"), hist.children.length ? hist : h("div", { class: "muted" }, "No action yet."),
  ];
  if (canOperate(me) && ev.state !== "closed") {
    const err = h("div", { class: "error", id: "action-error" });
    const note = h("textarea", { id: "ack-note", name: "note", placeholder: "note (what you saw / did)" });
    const ackBtn = h("button", { class: "primary", id: "ack-btn", type: "submit", disabled: ev.state !== "new" }, "Acknowledge");
    const ackForm = h("form", { id: "ack-form" }, h("label", {}, "Acknowledge with a note", note), ackBtn);
    ackForm.addEventListener("submit", (e) => { e.preventDefault(); act(uid, "ack", { note: note.value || null }, err); });
    const target = h("select", { id: "esc-target", name: "target" },
      h("option", { value: "112" }, "112 경찰 (police)"), h("option", { value: "119" }, "119 소방·구급 (fire/ambulance)"),
      h("option", { value: "district" }, "구청 district office"));
    const escNote = h("textarea", { id: "esc-note", placeholder: "what was reported" });
    const escForm = h("form", { id: "esc-form" }, h("label", {}, "Escalate to", target), escNote,
      h("button", { class: "danger", type: "submit", id: "esc-btn" }, "Escalate"));
    escForm.addEventListener("submit", (e) => { e.preventDefault(); act(uid, "escalate", { target: target.value, note: escNote.value || null }, err); });
    const closeBtn = h("button", { id: "close-btn", type: "button" }, "Close event");
    closeBtn.addEventListener("click", () => act(uid, "close", { note: note.value || null }, err));
    parts.push(ackForm, escForm, h("div", { class: "row", style: "margin-top:8px" }, closeBtn), err);
  }
  if (canOperate(me)) parts.push(exportForm(uid));
  detail.replaceChildren(...parts);
}

// Signed evidence export: the reason is required and kept in the package and the audit log.
function exportForm(uid) {
  const reason = h("textarea", { id: "export-reason", name: "reason", maxlength: "2000", required: true,
    placeholder: "reason, e.g. 영등포경찰서 공문 2026-123" });
  const out = h("div", { id: "export-result", class: "muted" });
  const btn = h("button", { id: "export-btn", type: "submit" }, "Export evidence (signed)");
  const form = h("form", { id: "export-form" }, h("h2", {}, "Evidence export"),
    h("label", {}, "Reason (kept in the package and the audit log)", reason), btn, out);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!reason.value.trim()) { out.className = "error"; out.textContent = "Give a reason."; return; }
    btn.disabled = true; out.className = "muted"; out.textContent = "Exporting (re-encoding with watermark)…";
    try {
      const r = await api("/api/exports", { method: "POST", body: { event_uid: uid, reason: reason.value } });
      out.className = "";
      out.replaceChildren(`Package ${r.export_id}: ${r.files} file(s)${r.missing.length ? `, ${r.missing.length} not on disk` : ""}. `,
        h("a", { id: "export-download", href: r.download, download: `${r.export_id}.zip` }, "Download zip"),
        ` · check it with: safecity evidence verify ${r.export_id}.zip`);
    } catch (err) { out.className = "error"; out.textContent = err.message; }
    btn.disabled = false;
  });
  return form;
}

filterForm.addEventListener("submit", (e) => { e.preventDefault(); load(); });
// live refresh, but never while the pointer is over the list (rows would move under it): then on leaving it
let pending = null;
let stale = false;
const listEl = main.querySelector(".events-list");
const refresh = () => { if (listEl.matches(":hover")) stale = true; else { stale = false; load(); } };
listEl.addEventListener("mouseleave", () => { if (stale) refresh(); });
connectLive((msg) => {
  if (msg.type === "event" || msg.type === "state") {
    clearTimeout(pending); pending = setTimeout(refresh, 400);
  }
});
await load();
if (selected) await show(selected);

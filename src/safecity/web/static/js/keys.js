// Keyboard shortcuts shared by the console pages, and the `?` help overlay that lists them.
// A page registers its keys: registerKeys("Queue", [{ keys: ["j", "ArrowDown"], label: "next incident",
// run: (e) => ... }]). Keys are ignored while typing in a field (Escape leaves the field), and with Ctrl/Alt/Meta.
import { h } from "./api.js";

const sections = new Map();
const KEY_LABEL = { " ": "Space", ArrowDown: "↓", ArrowUp: "↑", ArrowLeft: "←", ArrowRight: "→" };
let overlay = null;
let modal = null; // a one-shot handler that takes the next key (e.g. the escalation target after `e`)

export function registerKeys(section, bindings) {
  sections.set(section, [...(sections.get(section) || []), ...bindings]);
}

// The next key press goes to fn(key) (returns true if it used it); Escape cancels. Shows `prompt`.
export function nextKey(prompt, fn) {
  closeModal();
  const box = h("div", { class: "keys-prompt", id: "keys-prompt", role: "status" }, prompt);
  document.body.append(box);
  modal = { fn, box };
}
function closeModal() { if (modal) { modal.box.remove(); modal = null; } }

// The key as a shortcut: with a Korean IME in Hangul mode `j` arrives as "ㅓ", so letters and digits are
// taken from the physical key (e.code) when e.key is not plain ASCII.
function keyOf(e) {
  if (e.key !== "Process" && (e.key.length !== 1 || /^[\x20-\x7e]$/.test(e.key))) return e.key;
  const m = /^Key([A-Z])$/.exec(e.code);
  if (m) return e.shiftKey ? m[1] : m[1].toLowerCase();
  const d = /^(?:Digit|Numpad)(\d)$/.exec(e.code);
  return d ? d[1] : e.key;
}

function typing(el) {
  return el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
}

export function toggleHelp(show = !overlay) {
  if (!show) { overlay?.remove(); overlay = null; return; }
  const all = [["Everywhere", [{ keys: ["?"], label: "this help" }, { keys: ["Esc"], label: "close / leave a field" }]],
    ...sections.entries()];
  overlay = h("div", { class: "keys-help", id: "keys-help", role: "dialog", "aria-label": "keyboard shortcuts" },
    h("div", { class: "panel" }, h("h2", {}, "Keyboard · 단축키"),
      ...all.map(([name, list]) => h("section", {}, h("h3", {}, name),
        h("table", {}, h("tbody", {}, list.filter((b) => b.label).map((b) => h("tr", {},
          h("td", {}, ...b.keys.map((k) => h("kbd", {}, KEY_LABEL[k] || k))), h("td", {}, b.label))))))),
      h("div", { class: "muted" }, "Press ? or Esc to close. Keys do nothing while you type in a field.")));
  overlay.addEventListener("click", (e) => { if (e.target === overlay) toggleHelp(false); });
  document.body.append(overlay);
}

document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
  if (typing(e.target)) {
    if (e.key === "Escape") e.target.blur();
    return;
  }
  if (e.key === "Shift") return;
  const key = keyOf(e);
  if (modal) {
    e.preventDefault();
    const { fn } = modal;
    closeModal();
    if (key !== "Escape") fn(key);
    return;
  }
  if (key === "?") { e.preventDefault(); toggleHelp(); return; }
  if (key === "Escape" && overlay) { e.preventDefault(); toggleHelp(false); return; }
  if (overlay) return;
  for (const list of sections.values()) {
    const b = list.find((x) => x.run && x.keys.includes(key));
    if (b) { e.preventDefault(); b.run(e); return; }
  }
});

// the wall's keys live beside the wall's code but are loaded here, so every page needs only initPage
if (location.pathname === "/wall") import("./wall_keys.js");

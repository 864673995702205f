// The wall's keyboard and alarm flash (loaded by keys.js on /wall; wall.js draws the tiles): 1-9 focus the
// tile in that slot (slots are fixed while a camera stays), ← / → the previous / next tile, Enter opens the
// focused tile, p pins or unpins it; a ringing incident flashes its camera's tile.
import { registerKeys } from "./keys.js";

const wall = () => document.getElementById("wall");
let focusedSlot = null;

function tiles() {
  return [...(wall()?.querySelectorAll(".tile[data-slot]:not(.hole)") || [])]
    .sort((a, b) => Number(a.dataset.slot) - Number(b.dataset.slot));
}
function focusSlot(slot) {
  const el = wall()?.querySelector(`.tile[data-slot="${slot}"]:not(.hole)`);
  for (const t of tiles()) t.classList.remove("kbd-focus");
  if (!el) { focusedSlot = null; return; }
  focusedSlot = slot;
  el.classList.add("kbd-focus");
  el.scrollIntoView({ block: "nearest" });
}
const focused = () => (focusedSlot === null ? null : wall()?.querySelector(`.tile[data-slot="${focusedSlot}"]:not(.hole)`));
function step(d) {
  const all = tiles();
  if (!all.length) return;
  const i = all.findIndex((t) => Number(t.dataset.slot) === focusedSlot);
  const next = all[(i < 0 ? (d > 0 ? 0 : all.length - 1) : (i + d + all.length) % all.length)];
  focusSlot(Number(next.dataset.slot));
}

registerKeys("Wall", [
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => ({ keys: [String(n)], label: n === 1 ? "1-9: focus the tile in slot 1-9" : "",
    run: () => focusSlot(n - 1) })),
  { keys: ["ArrowRight"], label: "next tile", run: () => step(1) },
  { keys: ["ArrowLeft"], label: "previous tile", run: () => step(-1) },
  { keys: ["Enter"], label: "open the focused tile (its event or the camera)", run: () => focused()?.click() },
  { keys: ["p"], label: "pin / unpin the focused tile to its slot (operators)", run: () => focused()?.querySelector(".pin-btn")?.click() },
]);

window.addEventListener("safecity:alarm", (e) => {
  const cam = e.detail.incident.camera;
  const el = wall()?.querySelector(`.tile[data-camera="${CSS.escape(cam)}"]`);
  if (!el) return;
  el.classList.remove("alarm-flash"); void el.offsetWidth; el.classList.add("alarm-flash");
});
document.addEventListener("animationend", (e) => {
  if (e.animationName === "alarmflash") e.target.classList?.remove("alarm-flash");
});

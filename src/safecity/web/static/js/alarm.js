// The alarm: a new alert-level incident (or one that rings again) plays the bundled sound, flashes the
// menu count and tells the page (a `safecity:alarm` event: the queue flashes its row, the wall its tile);
// the unacknowledged count is kept in the tab title and the menu. Browsers only let a page play sound
// after a user action, hence the one-time "Enable sound" button in the header (remembered per browser).
//
// Latency: each ring is recorded in window.__safecityAlarms with the server's publish time of the
// event (event_published_at) and of the incident message (published_at), and the page's times of
// receipt, sound (audio `playing`) and flash (first frame after the class is set), all in Unix ms of the
// server's clock (the page's clock corrected by the offset measured on /api/console).
import { api, connectLive, h, TIME } from "./api.js";

const SOUND_KEY = "safecity.sound";
const baseTitle = document.title;
const known = new Map(); // incident id -> rings seen
let audio = null;
let soundBtn = null;
let countTimer = null;
let started = false;
window.__safecityAlarms = window.__safecityAlarms || [];

const serverNow = () => Date.now() + TIME.offsetMs;
export const soundOn = () => localStorage.getItem(SOUND_KEY) === "on";

function paintButton(state) {
  if (!soundBtn) return;
  soundBtn.dataset.state = state;
  soundBtn.textContent = state === "on" ? "♪ Sound on" : state === "blocked" ? "♪ Click to enable sound" : "♪ Enable sound";
  soundBtn.classList.toggle("attention", state === "blocked");
}

async function enableSound() {
  localStorage.setItem(SOUND_KEY, "on");
  audio.muted = true; // unlock playback inside the click without making a noise
  try { await audio.play(); audio.pause(); audio.currentTime = 0; } catch { /* keeps trying on the next ring */ }
  audio.muted = false;
  paintButton("on");
}

export function toggleSound() {
  if (soundOn()) { localStorage.setItem(SOUND_KEY, "off"); paintButton("off"); } else enableSound();
}

export function setUnacked(n) {
  const badge = document.getElementById("nav-unacked");
  if (badge) { badge.textContent = String(n); badge.hidden = !n; }
  document.title = n ? `(${n}) ${baseTitle}` : baseTitle;
  document.documentElement.dataset.unacked = String(n);
}

export async function refreshCount() {
  try { setUnacked((await api("/api/incidents?limit=1")).counts.needs_ack); } catch { /* next change retries */ }
}
function refreshSoon() { clearTimeout(countTimer); countTimer = setTimeout(refreshCount, 250); }

function ring(msg, receivedAt) {
  const inc = msg.incident;
  const rec = { id: inc.id, rings: inc.rings, camera: inc.camera, published_at: msg.published_at * 1000,
    event_published_at: msg.event_published_at === null ? null : msg.event_published_at * 1000,
    received_at: receivedAt, sound_at: null, flash_at: null, sound: soundOn() ? "pending" : "off" };
  window.__safecityAlarms.push(rec);
  if (window.__safecityAlarms.length > 1000) window.__safecityAlarms.shift();
  const badge = document.getElementById("nav-unacked");
  if (badge) { badge.classList.remove("flash"); void badge.offsetWidth; badge.classList.add("flash"); }
  window.dispatchEvent(new CustomEvent("safecity:alarm", { detail: { incident: inc, record: rec } }));
  requestAnimationFrame(() => { rec.flash_at = serverNow(); });
  if (soundOn()) {
    audio.pause(); // from the start, and a fresh `playing` event even if the last ring still sounds
    audio.currentTime = 0;
    audio.play().then(() => paintButton("on")).catch(() => { rec.sound = "blocked"; paintButton("blocked"); });
  }
}

function onLive(msg) {
  if (msg.type !== "incident") return;
  const receivedAt = serverNow();
  const inc = msg.incident;
  const prev = known.get(inc.id);
  known.set(inc.id, inc.rings);
  if (inc.needs_ack && (prev === undefined || inc.rings > prev)) ring(msg, receivedAt);
  refreshSoon();
}

export async function startAlarm() {
  if (started) return;
  started = true;
  audio = h("audio", { id: "alarm-audio", preload: "auto", src: "/static/audio/alarm.wav" });
  audio.addEventListener("playing", () => {
    const at = serverNow(); // one sound answers every ring waiting for it
    for (const rec of window.__safecityAlarms) if (rec.sound === "pending") { rec.sound = "played"; rec.sound_at = at; }
  });
  document.body.append(audio);
  soundBtn = h("button", { type: "button", id: "sound-btn", title: "alarm sound (key m)", onclick: toggleSound });
  paintButton(soundOn() ? "on" : "off");
  document.querySelector("header.top .who")?.prepend(soundBtn);
  try {
    const open = await api("/api/incidents?needs_ack=true&limit=1000");
    for (const inc of open.incidents) known.set(inc.id, inc.rings);
    setUnacked(open.counts.needs_ack);
  } catch { /* the count comes with the next change */ }
  connectLive(onLive);
}

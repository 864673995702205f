// Live tile pictures over one WebSocket (/ws/tiles) and the overlays drawn on them; used by the wall
// and the camera page. Binary message: u16 key length, key (UTF-8), JPEG.

// openTileSocket(onFrame(camera, blob)) -> {subscribe(cameras)}; reconnects unless logged out (4401).
// how: "wall" or "on_demand" (the camera page), the kind of the server's viewing sessions.
export function openTileSocket(onFrame, { fps = 3, how = "wall" } = {}) {
  let ws = null;
  let wanted = [];
  const send = () => { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ cameras: wanted, fps })); };
  function open() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(`${proto}://${location.host}/ws/tiles?how=${how}`);
    ws.binaryType = "arraybuffer";
    ws.onopen = send;
    ws.onmessage = (e) => {
      if (typeof e.data === "string") return; // {"type": "subscribed", ...}
      const n = new DataView(e.data).getUint16(0);
      const camera = new TextDecoder().decode(new Uint8Array(e.data, 2, n));
      onFrame(camera, new Blob([new Uint8Array(e.data, 2 + n)], { type: "image/jpeg" }));
    };
    ws.onclose = (e) => { if (e.code !== 4401) setTimeout(open, 2000); };
  }
  open();
  return {
    subscribe(cameras) {
      const same = cameras.length === wanted.length && cameras.every((c, i) => c === wanted[i]);
      wanted = [...cameras];
      if (!same) send();
    },
  };
}

const SEV = { 1: "#58a6ff", 2: "#3fb950", 3: "#d29922", 4: "#f0883e", 5: "#f85149" };

// Draw zones (cyan), lines (yellow, with their names) and live event boxes (severity colour) on the
// canvas laid over img, in the picture's own area (object-fit: contain). overlay null = clear.
export function drawOverlay(canvas, img, overlay) {
  const w = canvas.clientWidth;
  const hgt = canvas.clientHeight;
  if (canvas.width !== w || canvas.height !== hgt) { canvas.width = w; canvas.height = hgt; }
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, w, hgt);
  if (!overlay || !img.naturalWidth) return;
  const scale = Math.min(w / img.naturalWidth, hgt / img.naturalHeight);
  const pw = img.naturalWidth * scale;
  const ph = img.naturalHeight * scale;
  const ox = (w - pw) / 2;
  const oy = (hgt - ph) / 2;
  const X = (fx) => ox + fx * pw;
  const Y = (fy) => oy + fy * ph;
  ctx.lineWidth = 2;
  ctx.font = "12px sans-serif";
  for (const z of overlay.zones || []) {
    ctx.strokeStyle = "rgba(88, 214, 255, 0.9)";
    ctx.fillStyle = "rgba(88, 214, 255, 0.10)";
    ctx.beginPath();
    z.polygon.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
    ctx.closePath();
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = "rgba(88, 214, 255, 1)";
    ctx.fillText(z.name, X(z.polygon[0][0]) + 4, Y(z.polygon[0][1]) + 14);
  }
  for (const l of overlay.lines || []) {
    ctx.strokeStyle = "rgba(255, 221, 87, 0.95)";
    ctx.beginPath();
    ctx.moveTo(X(l.a[0]), Y(l.a[1]));
    ctx.lineTo(X(l.b[0]), Y(l.b[1]));
    ctx.stroke();
    ctx.fillStyle = "rgba(255, 221, 87, 1)";
    ctx.fillText(l.name, X(l.a[0]) + 4, Y(l.a[1]) - 4);
  }
  for (const b of overlay.boxes || []) {
    const [x1, y1, x2, y2] = b.box;
    ctx.strokeStyle = SEV[b.severity] || "#fff";
    ctx.strokeRect(X(x1), Y(y1), X(x2) - X(x1), Y(y2) - Y(y1));
    ctx.fillStyle = SEV[b.severity] || "#fff";
    ctx.fillText(b.class || b.type, X(x1) + 2, Y(y1) - 3);
  }
  canvas.dataset.drawn = String((overlay.zones || []).length + (overlay.lines || []).length + (overlay.boxes || []).length);
}

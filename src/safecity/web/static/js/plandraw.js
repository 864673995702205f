// Drawing and wording of planning results, shared by the console's plans page and the standalone HTML
// report (which inlines this file). A classic script: it defines window.SafecityPlanDraw and needs Leaflet.
// Everything goes into the DOM as text (never as HTML), so plan data cannot inject markup.
/* global L */
(function () {
  "use strict";

  var LAYER_LABELS = {
    coverage_gap: ["방범 공백", "coverage gap"],
    population: ["인구", "population"],
    one_person_households: ["1인 가구", "one-person households"],
    crime: ["범죄", "crime"],
    lighting: ["조명", "lighting"],
    requests: ["요청", "requests"],
    event_history: ["관제 이력", "event history"],
    households: ["가구", "households"],
    streetlight_density: ["가로등 밀도", "streetlight density"],
    police_request: ["경찰 요청", "police requests"],
    resident_request: ["주민 요청", "resident requests"],
  };
  var SITE_KINDS = {
    new_pole: ["새 스마트폴", "new smart pole", "#a371f7"],
    streetlight: ["가로등 재사용", "reused streetlight", "#f2cc60"],
    utility_pole: ["전신주 재사용", "reused utility pole", "#7ee787"],
    existing_site: ["기존 설치 지점", "existing site", "#e6edf3"],
    replacement: ["노후 교체", "replacement", "#ff7b72"],
  };
  var OLD_KIND = { grid: "new_pole", request: "new_pole" };
  var CAMERA_TYPES = { ptz: ["회전형", "PTZ", "#f0883e"], fixed: ["고정형", "fixed", "#39c5cf"] };
  var STATUS = { time_limit: "시간 제한 · time limit reached", feasible: "해 있음 · feasible solution",
    optimal: "최적 · optimal", interrupted: "중단 · interrupted" };
  var REASONS = {
    age: "내용연수 초과 · past service life",
    resolution: "저해상도 · low resolution",
    "age+resolution": "내용연수 초과 + 저해상도 · old and low resolution",
  };
  var COST_ITEMS = {
    new_pole: "새 스마트폴 new smart pole", streetlight: "가로등 재사용 reused streetlight",
    utility_pole: "전신주 재사용 reused utility pole", existing_site: "기존 지점 공사 existing site works",
    ptz: "회전형 카메라 PTZ camera", fixed: "고정형 카메라 fixed camera", light: "보안등 security light",
    site: "설치 지점 site", cameras: "카메라 cameras",
  };
  // dark console: magma (high = bright); light report: YlOrRd (high = dark red)
  var RAMP_LIGHT = ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"];
  var TYPE_COLOURS_LIGHT = { ptz: "#1f4fbf", fixed: "#0a7f86" };  // on the light report's YlOrRd cells
  var RAMP = ["#3b0f70", "#641a80", "#8c2981", "#b73779", "#de4968", "#f7705c", "#fe9f6d", "#fecf92"];
  var COMPASS = [["북", "N"], ["북동", "NE"], ["동", "E"], ["남동", "SE"], ["남", "S"], ["남서", "SW"],
    ["서", "W"], ["북서", "NW"]];

  // dong codes (KOSTAT, as older plans stored them) -> names, from the boundary GeoJSON the map draws
  var DONG_NAMES = {};
  function setDongNames(geojson) {
    ((geojson && geojson.features) || []).forEach(function (f) {
      var p = f.properties || {};
      if (p.code && p.name) DONG_NAMES[String(p.code)] = String(p.name);
    });
  }
  function dongName(d) { return d === null || d === undefined ? null : (DONG_NAMES[String(d)] || String(d)); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }
  function num(v) { return typeof v === "number" && isFinite(v) ? v : null; }
  function grouped(n) { return Math.round(n).toLocaleString("ko-KR"); }

  // 321,000,000 -> "3억 2,100만 원"; 23,000,000 -> "2,300만 원"; 950 -> "950 원"
  function fmtWon(v) {
    v = num(v);
    if (v === null) return "–";
    var sign = v < 0 ? "−" : "", a = Math.abs(v);
    if (a >= 1e8) {
      var eok = Math.floor(a / 1e8), man = Math.round((a - eok * 1e8) / 1e4);
      if (man >= 10000) { eok += 1; man = 0; }
      return sign + grouped(eok) + "억" + (man ? " " + grouped(man) + "만" : "") + " 원";
    }
    if (a >= 1e4) return sign + grouped(a / 1e4) + "만 원";
    return sign + grouped(a) + " 원";
  }
  function fmtPct(f, digits) { return num(f) === null ? "–" : (f * 100).toFixed(digits === undefined ? 1 : digits) + " %"; }
  function fmtNum(v, digits) {
    v = num(v);
    return v === null ? "–" : v.toLocaleString("ko-KR", { maximumFractionDigits: digits === undefined ? 1 : digits });
  }
  function compass(deg) {
    var c = COMPASS[Math.round((((deg % 360) + 360) % 360) / 45) % 8];
    return Math.round(deg) + "° " + c[0] + " " + c[1];
  }
  function layerLabel(k) { var l = LAYER_LABELS[k]; return l ? l[0] + " " + l[1] : k.replace(/_/g, " "); }
  function layerKo(k) { var l = LAYER_LABELS[k]; return l ? l[0] : k.replace(/_/g, " "); }
  function siteKindOf(it) {
    var p = it.props || {};
    if (it.kind === "replacement") return "replacement";
    return p.site_kind || OLD_KIND[it.kind] || it.kind;
  }
  function siteKindLabel(k) { var s = SITE_KINDS[k]; return s ? s[0] + " " + s[1] : k; }
  function siteKindKo(k) { var s = SITE_KINDS[k]; return s ? s[0] : k; }
  function siteColour(k) { return (SITE_KINDS[k] || [0, 0, "#ff7b72"])[2]; }
  function typeLabel(t) { var c = CAMERA_TYPES[t]; return c ? c[0] + " " + c[1] : (t || "camera"); }
  function costItemLabel(k) { return COST_ITEMS[k] || String(k).replace(/_/g, " "); }

  // Proof status of a plan: {proven, text, cls}
  function proofStatus(p) {
    var s = p.summary || {};
    var gap = num(s.gap) !== null ? s.gap : p.mip_gap;
    var proven = typeof s.proven_optimal === "boolean" ? s.proven_optimal : p.status === "optimal";
    if (proven) {
      return { proven: true, cls: "proof ok",
        text: "최적 증명됨 · proven optimal" + (num(gap) !== null && gap > 0 ? " (gap ≤ " + fmtPct(Math.max(gap, 0.001), 1) + ")" : "") };
    }
    return { proven: false, cls: "proof bad",
      text: "최적 미증명 · NOT proven optimal" + (num(gap) !== null ? " — gap " + fmtPct(gap, 1) : "") +
        (p.status ? " (" + (STATUS[p.status] || p.status) + ")" : "") };
  }

  function camerasOf(it) {
    var p = it.props || {};
    if (Array.isArray(p.cameras) && p.cameras.length) return p.cameras;
    var out = [], r = num(p.radius_m) || (it.camera_type === "ptz" ? 100 : 50);
    for (var i = 0; i < (it.n_cameras || 0); i++) out.push({ type: it.camera_type, range_m: r, heading_deg: null, fov_deg: null });
    return out;
  }
  function costLinesOf(it) {
    var p = it.props || {};
    if (Array.isArray(p.cost_lines) && p.cost_lines.length) return p.cost_lines;
    var out = [];
    if (num(p.site_cost_krw)) out.push({ item: siteKindOf(it), krw: p.site_cost_krw });
    if (num(p.camera_cost_krw)) out.push({ item: it.camera_type || "cameras", krw: p.camera_cost_krw });
    if (!out.length && it.kind === "replacement") out.push({ item: it.camera_type || "cameras", krw: it.cost_krw });
    return out;
  }

  // Items -> sites (one per position; replacement records by ref), in rank order.
  function groupSites(items) {
    var by = {}, order = [];
    items.slice().sort(function (a, b) { return a.rank - b.rank; }).forEach(function (it) {
      var key = it.kind === "replacement" && it.ref ? "ref:" + it.ref : it.lat.toFixed(5) + "," + it.lon.toFixed(5);
      if (!by[key]) { by[key] = { key: key, lat: it.lat, lon: it.lon, items: [] }; order.push(key); }
      by[key].items.push(it);
    });
    return order.map(function (k) {
      var s = by[k], first = s.items[0], layers = {}, hasEx = false, value = 0, points = null, dong = null;
      s.items.forEach(function (it) {
        var ex = (it.props || {}).explain;
        if (ex && typeof ex === "object") {
          hasEx = true;
          Object.keys(ex.layers || {}).forEach(function (l) { layers[l] = (layers[l] || 0) + (num(ex.layers[l]) || 0); });
          value += num(ex.value) || 0;
          if (num(ex.points_covered) !== null) points = (points || 0) + ex.points_covered;
          dong = dong || ex.dong || null;
        }
      });
      s.rank = first.rank;
      s.kind = siteKindOf(first);
      s.dong = dongName(dong || (first.props || {}).dong || null);
      s.explained = hasEx;
      s.layers = layers;
      s.value = hasEx ? value : s.items.reduce(function (a, it) { return a + (it.priority || 0); }, 0);
      s.points = points;
      s.cameras = [].concat.apply([], s.items.map(camerasOf));
      s.costLines = [].concat.apply([], s.items.map(costLinesOf));
      s.cost = s.items.reduce(function (a, it) { return a + (it.cost_krw || 0); }, 0);
      s.lights = s.items.reduce(function (a, it) { return a + (num((it.props || {}).lights_added) || 0); }, 0);
      return s;
    });
  }

  // Sector polygon (heading clockwise from north, degrees), as Leaflet lat/lngs.
  function sectorLatLngs(lat, lon, rangeM, headingDeg, fovDeg) {
    var pts = [[lat, lon]], mLat = 111320, mLon = 111320 * Math.cos(lat * Math.PI / 180);
    var n = Math.max(4, Math.ceil(fovDeg / 5));
    for (var i = 0; i <= n; i++) {
      var a = (headingDeg - fovDeg / 2 + fovDeg * i / n) * Math.PI / 180;
      pts.push([lat + rangeM * Math.cos(a) / mLat, lon + rangeM * Math.sin(a) / mLon]);
    }
    return pts;
  }

  function coverageShapes(site, opts) {
    var out = [];
    if (site.kind === "replacement") return out;  // replaced cameras add no coverage
    site.cameras.forEach(function (c) {
      var r = num(c.range_m);
      if (!r) return;
      var col = opts.colour || (opts.typeColours || {})[c.type] || (CAMERA_TYPES[c.type] || [0, 0, "#8b949e"])[2];
      var style = { renderer: opts.renderer, color: col, weight: c.type === "fixed" ? 1.5 : 1, opacity: 0.95, fillColor: col,
        fillOpacity: opts.fillOpacity === undefined ? (c.type === "fixed" ? 0.35 : 0.15) : opts.fillOpacity, interactive: false };
      var fov = num(c.fov_deg), hd = num(c.heading_deg);
      if (fov !== null && fov < 360 && hd !== null) out.push(L.polygon(sectorLatLngs(site.lat, site.lon, r, hd, fov), style));
      else out.push(L.circle([site.lat, site.lon], Object.assign({ radius: r }, style,
        c.type === "fixed" ? { dashArray: "4 3" } : {})));
    });
    return out;
  }

  function row2(table, a, b) { var tr = el("tr"); add(tr, el("td", "k", a), el("td", "v", b)); table.appendChild(tr); }

  // The popup of one site: why it was chosen, its cameras, its cost.
  function sitePopup(site) {
    var box = el("div", "plan-pop");
    var first = site.items[0], p = first.props || {};
    add(box, el("div", "pp-title", "#" + site.rank + " · " + siteKindLabel(site.kind)));
    var sub = [];
    if (site.dong) sub.push(site.dong);
    if (site.kind !== "replacement") sub.push("가치 value " + fmtNum(site.value, 2));
    if (site.points !== null) sub.push("지점 " + fmtNum(site.points, 0) + " points covered");
    add(box, el("div", "pp-sub", sub.join(" · ")));
    if (site.kind === "replacement") {
      var t = el("table", "pp-table");
      var year = num(p.install_year) !== null ? p.install_year : (p.installed_ym ? String(p.installed_ym).slice(0, 4) : null);
      var res = p.resolution !== undefined && p.resolution !== null ? p.resolution : (num(p.megapixels) !== null ? p.megapixels + " MP" : null);
      row2(t, "설치 연도 installed", year === null ? "–" : year + (num(p.age_years) !== null ? " (" + fmtNum(p.age_years, 0) + "년 years)" : ""));
      row2(t, "해상도 resolution", res === null ? "–" : (typeof res === "number" ? res + " MP" : res));
      row2(t, "사유 reason", REASONS[p.reason] || p.reason || "–");
      row2(t, "카메라 cameras", first.n_cameras + " × " + typeLabel(first.camera_type));
      if (p.address) row2(t, "주소 address", p.address);
      row2(t, "비용 cost", fmtWon(site.cost));
      add(box, t);
      return box;
    }
    add(box, el("div", "pp-h", "선정 이유 · why here"));
    if (site.explained) {
      var keys = Object.keys(site.layers).filter(function (k) { return Math.abs(site.layers[k]) > 1e-9; })
        .sort(function (a, b) { return Math.abs(site.layers[b]) - Math.abs(site.layers[a]); });
      var top = keys.reduce(function (m, k) { return Math.max(m, Math.abs(site.layers[k])); }, 0) || 1;
      var bars = el("div", "pp-bars");
      keys.forEach(function (k) {
        var v = site.layers[k], r = el("div", "pp-bar" + (v < 0 ? " neg" : ""));
        r.dataset.layer = k;
        var fill = el("i"); fill.style.width = Math.max(2, Math.round(100 * Math.abs(v) / top)) + "%";
        var track = el("span", "track"); track.appendChild(fill);
        add(r, el("span", "lbl", layerLabel(k)), track, el("span", "num", fmtNum(v, 2)));
        bars.appendChild(r);
      });
      add(box, bars);
    } else {
      add(box, el("div", "muted", "이 계획은 층별 기여를 저장하지 않았습니다 · this plan stored no layer breakdown (priority " + fmtNum(site.value, 3) + ")"));
    }
    add(box, el("div", "pp-h", "카메라 · cameras (" + site.cameras.length + ")"));
    var ul = el("ul", "pp-cams");
    site.cameras.forEach(function (c) {
      var parts = [typeLabel(c.type), fmtNum(c.range_m, 0) + " m"];
      if (num(c.fov_deg) !== null && c.fov_deg < 360) parts.push("화각 FOV " + fmtNum(c.fov_deg, 0) + "°");
      if (num(c.heading_deg) !== null) parts.push("방향 heading " + compass(c.heading_deg));
      else if (c.type === "ptz") parts.push("360°");
      ul.appendChild(el("li", null, parts.join(" · ")));
    });
    add(box, ul);
    add(box, el("div", "pp-h", "비용 · cost"));
    var ct = el("table", "pp-table");
    site.costLines.forEach(function (l) { row2(ct, costItemLabel(l.item), fmtWon(l.krw)); });
    var tot = el("tr", "total"); add(tot, el("td", "k", "합계 total"), el("td", "v", fmtWon(site.cost))); ct.appendChild(tot);
    add(box, ct);
    if (site.lights) add(box, el("div", "pp-lights", "보안등 추가 · lights added: " + site.lights));
    return box;
  }

  function priorityColour(s, max, ramp) {
    ramp = ramp || RAMP;
    if (!(max > 0)) return ramp[0];
    return ramp[Math.min(ramp.length - 1, Math.floor(s / max * ramp.length))];
  }
  // A canvas in its own pane below the overlays: cells are drawn opaque and the pane is translucent,
  // so the slight overlaps between neighbouring cells never show as darker lines.
  function priorityRenderer(map, opacity) {
    var pane = map.getPane("priority") || map.createPane("priority");
    pane.style.zIndex = 350;
    pane.style.opacity = String(opacity);
    pane.style.pointerEvents = "none";
    return L.canvas({ pane: "priority", padding: 0.5 });
  }
  // cells: [[lat, lon, score], ...] on a square grid of cellM metres; renderer from priorityRenderer.
  function drawPriority(layer, cells, cellM, renderer, ramp) {
    var max = cells.reduce(function (m, c) { return Math.max(m, c[2]); }, 0);
    cells.forEach(function (c) {
      if (!(c[2] > 0)) return;
      // 4 % larger than the cell: the national grid is turned slightly against lat/lon, so exact
      // squares would leave hairline gaps between neighbours
      var dlat = cellM * 0.52 / 111320, dlon = dlat / Math.cos(c[0] * Math.PI / 180);
      L.rectangle([[c[0] - dlat, c[1] - dlon], [c[0] + dlat, c[1] + dlon]], { renderer: renderer, stroke: false,
        fillColor: priorityColour(c[2], max, ramp), fillOpacity: 1, interactive: false }).addTo(layer);
    });
    return max;
  }

  function swatch(cls, colour) { var i = el("i", cls); i.style.background = colour; i.style.borderColor = colour; return i; }
  function legendRow(sw, text) { var r = el("div", "lg-row"); add(r, sw, el("span", null, text)); return r; }

  // Legend element: priority ramp, coverage shapes, site kinds, and (comparison) the two plans.
  function legend(opts) {
    opts = opts || {};
    var box = el("div", "plan-legend");
    box.id = opts.id || "plan-legend";
    if (opts.priorityMax !== undefined && opts.priorityMax !== null) {
      add(box, el("div", "lg-h", "우선순위 priority"));
      var ramp = el("div", "lg-ramp");
      (opts.ramp || RAMP).forEach(function (c) { ramp.appendChild(swatch("", c)); });
      add(box, ramp, el("div", "lg-scale", "0 … " + fmtNum(opts.priorityMax, 2)));
    }
    if (opts.compare) {
      var C = opts.compare;
      add(box, el("div", "lg-h", "비교 comparison"));
      add(box, legendRow(swatch("dot", C.kept), "유지 kept (A #" + C.aId + " and B #" + C.bId + ")"));
      var rem = swatch("ringdot", C.a); rem.style.borderColor = "#f85149";
      add(box, legendRow(rem, "제거 removed (A #" + C.aId + " only)"));
      var ad = swatch("ringdot", C.b); ad.style.borderColor = "#3fb950";
      add(box, legendRow(ad, "추가 added (B #" + C.bId + " only)"));
      return box;
    }
    var kinds = opts.kinds || ["new_pole", "streetlight", "utility_pole", "existing_site"];
    if (kinds.some(function (k) { return k !== "replacement"; })) {
      add(box, el("div", "lg-h", "커버리지 coverage"));
      var tc = opts.typeColours || {};
      add(box, legendRow(swatch("circle", tc.ptz || CAMERA_TYPES.ptz[2]), "회전형 PTZ: 원 circle (range)"));
      add(box, legendRow(swatch("sector", tc.fixed || CAMERA_TYPES.fixed[2]), "고정형 fixed: 부채꼴 sector (heading, FOV)"));
    }
    add(box, el("div", "lg-h", "설치 위치 site"));
    kinds.forEach(function (k) {
      add(box, legendRow(swatch("dot", siteColour(k)), siteKindLabel(k)));
    });
    return box;
  }

  function siteMarker(site, opts) {
    var n = site.cameras.length || 1;
    return L.circleMarker([site.lat, site.lon], { renderer: opts.renderer, radius: Math.min(10, 4 + n) + (opts.weight > 2 ? 2 : 0),
      color: opts.stroke || "#0b0f14", weight: opts.weight || 1.5, fillColor: opts.fill || siteColour(site.kind), fillOpacity: 1 });
  }

  window.SafecityPlanDraw = {
    LAYER_LABELS: LAYER_LABELS, SITE_KINDS: SITE_KINDS, CAMERA_TYPES: CAMERA_TYPES, RAMP: RAMP, RAMP_LIGHT: RAMP_LIGHT, TYPE_COLOURS_LIGHT: TYPE_COLOURS_LIGHT,
    fmtWon: fmtWon, fmtPct: fmtPct, fmtNum: fmtNum, compass: compass, layerLabel: layerLabel,
    siteKindLabel: siteKindLabel, siteKindKo: siteKindKo, layerKo: layerKo, siteColour: siteColour, typeLabel: typeLabel, proofStatus: proofStatus,
    groupSites: groupSites, sectorLatLngs: sectorLatLngs, coverageShapes: coverageShapes, sitePopup: sitePopup,
    setDongNames: setDongNames, dongName: dongName, drawPriority: drawPriority, priorityRenderer: priorityRenderer, priorityColour: priorityColour, legend: legend, siteMarker: siteMarker,
    costItemLabel: costItemLabel, reasons: REASONS,
  };
})();

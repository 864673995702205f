"""Plan outputs: GeoJSON, CSV, summary JSON and a self-contained HTML map (vendored Leaflet, no CDN).

The HTML inlines Leaflet 1.9.4 (``safecity/vendor/leaflet``, BSD-2-Clause) and draws no tile layer, so the
single file opens offline: area and dong outlines, demand cells coloured by priority, existing cameras,
the planned sites by camera type, a legend and the cost table.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safecity.errors import InputError
from safecity.plan.types import MapLayers, Plan
from safecity.vendor import LEAFLET_DIR

__all__ = ["PlanFiles", "plan_csv", "plan_geojson", "plan_html", "write_outputs"]

ASSETS = LEAFLET_DIR
CSV_COLUMNS = ("rank", "kind", "lat", "lon", "camera_type", "n_cameras", "cost_krw", "priority", "ref")
TYPE_COLOURS = {"fixed": "#1f77b4", "ptz": "#d62728"}


@dataclass(frozen=True, slots=True)
class PlanFiles:
    """Paths of the files written for one plan."""

    directory: Path
    geojson: Path
    csv: Path
    html: Path
    summary: Path


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, float) and v != v:  # NaN
        return None
    return v


def plan_geojson(plan: Plan) -> dict[str, Any]:
    """FeatureCollection of the plan items (Point, WGS84) with the plan's summary as a foreign member."""
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [it.lon, it.lat]},
            "properties": _jsonable(
                {f: getattr(it, f) for f in CSV_COLUMNS if f not in ("lat", "lon")} | dict(it.props)
            ),
        }
        for it in plan.items
    ]
    return {
        "type": "FeatureCollection",
        "name": f"safecity-plan-{plan.kind}-{plan.area}",
        "plan": _jsonable(_head(plan)),
        "features": feats,
    }


def _head(plan: Plan) -> dict[str, Any]:
    return {
        "kind": plan.kind,
        "area": plan.area,
        "area_name": plan.area_name,
        "created_at": plan.created_at.isoformat(),
        "budget_krw": plan.budget_krw,
        "cost_krw": plan.cost_krw,
        "status": plan.status,
        "objective": plan.objective,
        "mip_gap": plan.mip_gap,
        "summary": dict(plan.summary),
    }


def plan_csv(plan: Plan) -> str:
    """One row per item; ``props`` as a JSON column."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*CSV_COLUMNS, "props"])
    for it in plan.items:
        w.writerow(
            [getattr(it, f) for f in CSV_COLUMNS]
            + [json.dumps(_jsonable(dict(it.props)), ensure_ascii=False)]
        )
    return buf.getvalue()


def _inline_css() -> str:
    css = (ASSETS / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(m: re.Match[str]) -> str:
        p = ASSETS / m.group(1)
        if not p.is_file():
            return m.group(0)
        return "url(data:image/png;base64," + base64.b64encode(p.read_bytes()).decode("ascii") + ")"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)


def _fmt_krw(v: float) -> str:
    return f"{v:,.0f}"


def _cost_table(plan: Plan) -> str:
    s = plan.summary
    rows: list[tuple[str, str]] = [
        ("budget", _fmt_krw(plan.budget_krw)),
        ("total cost", _fmt_krw(plan.cost_krw)),
    ]
    for k, v in dict(s.get("cost_sites_by_kind_krw", {})).items():
        rows.append((f"sites: {k}", _fmt_krw(float(v))))
    for k, v in dict(s.get("cost_cameras_by_type_krw", {})).items():
        rows.append((f"cameras: {k}", _fmt_krw(float(v))))
    for k, v in dict(s.get("cameras_by_type", {})).items():
        rows.append((f"{k} cameras", str(v)))
    body = "".join(f"<tr><th>{html.escape(a)}</th><td>{html.escape(b)}</td></tr>" for a, b in rows)
    return f"<table class='cost'><caption>Cost (KRW)</caption>{body}</table>"


def plan_html(plan: Plan, layers: MapLayers) -> str:
    """A single HTML file with the map and tables; it loads nothing from the network."""
    js = (ASSETS / "leaflet.js").read_text(encoding="utf-8")
    payload = {
        "area": layers.area_geojson,
        "dongs": layers.dong_geojson,
        "cells": layers.cells,
        "cell_m": layers.cell_size_m,
        "existing": layers.existing,
        "items": [
            {
                "lat": it.lat,
                "lon": it.lon,
                "type": it.camera_type,
                "n": it.n_cameras,
                "kind": it.kind,
                "rank": it.rank,
                "cost": it.cost_krw,
                "priority": it.priority,
                "radius": float(it.props.get("radius_m", 0) or 0),
            }
            for it in plan.items
        ],
        "colours": TYPE_COLOURS,
    }
    data_js = json.dumps(_jsonable(payload), ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    title = f"safecity plan {plan.kind} — {plan.area_name}"
    summary = json.dumps(_jsonable(dict(plan.summary)), ensure_ascii=False, indent=1)
    rows = "".join(
        f"<tr><td>{it.rank}</td><td>{html.escape(it.kind)}</td><td>{html.escape(str(it.camera_type))}</td>"
        f"<td>{it.n_cameras}</td><td>{_fmt_krw(it.cost_krw)}</td><td>{it.priority:.3f}</td>"
        f"<td>{it.lat:.6f}, {it.lon:.6f}</td><td>{html.escape(it.ref or '')}</td></tr>"
        for it in plan.items[:500]
    )
    gap = "n/a" if plan.mip_gap is None else f"{plan.mip_gap:.4%}"
    return _PAGE.format(
        title=html.escape(title),
        css=_inline_css(),
        leaflet=js,
        data=data_js,
        status=html.escape(plan.status),
        gap=gap,
        objective="n/a" if plan.objective is None else f"{plan.objective:,.2f}",
        cost_table=_cost_table(plan),
        rows=rows,
        n_items=len(plan.items),
        summary=html.escape(summary),
        script=_SCRIPT,
    )


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_outputs(plan: Plan, layers: MapLayers, out_dir: Path) -> PlanFiles:
    """Write ``plan.geojson``, ``plan.csv``, ``plan.html`` and ``summary.json`` into ``out_dir``.

    Each file is written to a temporary name first and renamed, so a crash leaves no partial file.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder {out_dir}: {exc}; pass another --out") from exc
    files = PlanFiles(
        directory=out_dir,
        geojson=out_dir / "plan.geojson",
        csv=out_dir / "plan.csv",
        html=out_dir / "plan.html",
        summary=out_dir / "summary.json",
    )
    _atomic_write(files.geojson, json.dumps(plan_geojson(plan), ensure_ascii=False))
    _atomic_write(files.csv, plan_csv(plan))
    _atomic_write(files.html, plan_html(plan, layers))
    head = _head(plan) | {"params": _jsonable(dict(plan.params))}
    _atomic_write(files.summary, json.dumps(_jsonable(head), ensure_ascii=False, indent=2))
    return files


_SCRIPT = r"""
(function () {
  var D = JSON.parse(document.getElementById('plan-data').textContent);
  var map = L.map('map', {preferCanvas: true, zoomSnap: 0.25});
  var canvas = L.canvas({padding: 0.5});
  var areaLayer = L.geoJSON(D.area, {style: {color: '#222', weight: 2.5, fill: false}}).addTo(map);
  var dongLayer = L.geoJSON(D.dongs, {style: {color: '#888', weight: 0.8, fill: false},
    onEachFeature: function (f, l) {
      l.bindTooltip(String(f.properties.name || f.properties.code)); }}).addTo(map);
  var maxS = 0; D.cells.forEach(function (c) { if (c[2] > maxS) maxS = c[2]; });
  var ramp = ['#ffffcc', '#ffeda0', '#fed976', '#feb24c', '#fd8d3c', '#fc4e2a', '#e31a1c', '#b10026'];
  function colour(s) { if (maxS <= 0) return ramp[0];
    return ramp[Math.min(ramp.length - 1, Math.floor(s / maxS * ramp.length))]; }
  var cellLayer = L.layerGroup();
  D.cells.forEach(function (c) {
    var dlat = D.cell_m / 2 / 111320, dlon = dlat / Math.cos(c[0] * Math.PI / 180);
    L.rectangle([[c[0] - dlat, c[1] - dlon], [c[0] + dlat, c[1] + dlon]],
      {renderer: canvas, stroke: false, fillColor: colour(c[2]), fillOpacity: 0.55}).addTo(cellLayer);
  });
  cellLayer.addTo(map);
  var exLayer = L.layerGroup();
  D.existing.forEach(function (e) {
    L.circleMarker([e[0], e[1]], {renderer: canvas, radius: 2, color: '#555', weight: 1, fillOpacity: 0.7})
      .bindTooltip('existing: ' + e[2] + ' camera(s)').addTo(exLayer);
  });
  exLayer.addTo(map);
  var planLayer = L.layerGroup();
  D.items.forEach(function (it) {
    var col = D.colours[it.type] || '#2ca02c';
    if (it.radius > 0) {
      L.circle([it.lat, it.lon], {renderer: canvas, radius: it.radius, color: col, weight: 1,
        fillOpacity: 0.12}).addTo(planLayer);
    }
    L.circleMarker([it.lat, it.lon], {renderer: canvas, radius: 5, color: '#000', weight: 1,
      fillColor: col, fillOpacity: 1}).bindPopup('#' + it.rank + ' ' + it.kind + '<br>' + it.n + ' x ' +
      it.type + '<br>cost ' + Math.round(it.cost).toLocaleString() + ' KRW<br>priority ' +
      it.priority).addTo(planLayer);
  });
  planLayer.addTo(map);
  L.control.layers(null, {'area': areaLayer, 'dongs': dongLayer, 'priority cells': cellLayer,
    'existing cameras': exLayer, 'plan': planLayer}, {collapsed: false}).addTo(map);
  var legend = L.control({position: 'bottomright'});
  legend.onAdd = function () {
    var div = L.DomUtil.create('div', 'legend');
    var h = '<b>priority</b><br>';
    ramp.forEach(function (c, i) { h += '<i style="background:' + c + '"></i>' +
      (maxS * i / ramp.length).toFixed(1) + '<br>'; });
    h += '<b>planned</b><br>';
    Object.keys(D.colours).forEach(function (k) { h += '<i style="background:' + D.colours[k] +
      '"></i>' + k + '<br>'; });
    h += '<i style="background:#555"></i>existing camera';
    div.innerHTML = h; return div;
  };
  legend.addTo(map);
  map.fitBounds(areaLayer.getBounds());
  document.body.setAttribute('data-map-ready', '1');
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
<style>
body {{ font-family: sans-serif; margin: 0 1em 2em; }}
#map {{ height: 70vh; background: #f4f4f0; border: 1px solid #999; }}
.legend {{ background: #fff; padding: 6px 8px; font-size: 12px; line-height: 16px; border: 1px solid #999; }}
.legend i {{ width: 14px; height: 12px; float: left; margin-right: 6px; opacity: 0.85; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 13px; }}
td, th {{ border: 1px solid #bbb; padding: 2px 6px; text-align: left; }}
caption {{ font-weight: bold; text-align: left; }}
</style></head>
<body>
<h1>{title}</h1>
<p>status <b>{status}</b>, MIP gap {gap}, objective {objective}. No map tiles: outlines and cells
only, so this file works offline.</p>
<div id="map"></div>
{cost_table}
<table class="items"><caption>Plan items ({n_items}; first 500 shown)</caption>
<tr><th>rank</th><th>kind</th><th>type</th><th>cameras</th><th>cost KRW</th><th>priority</th><th>lat, lon</th>
<th>ref</th></tr>
{rows}
</table>
<details><summary>summary</summary><pre>{summary}</pre></details>
<script type="application/json" id="plan-data">{data}</script>
<script>{leaflet}</script>
<script>{script}</script>
</body></html>
"""

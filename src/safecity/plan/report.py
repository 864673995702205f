"""Plan outputs: GeoJSON, CSV, summary JSON and a self-contained HTML map (vendored Leaflet, no CDN).

The HTML inlines Leaflet 1.9.4 (``safecity/vendor/leaflet``, BSD-2-Clause) and the console's drawing script
(``safecity/web/static/js/plandraw.js``) and draws no tile layer, so the single file opens offline: area and
dong outlines, demand cells coloured by priority, existing cameras, each site with its coverage (PTZ
circles, fixed-camera sectors by heading and field of view) and a popup explaining it (layer
contributions, dong, cameras and headings, cost lines, lights added), a legend, the proof status, the
cost and mix tables and the items table.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safecity.errors import InputError
from safecity.plan.types import MapLayers, Plan, PlanItem
from safecity.vendor import LEAFLET_DIR

__all__ = [
    "CAMERA_LABELS",
    "LAYER_LABELS",
    "PLANDRAW_JS",
    "PlanFiles",
    "REASON_LABELS",
    "SITE_KIND_LABELS",
    "STATUS_LABELS",
    "fmt_won",
    "plan_csv",
    "plan_geojson",
    "plan_html",
    "proof_text",
    "write_outputs",
]

ASSETS = LEAFLET_DIR
CSV_COLUMNS = ("rank", "kind", "lat", "lon", "camera_type", "n_cameras", "cost_krw", "priority", "ref")
# the console's drawing script, inlined into the report (same legend, sectors and popups in both)
PLANDRAW_JS = Path(__file__).resolve().parents[1] / "web" / "static" / "js" / "plandraw.js"
LAYER_LABELS: dict[str, tuple[str, str]] = {
    "coverage_gap": ("방범 공백", "coverage gap"),
    "population": ("인구", "population"),
    "one_person_households": ("1인 가구", "one-person households"),
    "crime": ("범죄", "crime"),
    "lighting": ("조명", "lighting"),
    "requests": ("요청", "requests"),
    "event_history": ("관제 이력", "event history"),
    "households": ("가구", "households"),
    "streetlight_density": ("가로등 밀도", "streetlight density"),
    "police_request": ("경찰 요청", "police requests"),
    "resident_request": ("주민 요청", "resident requests"),
}
SITE_KIND_LABELS: dict[str, tuple[str, str]] = {
    "new_pole": ("새 스마트폴", "new smart pole"),
    "streetlight": ("가로등 재사용", "reused streetlight"),
    "utility_pole": ("전신주 재사용", "reused utility pole"),
    "existing_site": ("기존 설치 지점", "existing site"),
    "replacement": ("노후 교체", "replacement"),
}
CAMERA_LABELS: dict[str, tuple[str, str]] = {"ptz": ("회전형", "PTZ"), "fixed": ("고정형", "fixed")}
STATUS_LABELS = {
    "time_limit": "시간 제한 · time limit reached",
    "feasible": "해 있음 · feasible solution",
    "optimal": "최적 · optimal",
    "interrupted": "중단 · interrupted",
}
REASON_LABELS = {
    "age": "내용연수 초과 · past service life",
    "resolution": "저해상도 · low resolution",
    "age+resolution": "내용연수 초과 + 저해상도 · old and low resolution",
}


@dataclass(frozen=True, slots=True)
class PlanFiles:
    """Paths of the files written for one plan."""

    directory: Path
    geojson: Path
    csv: Path
    html: Path
    summary: Path


def _jsonable(v: Any) -> Any:
    if type(v) is tuple and all(type(x) is float or type(x) is int for x in v):
        return [None if x != x else x for x in v]  # the map's cells: (lat, lon, score) many thousand times
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


def fmt_won(v: float | None) -> str:
    """KRW the way Korean budgets read: ``321_000_000`` -> ``"3억 2,100만 원"``.

    >>> fmt_won(1_219_012_345.0), fmt_won(23_000_000), fmt_won(950), fmt_won(None)
    ('12억 1,901만 원', '2,300만 원', '950 원', '–')
    """
    if v is None or v != v:
        return "–"
    sign, a = ("−" if v < 0 else ""), abs(float(v))
    if a >= 1e8:
        eok = int(a // 1e8)
        man = round((a - eok * 1e8) / 1e4)
        if man >= 10_000:
            eok, man = eok + 1, 0
        return f"{sign}{eok:,}억" + (f" {man:,}만" if man else "") + " 원"
    if a >= 1e4:
        return f"{sign}{round(a / 1e4):,}만 원"
    return f"{sign}{round(a):,} 원"


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
        return None
    return float(v)


def proof_text(plan: Plan) -> tuple[bool, str]:
    """(proven, wording) of the plan's optimality: ``summary.proven_optimal`` else ``status == optimal``."""
    s = plan.summary
    flag = s.get("proven_optimal")
    proven = flag if isinstance(flag, bool) else plan.status == "optimal"
    gap = _num(s.get("gap"))
    if gap is None:
        gap = plan.mip_gap
    if proven:
        extra = f" (gap ≤ {max(gap, 0.001):.1%})" if gap is not None and gap > 0 else ""
        return True, f"최적 증명됨 · proven optimal{extra}"
    g = f" — gap {gap:.1%}" if gap is not None else ""
    return False, f"최적 미증명 · NOT proven optimal{g} ({STATUS_LABELS.get(plan.status, plan.status)})"


def _site_kind(it: PlanItem) -> str:
    if it.kind == "replacement":
        return "replacement"
    return str(it.props.get("site_kind") or {"grid": "new_pole", "request": "new_pole"}.get(it.kind, it.kind))


def _label(table: Mapping[str, tuple[str, str]], key: str) -> str:
    ko_en = table.get(key)
    return f"{ko_en[0]} {ko_en[1]}" if ko_en else key.replace("_", " ")


def _cameras_text(it: PlanItem) -> str:
    cams = it.props.get("cameras")
    if not isinstance(cams, list) or not cams:
        return f"{it.n_cameras} × {_label(CAMERA_LABELS, str(it.camera_type))}"
    parts = []
    for c in cams:
        if not isinstance(c, Mapping):
            continue
        t = _label(CAMERA_LABELS, str(c.get("type")))
        hd = _num(c.get("heading_deg"))
        parts.append(f"{t} {hd:.0f}°" if hd is not None else t)
    return ", ".join(parts)


def _explain_text(it: PlanItem) -> str:
    ex = it.props.get("explain")
    if not isinstance(ex, Mapping) or not isinstance(ex.get("layers"), Mapping):
        return "–"
    layers = [(str(k), _num(v)) for k, v in ex["layers"].items()]
    top = sorted(((k, v) for k, v in layers if v), key=lambda kv: -abs(kv[1] or 0.0))[:3]
    return ", ".join(f"{_label(LAYER_LABELS, k)} {v:.2f}" for k, v in top)


def _row(cells: list[str]) -> str:
    return "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"


def _dong_names(layers: MapLayers) -> dict[str, str]:
    """KOSTAT dong code -> name from the dong outlines (older plans stored codes)."""
    out: dict[str, str] = {}
    for f in layers.dong_geojson.get("features", []) or []:
        p = f.get("properties") or {}
        if p.get("code") and p.get("name"):
            out[str(p["code"])] = str(p["name"])
    return out


def _items_table(plan: Plan, dongs: Mapping[str, str]) -> str:
    if plan.kind == "replace":
        head = [
            "#",
            "설치 installed",
            "해상도 resolution",
            "사유 reason",
            "카메라 cameras",
            "비용 cost",
            "주소 address",
        ]
        rows = []
        for it in plan.items[:500]:
            p = it.props
            year = p.get("install_year") or (str(p.get("installed_ym"))[:4] if p.get("installed_ym") else "–")
            res = p.get("resolution") or (f"{p['megapixels']} MP" if _num(p.get("megapixels")) else "–")
            reason = REASON_LABELS.get(str(p.get("reason")), str(p.get("reason") or "–"))
            rows.append(
                _row(
                    [
                        str(it.rank),
                        str(year),
                        str(res),
                        reason,
                        f"{it.n_cameras} × {_label(CAMERA_LABELS, str(it.camera_type))}",
                        fmt_won(it.cost_krw),
                        str(p.get("address") or ""),
                    ]
                )
            )
    else:
        head = [
            "#",
            "위치 site",
            "동 dong",
            "카메라 cameras (heading)",
            "비용 cost",
            "가치 value",
            "주요 요인 top factors",
        ]
        rows = []
        for it in plan.items[:500]:
            ex = it.props.get("explain")
            dong = (ex.get("dong") if isinstance(ex, Mapping) else None) or it.props.get("dong") or "–"
            dong = dongs.get(str(dong), str(dong))
            value = _num(ex.get("value")) if isinstance(ex, Mapping) else None
            lights = int(_num(it.props.get("lights_added")) or 0)
            rows.append(
                _row(
                    [
                        str(it.rank),
                        _label(SITE_KIND_LABELS, _site_kind(it))
                        + (f" +{lights} 보안등 light" if lights else ""),
                        str(dong),
                        _cameras_text(it),
                        fmt_won(it.cost_krw),
                        f"{value if value is not None else it.priority:,.2f}",
                        _explain_text(it),
                    ]
                )
            )
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    cap = f"항목 items ({len(plan.items):,}; first 500 shown)"
    return f"<table class='items'><caption>{html.escape(cap)}</caption><tr>{th}</tr>{''.join(rows)}</table>"


def _cost_table(plan: Plan) -> str:
    s = plan.summary
    rows: list[tuple[str, str]] = [
        ("예산 budget", fmt_won(plan.budget_krw)),
        ("총비용 total cost", fmt_won(plan.cost_krw)),
    ]
    for k, v in dict(s.get("cost_sites_by_kind_krw", {})).items():
        rows.append((f"지점 sites: {_label(SITE_KIND_LABELS, str(k))}", fmt_won(_num(v))))
    for k, v in dict(s.get("cost_cameras_by_type_krw", {})).items():
        rows.append((f"카메라 cameras: {_label(CAMERA_LABELS, str(k))}", fmt_won(_num(v))))
    if plan.kind == "replace" and _num(s.get("cost_due_krw")) is not None:
        rows.append(("전부 교체 시 replacing all that are due", fmt_won(_num(s.get("cost_due_krw")))))
    body = "".join(f"<tr><th>{html.escape(a)}</th><td>{html.escape(b)}</td></tr>" for a, b in rows)
    return f"<table class='cost'><caption>비용 cost</caption>{body}</table>"


def _count_cameras(items: Sequence[PlanItem]) -> dict[str, int]:
    """PTZ and fixed cameras (from ``props.cameras`` where stored, else ``n_cameras``) and distinct sites."""
    out = {"ptz": 0, "fixed": 0}
    for it in items:
        cams = it.props.get("cameras")
        if isinstance(cams, list) and cams:
            for c in cams:
                t = c.get("type") if isinstance(c, Mapping) else None
                if t in out:
                    out[str(t)] += 1
        elif it.camera_type in out:
            out[str(it.camera_type)] += it.n_cameras
    out["sites"] = len({(round(it.lat, 5), round(it.lon, 5)) for it in items})
    return out


def _mix_table(plan: Plan) -> str:
    if plan.kind != "sites":
        return ""
    s = plan.summary
    mix_raw = s.get("mix")
    mix: Mapping[str, Any] = mix_raw if isinstance(mix_raw, Mapping) else {}
    counted = _count_cameras(plan.items)
    ptz = _num(mix.get("ptz")) if mix.get("ptz") is not None else float(counted["ptz"])
    fixed = _num(mix.get("fixed")) if mix.get("fixed") is not None else float(counted["fixed"])
    sites = _num(mix.get("sites")) if mix.get("sites") is not None else float(counted["sites"])
    per = _num(mix.get("cameras_per_site"))
    if per is None and sites:
        per = ((ptz or 0) + (fixed or 0)) / sites
    guro = s.get("guro_2024") if isinstance(s.get("guro_2024"), Mapping) else None

    def f(v: float | None, d: int = 0) -> str:
        return "–" if v is None else f"{v:,.{d}f}"

    g = guro or {}
    g_sites = _num(g.get("sites"))
    g_per = (_num(g.get("cameras")) or 0) / g_sites if g_sites else None
    lines = [
        ("회전형 PTZ", f(ptz), f(_num(g.get("ptz")))),
        ("고정형 fixed", f(fixed), f(_num(g.get("fixed")))),
        ("카메라 cameras", f((ptz or 0) + (fixed or 0)), f(_num(g.get("cameras")))),
        ("지점 sites", f(sites), f(g_sites)),
        ("지점당 카메라 cameras per site", f(per, 1), f(g_per, 1)),
    ]
    gh = "<th>구로 2024 Guro</th>" if guro else ""
    body = "".join(
        f"<tr><th>{html.escape(a)}</th><td>{html.escape(b)}</td>"
        + (f"<td>{html.escape(c)}</td>" if guro else "")
        + "</tr>"
        for a, b, c in lines
    )
    head = f"<tr><th></th><th>이 계획 this plan</th>{gh}</tr>"
    return f"<table class='mix'><caption>구성 mix</caption>{head}{body}</table>"


def _items_payload(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "rank": it.rank,
            "kind": it.kind,
            "lat": it.lat,
            "lon": it.lon,
            "camera_type": it.camera_type,
            "n_cameras": it.n_cameras,
            "cost_krw": it.cost_krw,
            "priority": it.priority,
            "ref": it.ref,
            "props": dict(it.props),
        }
        for it in plan.items
    ]


def plan_html(plan: Plan, layers: MapLayers, *, notes: Sequence[str] = ()) -> str:
    """A single HTML file with the map, the legend, each site's explanation and the tables.

    It loads nothing from the network: Leaflet and the drawing script (``web/static/js/plandraw.js``,
    the same one the console uses) are inlined. ``notes`` are shown under the headline.
    """
    payload = {
        "area": layers.area_geojson,
        "dongs": layers.dong_geojson,
        "cells": layers.cells,
        "cell_m": layers.cell_size_m,
        "existing": layers.existing,
        "items": _items_payload(plan),
    }
    data_js = json.dumps(_jsonable(payload), ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    kind = "노후 교체 replacement" if plan.kind == "replace" else "신규 지점 site selection"
    title = f"safecity 계획 plan — {plan.area_name} · {kind}"
    proven, proof = proof_text(plan)
    s = plan.summary
    facts = [f"예산 budget {fmt_won(plan.budget_krw)}", f"비용 cost {fmt_won(plan.cost_krw)}"]
    if plan.kind == "sites":
        cov = _num(s.get("covered_priority"))
        cov = plan.objective if cov is None else cov
        share = _num(s.get("covered_share"))
        if cov is not None:
            facts.append(
                f"커버한 가치 covered value {cov:,.1f}"
                + (f" ({share:.1%} of all)" if share is not None else "")
            )
        pts = _num(s.get("points_covered"))
        if pts is not None:
            facts.append(f"커버 지점 points covered {pts:,.0f}")
    notes_html = "".join(f"<p class='note'>{html.escape(n)}</p>" for n in notes)
    return _PAGE.format(
        title=html.escape(title),
        css=_inline_css(),
        leaflet=(ASSETS / "leaflet.js").read_text(encoding="utf-8"),
        plandraw=PLANDRAW_JS.read_text(encoding="utf-8"),
        data=data_js,
        proof_cls="ok" if proven else "bad",
        proof=html.escape(proof),
        facts=html.escape(" · ".join(facts)),
        notes=notes_html,
        created=html.escape(plan.created_at.isoformat(timespec="seconds")),
        cost_table=_cost_table(plan),
        mix_table=_mix_table(plan),
        items_table=_items_table(plan, _dong_names(layers)),
        summary=html.escape(json.dumps(_jsonable(dict(s)), ensure_ascii=False, indent=1)),
        script=_SCRIPT,
    )


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_outputs(plan: Plan, layers: MapLayers, out_dir: Path, *, notes: Sequence[str] = ()) -> PlanFiles:
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
    _atomic_write(files.html, plan_html(plan, layers, notes=notes))
    head = _head(plan) | {"params": _jsonable(dict(plan.params))}
    _atomic_write(files.summary, json.dumps(_jsonable(head), ensure_ascii=False, indent=2))
    return files


_SCRIPT = r"""
(function () {
  var D = window.SafecityPlanDraw;
  var P = JSON.parse(document.getElementById('plan-data').textContent);
  D.setDongNames(P.dongs);
  var map = L.map('map', {preferCanvas: true, zoomSnap: 0.25});
  var canvas = L.canvas({padding: 0.5});
  var areaLayer = L.geoJSON(P.area, {style: {color: '#222', weight: 2.5, fill: false}}).addTo(map);
  var dongLayer = L.geoJSON(P.dongs, {style: {color: '#888', weight: 0.8, fill: false},
    onEachFeature: function (f, l) {
      l.bindTooltip(String(f.properties.name || f.properties.code)); }}).addTo(map);
  var cellLayer = L.layerGroup();
  var maxS = D.drawPriority(cellLayer, P.cells, P.cell_m, D.priorityRenderer(map, 0.45), D.RAMP_LIGHT);
  cellLayer.addTo(map);
  var exLayer = L.layerGroup();
  P.existing.forEach(function (e) {
    L.circleMarker([e[0], e[1]], {renderer: canvas, radius: 2, color: '#555', weight: 1, fillOpacity: 0.7})
      .bindTooltip('기존 카메라 existing: ' + e[2]).addTo(exLayer);
  });
  exLayer.addTo(map);
  var covLayer = L.layerGroup(), siteLayer = L.layerGroup();
  var sites = D.groupSites(P.items);
  sites.forEach(function (s) {
    D.coverageShapes(s, {renderer: canvas, typeColours: D.TYPE_COLOURS_LIGHT})
      .forEach(function (c) { c.addTo(covLayer); });
    D.siteMarker(s, {renderer: canvas, stroke: '#111'})
      .bindPopup(function () { return D.sitePopup(s); }, {maxWidth: 380, minWidth: 280}).addTo(siteLayer);
  });
  covLayer.addTo(map); siteLayer.addTo(map);
  L.control.layers(null, {'구 area': areaLayer, '동 dongs': dongLayer, '우선순위 priority': cellLayer,
    '기존 카메라 existing cameras': exLayer, '커버리지 coverage': covLayer, '설치 위치 sites': siteLayer},
    {collapsed: false}).addTo(map);
  var kinds = []; sites.forEach(function (s) { if (kinds.indexOf(s.kind) < 0) kinds.push(s.kind); });
  var legend = L.control({position: 'bottomright'});
  legend.onAdd = function () {
    var box = D.legend({priorityMax: P.cells.length ? maxS : null, ramp: D.RAMP_LIGHT,
      typeColours: D.TYPE_COLOURS_LIGHT,
      kinds: kinds.length ? kinds : undefined});
    var r = document.createElement('div'); r.className = 'lg-row';
    var i = document.createElement('i'); i.className = 'dot'; i.style.background = '#555';
    var t = document.createElement('span'); t.textContent = '기존 카메라 existing camera';
    r.appendChild(i); r.appendChild(t); box.appendChild(r);
    return box;
  };
  legend.addTo(map);
  var b = areaLayer.getBounds();
  if (!b.isValid()) b = L.latLngBounds(sites.map(function (s) { return [s.lat, s.lon]; }));
  if (b.isValid()) map.fitBounds(b); else map.setView([37.5, 126.9], 12);
  document.body.setAttribute('data-map-ready', '1');
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="ko"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
<style>
body {{ font-family: "Noto Sans KR", "Malgun Gothic", "Apple SD Gothic Neo", sans-serif; margin: 0 1em 2em; }}
#map {{ height: 72vh; background: #f4f4f0; border: 1px solid #999; }}
.proof {{ display: inline-block; padding: 6px 10px; border-radius: 6px; font-weight: bold; }}
.proof.ok {{ background: #dafbe1; color: #116329; border: 1px solid #2da44e; }}
.proof.bad {{ background: #ffebe9; color: #a40e26; border: 2px solid #cf222e; font-size: 1.2em; }}
.note {{ color: #9a6700; }}
.plan-legend {{ background: #fff; padding: 6px 8px; font-size: 12px; line-height: 1.45;
  border: 1px solid #999; border-radius: 6px; min-width: 180px; }}
.plan-legend .lg-h {{ font-weight: bold; margin-top: 4px; }}
.plan-legend .lg-row {{ display: flex; align-items: center; gap: 6px; }}
.plan-legend i {{ display: inline-block; width: 14px; height: 14px; border: 1.5px solid; flex: none; }}
.plan-legend i.dot {{ border-radius: 50%; border-color: #111 !important; }}
.plan-legend i.circle {{ border-radius: 50%; opacity: .75; }}
.plan-legend i.sector {{ border-radius: 14px 0 0 0; opacity: .75; transform: rotate(45deg); }}
.plan-legend .lg-ramp {{ display: flex; }}
.plan-legend .lg-ramp i {{ width: 18px; height: 10px; border: none; }}
.plan-pop .pp-title {{ font-weight: bold; font-size: 14px; }}
.plan-pop .pp-sub, .plan-pop .muted {{ color: #57606a; }}
.plan-pop .pp-h {{ font-weight: bold; margin: 8px 0 3px; }}
.plan-pop .pp-bar {{ display: grid; grid-template-columns: 130px 1fr 44px; gap: 6px; align-items: center; }}
.plan-pop .pp-bar .track {{ background: #eaeef2; height: 9px; }}
.plan-pop .pp-bar i {{ display: block; height: 100%; background: #0969da; }}
.plan-pop .pp-bar.neg i {{ background: #bf8700; }}
.plan-pop .pp-bar .num {{ text-align: right; }}
.plan-pop ul.pp-cams {{ margin: 0; padding-left: 16px; }}
.plan-pop .pp-table td {{ border: none; border-bottom: 1px solid #ddd; padding: 1px 4px; }}
.plan-pop .pp-table td.v {{ text-align: right; white-space: nowrap; }}
.plan-pop .pp-table tr.total td {{ font-weight: bold; }}
.plan-pop .pp-lights {{ margin-top: 6px; color: #9a6700; }}
table {{ border-collapse: collapse; margin: 1em 1em 1em 0; font-size: 13px; }}
td, th {{ border: 1px solid #bbb; padding: 2px 6px; text-align: left; }}
caption {{ font-weight: bold; text-align: left; }}
.tables {{ display: flex; flex-wrap: wrap; align-items: flex-start; }}
</style></head>
<body>
<h1>{title}</h1>
<p><span class="proof {proof_cls}" id="proof">{proof}</span></p>
<p>{facts} · {created} UTC. 지도 타일 없음: 경계와 셀만 그려 오프라인에서 열립니다
(no map tiles: outlines and cells only, so this file works offline).
지점을 누르면 선정 이유가 보입니다 (click a site for its explanation).</p>
{notes}
<div id="map"></div>
<div class="tables">{cost_table}{mix_table}</div>
{items_table}
<details><summary>summary (raw)</summary><pre>{summary}</pre></details>
<script type="application/json" id="plan-data">{data}</script>
<script>{leaflet}</script>
<script>{plandraw}</script>
<script>{script}</script>
</body></html>
"""

"""Builders of small standard-data CSV files for registry tests."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from safecity.paths import seoul_data_dir

SHORT_HEADER = (
    "man",
    "add",
    "rd",
    "object",
    "num",
    "fixel",
    "see",
    "store",
    "install_day",
    "phone",
    "lat",
    "lng",
    "update",
)
OFFICIAL_HEADER = (
    "관리기관명",
    "소재지도로명주소",
    "소재지지번주소",
    "설치목적구분",
    "카메라대수",
    "카메라화소수",
    "촬영방면정보",
    "보관일수",
    "설치연월",
    "관리기관전화번호",
    "WGS84위도",
    "WGS84경도",
    "데이터기준일자",
)


def guro_csv() -> Path:
    """The bundled Guro 2018 extract of the national standard data."""
    return seoul_data_dir() / "cctv" / "guro_cctv_points_2018.csv"


def good_row(**over: str) -> dict[str, str]:
    """A valid Guro row in short-header form; keyword arguments replace cells."""
    row = {
        "man": "서울특별시 구로구청",
        "add": "서울특별시 구로구 고척로45길 39",
        "rd": "서울특별시 구로구 고척2동 산9-14",
        "object": "생활방범",
        "num": "2",
        "fixel": "200",
        "see": "360도전방면",
        "store": "30",
        "install_day": "11-Dec",
        "phone": "02-860-2114",
        "lat": "37.505818",
        "lng": "126.853614",
        "update": "2018-01-31",
    }
    row.update(over)
    return row


def csv_text(
    rows: Sequence[Mapping[str, str]], header: Sequence[str] = SHORT_HEADER, newline: str = "\n"
) -> str:
    """CSV text with ``header``; rows are keyed by short names and mapped to ``header`` by position."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator=newline)
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(short, "") for short in SHORT_HEADER][: len(header)])
    return buf.getvalue()


def write_csv(
    path: Path,
    rows: Sequence[Mapping[str, str]],
    *,
    header: Sequence[str] = SHORT_HEADER,
    encoding: str = "utf-8",
    newline: str = "\n",
) -> Path:
    """Write ``rows`` as a standard-data CSV in ``encoding`` (``utf-8-sig`` adds a BOM)."""
    path.write_bytes(csv_text(rows, header, newline).encode(encoding))
    return path

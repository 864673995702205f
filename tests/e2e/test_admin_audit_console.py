"""End to end: the admin and audit pages in headless chromium (Playwright) against ``safecity serve``.

The store holds the real Guro registry (``data/seoul/cctv/guro_cctv_points_2018.csv``, imported by
:func:`safecity.registry.repo.import_file`), console users, and viewing sessions written by the real
:class:`~safecity.store.viewing.ViewingLog` (the wall that would write them needs the monitoring
runtime, which the console tests run elsewhere). An admin builds a camera group by searching camera
names, edits it, resets a password, is asked before deleting; the audit page shows a viewing session
and exports the period as CSV (itself audited); at 390 px the menu collapses and no table runs off
the page. The audit page's screenshot goes to ``docs/img/console-audit.png``.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.harness import SHOTS, chromium, login, serve

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
DOCS_IMG = REPO / "docs" / "img"
PASSWORDS = {"admin": "admin-e2e-pass", "operator": "operator-e2e-pass", "viewer": "viewer-e2e-pass"}
NARROW = {"width": 390, "height": 844}


class Seed:
    url = ""
    watched = ""  # camera key of the closed viewing session
    watched_name = ""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seed]:
    from sqlalchemy import select

    from safecity.paths import seoul_data_dir
    from safecity.registry.repo import import_file
    from safecity.store.audit import AuditLog
    from safecity.store.db import connect
    from safecity.store.schema import cameras
    from safecity.store.users import UserStore
    from safecity.store.viewing import ViewingLog

    home = tmp_path_factory.mktemp("e2e-admin")
    engine = connect(f"sqlite:///{home / 'safecity.db'}")
    import_file(engine, seoul_data_dir() / "cctv" / "guro_cctv_points_2018.csv")
    with engine.connect() as c:
        keys = [
            (str(k), str(n)) for k, n in c.execute(select(cameras.c.camera_key, cameras.c.name).limit(40))
        ]
    users = UserStore(engine)
    users.upsert_group("guro-west", [k for k, _ in keys[:20]], "western cameras")
    users.upsert_group("old-group", [k for k, _ in keys[20:25]], "to be deleted")
    for name, pw in PASSWORDS.items():
        users.add_user(name, pw, name)
    users.add_user("leaver", "leaver-e2e-pass", "viewer")
    users.set_user_groups("operator", ["guro-west"])
    users.set_user_groups("viewer", ["guro-west"])
    t = [time.time() - 900]
    views = ViewingLog(engine, AuditLog(engine, clock=lambda: t[0]), clock=lambda: t[0])
    sid = views.open(keys[0][0], "operator", "wall", remote_addr="10.20.30.40")
    for _ in range(6):  # the wall keeps the tile for 3 min 5 s, touching every 30 s
        t[0] += 30
        views.touch(sid)
    t[0] += 5
    views.close(sid)
    for i, (how, user, detail) in enumerate(
        [
            ("mjpeg", "operator", None),
            ("playback", "operator", f"{keys[3][0]}-intrusion-gate"),
            ("map", "admin", None),
        ]
    ):
        t[0] += 40
        other = views.open(keys[2 + i][0], user, how, remote_addr="10.20.30.41", detail=detail)
        t[0] += 20 + 30 * i
        views.close(other)
    t[0] = time.time() - 60
    views.open(keys[1][0], "viewer", "on_demand")  # still watching
    engine.dispose()
    seed = Seed()
    seed.watched, seed.watched_name = keys[0]
    with serve(home) as url:
        seed.url = url
        yield seed


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


_CLIENTS: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()


def _api(seed: Seed, user: str, password: str | None = None) -> httpx.Client:
    c = httpx.Client(base_url=seed.url, timeout=10)
    _CLIENTS.append(c)
    r = c.post("/api/auth/login", json={"username": user, "password": password or PASSWORDS[user]})
    assert r.status_code == 200, r.text
    return c


def test_admin_builds_a_group_by_camera_name_and_edits_it(server: Seed, browser: Any) -> None:
    page = login(browser, server.url, "admin", PASSWORDS["admin"], path="/admin")
    page.click("#new-group")
    page.fill("#ge-name", "school-zones")
    page.fill("#ge-desc", "어린이보호구역 cameras")
    page.fill("#ge-search", "어린이보호")
    page.wait_for_selector("#ge-results tr button.add")
    found = page.text_content("#ge-result-count") or ""
    assert "found" in found
    rows = page.locator("#ge-results tr")
    shown = rows.count()
    assert shown > 10
    assert all("어린이보호" in (rows.nth(i).text_content() or "") for i in range(shown))
    page.click("#ge-add-all")
    assert page.text_content("#ge-member-count") == f"({shown})"
    first = page.locator("#ge-members tr").first
    removed = first.get_attribute("data-key")
    first.locator("button.remove").click()
    assert page.text_content("#ge-status") == "unsaved changes"
    page.click("#ge-save")
    page.wait_for_selector("#ge-status:text-matches('^saved: ')")
    assert page.text_content("#ge-status") == f"saved: {shown - 1} cameras"
    page.wait_for_selector('#groups-body tr[data-group="school-zones"]')
    admin = _api(server, "admin")
    groups = {g["name"]: g for g in admin.get("/api/groups").json()["groups"]}
    assert (
        len(groups["school-zones"]["cameras"]) == shown - 1
        and removed not in groups["school-zones"]["cameras"]
    )
    assert groups["school-zones"]["description"] == "어린이보호구역 cameras"
    # edit an existing group: its members show by name; filter them, remove one, add one by address
    page.click('#groups-body tr[data-group="guro-west"] button.edit')
    page.wait_for_selector("#group-editor:visible #ge-title:has-text('Camera group guro-west')")
    assert page.text_content("#ge-member-count") == "(20)"
    assert (
        page.input_value("#ge-name") == "guro-west" and page.get_attribute("#ge-name", "readonly") is not None
    )
    member_text = page.text_content("#ge-members") or ""
    assert "서울특별시" in member_text or "구로" in member_text  # names, not only keys
    page.fill("#ge-search", "고척로")
    page.wait_for_selector("#ge-results tr button.add")
    added = page.locator("#ge-results tr:has(button.add)").first
    added_key = added.get_attribute("data-key")
    added.locator("button.add").click()
    page.click("#ge-save")
    page.wait_for_selector("#ge-status:has-text('saved: 21 cameras')")
    west = {g["name"]: g for g in admin.get("/api/groups").json()["groups"]}["guro-west"]
    assert added_key in west["cameras"] and len(west["cameras"]) == 21
    audit = admin.get("/api/audit", params={"action": "group_update"}).json()["entries"]
    assert {e["target_id"] for e in audit} == {"school-zones", "guro-west"}
    page.screenshot(path=str(SHOTS / "admin-group-editor.png"), full_page=True)
    page.context.close()


def test_admin_resets_a_password_and_deletes_only_after_confirming(server: Seed, browser: Any) -> None:
    operator = _api(server, "operator")
    assert operator.get("/api/auth/me").status_code == 200
    page = login(browser, server.url, "admin", PASSWORDS["admin"], path="/admin")
    page.click('#users-body tr[data-user="operator"] button.reset-pw')
    page.fill("#rp-pass", "password1")
    page.fill("#rp-again", "password1")
    page.click("#rp-ok")
    page.wait_for_selector("#rp-error:has-text('common')")  # the policy, shown in the dialog
    page.fill("#rp-pass", "operator new pass 9")
    page.fill("#rp-again", "operator new pass 9")
    page.click("#rp-ok")
    page.wait_for_selector("#admin-note:has-text('Password of operator reset; 1 session ended.')")
    assert operator.get("/api/auth/me").status_code == 401  # the user's session ended
    assert _api(server, "operator", "operator new pass 9").get("/api/auth/me").status_code == 200
    # delete asks first; Cancel keeps the user
    page.click('#users-body tr[data-user="leaver"] button.delete-user')
    assert page.is_visible("#confirm-dialog")
    assert "Delete the user leaver" in (page.text_content("#confirm-text") or "")
    page.click("#confirm-cancel")
    assert not page.is_visible("#confirm-dialog")
    assert page.locator('#users-body tr[data-user="leaver"]').count() == 1
    page.click('#users-body tr[data-user="leaver"] button.delete-user')
    page.click("#confirm-ok")
    page.wait_for_selector('#users-body tr[data-user="leaver"]', state="detached")
    # and a group: the dialog names the users who lose access
    page.click('#groups-body tr[data-group="old-group"] button.delete-group')
    assert "Delete the camera group old-group (5 cameras)" in (page.text_content("#confirm-text") or "")
    page.keyboard.press("Escape")  # Escape cancels too
    assert page.locator('#groups-body tr[data-group="old-group"]').count() == 1
    page.click('#groups-body tr[data-group="old-group"] button.delete-group')
    page.click("#confirm-ok")
    page.wait_for_selector('#groups-body tr[data-group="old-group"]', state="detached")
    admin = _api(server, "admin")
    actions = [(e["action"], e["target_id"], e["allowed"]) for e in admin.get("/api/audit").json()["entries"]]
    assert ("user_password_reset", "operator", True) in actions
    assert ("user_password_reset", "operator", False) in actions  # the refused common password
    assert ("user_delete", "leaver", True) in actions and ("group_delete", "old-group", True) in actions
    page.context.close()


def test_audit_page_shows_viewing_sessions_and_exports_csv(server: Seed, browser: Any) -> None:
    page = login(browser, server.url, "admin", PASSWORDS["admin"], path="/audit")
    page.click("#tab-sessions")
    row = page.locator(f'#audit-body tr.session[data-camera="{server.watched}"]')
    row.wait_for()
    text = row.text_content() or ""
    assert server.watched_name in text and "operator" in text and "wall tile" in text
    assert "3 min 5 s" in text and "10.20.30.40" in text
    assert text.count("KST") == 2  # start and end, zero-padded local times
    assert page.locator("#audit-body tr.session .state-new:has-text('watching')").count() == 1
    assert page.locator("#audit-body tr.session").count() == 5
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_IMG / "console-audit.png"))
    # filter the log: the session's start and end are two rows of the audit chain
    page.click("#tab-log")
    page.fill("#a-camera", server.watched)
    page.click("#audit-filters button[type=submit]")
    page.wait_for_selector("#audit-total:text-is('2 entries')")
    assert page.locator('#audit-body tr[data-action="view_end"]').count() == 1
    assert page.locator('#audit-body tr[data-action="view_start"]').count() == 1
    # export the last day as CSV (no period typed: the page fills in the last 24 hours)
    page.fill("#a-camera", "")
    with page.expect_download() as dl:
        page.click("#audit-export")
    path = dl.value.path()
    assert dl.value.suggested_filename.startswith("safecity-audit-log-")
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
    assert {"view_start", "view_end", "login"} <= {r["action"] for r in rows}
    assert all(r["at_local"].endswith(" KST") and len(r["at_local"]) == 23 for r in rows)
    assert page.input_value("#a-since") and page.input_value("#a-until")
    # the export itself is in the log
    page.select_option("#a-action", "audit_export")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_selector('#audit-body tr[data-action="audit_export"]')
    assert f"CSV of {len(rows)} rows" in (
        page.text_content('#audit-body tr[data-action="audit_export"]') or ""
    )
    page.context.close()


@pytest.mark.parametrize("path", ["/audit", "/admin", "/incidents", "/events", "/search", "/wall"])
def test_at_390_px_the_menu_collapses_and_no_table_overflows(server: Seed, browser: Any, path: str) -> None:
    page = login(browser, server.url, "admin", PASSWORDS["admin"], path=path, viewport=NARROW)
    page.wait_for_load_state("networkidle")
    assert page.is_visible("#menu-toggle")
    assert not page.is_visible("header.top nav")
    page.click("#menu-toggle")
    assert page.is_visible("header.top nav a#nav-audit")
    assert page.get_attribute("#menu-toggle", "aria-expanded") == "true"
    page.click("#menu-toggle")
    assert not page.is_visible("header.top nav")
    overflow = page.evaluate(
        """() => {
          const w = document.documentElement.clientWidth;
          const out = [];
          const sw = document.documentElement.scrollWidth;
          if (sw > w + 1) out.push(`page ${sw} > ${w}`);
          for (const t of document.querySelectorAll("table")) {
            if (!t.offsetParent) continue;  // hidden
            let box = t;  // the table, or the scrolling box that holds it
            for (let p = t.parentElement; p && p !== document.body; p = p.parentElement) {
              const ox = getComputedStyle(p).overflowX;
              if (ox === "auto" || ox === "scroll") { box = p; break; }
            }
            const r = box.getBoundingClientRect();
            const name = t.id || t.className || "table";
            const span = `${Math.round(r.left)}..${Math.round(r.right)}`;
            if (r.right > w + 1 || r.left < -1) out.push(`${name} ${span}`);
          }
          return out;
        }"""
    )
    assert overflow == []
    page.screenshot(path=str(SHOTS / f"narrow{path.replace('/', '-')}.png"), full_page=True)
    page.context.close()

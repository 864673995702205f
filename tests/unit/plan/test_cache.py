"""The prepared-instance cache: keys follow every input, a cached plan equals an uncached one, a torn
entry is ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from safecity.plan.cache import PlanCache, default_cache, instance_key, source_digest
from safecity.plan.config import PlanConfig
from safecity.plan.sites import plan_sites


def test_key_changes_with_data_files_config_and_inputs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "cctv").mkdir(parents=True)
    f = data / "cctv" / "points.csv"
    f.write_text("lat,lon\n37.5,126.9\n", encoding="utf-8")
    base = {"area": "guro", "config": PlanConfig().model_dump_json(), "cameras": "bundled"}
    k0 = instance_key(data_dir=data, parts=base)
    assert k0 == instance_key(data_dir=data, parts=dict(base))  # deterministic
    f.write_text("lat,lon\n37.5,126.91\n", encoding="utf-8")  # one digit of one file
    k1 = instance_key(data_dir=data, parts=base)
    assert k1 != k0
    (data / "new.json").write_text("{}", encoding="utf-8")  # a new file
    k2 = instance_key(data_dir=data, parts=base)
    assert k2 not in (k0, k1)
    cfg = PlanConfig().model_copy(update={"demand_step_m": 25.0})
    assert instance_key(data_dir=data, parts=base | {"config": cfg.model_dump_json()}) != k2
    assert instance_key(data_dir=data, parts=base | {"cameras": ["a record"]}) != k2
    assert instance_key(data_dir=data, parts=base | {"area": "seoul"}) != k2
    assert len(source_digest()) == 64 and source_digest() == source_digest()


def test_torn_entry_is_ignored_and_rewritten(tmp_path: Path) -> None:
    cache = PlanCache(tmp_path / "c")
    cache.put("k", [1, 2])
    (tmp_path / "c" / "k.pickle").write_bytes(b"\x80\x05not a pickle")
    assert cache.get("k") is None
    cache.put("k", [3])
    assert cache.get("k") == [3]


def test_cache_can_be_switched_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SAFECITY_PLAN_CACHE", "off")
    assert default_cache() is None
    monkeypatch.delenv("SAFECITY_PLAN_CACHE")
    monkeypatch.setenv("SAFECITY_PLAN_CACHE_DIR", str(tmp_path / "x"))
    c = default_cache()
    assert c is not None and c.folder == tmp_path / "x"


def test_cached_plan_equals_the_uncached_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFECITY_PLAN_CACHE_DIR", str(tmp_path / "cache"))
    said: list[str] = []
    cfg = PlanConfig()
    plain, _ = plan_sites(area="guro", budget_krw=1.5e8, cfg=cfg)
    first, layers1 = plan_sites(area="guro", budget_krw=1.5e8, cfg=cfg, use_cache=True)
    second, layers2 = plan_sites(area="guro", budget_krw=1.5e8, cfg=cfg, use_cache=True, progress=said.append)
    assert any("read from the cache" in m for m in said)
    assert len(list((tmp_path / "cache").glob("*.pickle"))) == 1
    for p in (first, second):
        assert p.objective == pytest.approx(plain.objective, abs=1e-9)
        assert [i.ref for i in p.items] == [i.ref for i in plain.items]
        assert p.summary["existing"] == plain.summary["existing"]
    assert layers1 == layers2
    # another budget reuses the prepared area; another config does not
    plan_sites(area="guro", budget_krw=2e8, cfg=cfg, use_cache=True)
    assert len(list((tmp_path / "cache").glob("*.pickle"))) == 1
    plan_sites(area="guro", budget_krw=2e8, cfg=cfg.model_copy(update={"gap_radius_m": 60.0}), use_cache=True)
    assert len(list((tmp_path / "cache").glob("*.pickle"))) == 2


def test_least_recently_used_entries_are_removed(tmp_path: Path) -> None:
    import os

    cache = PlanCache(tmp_path, max_entries=2)
    for i, key in enumerate(("a", "b")):
        cache.put(key, i)
        os.utime(tmp_path / f"{key}.pickle", (1000 + i, 1000 + i))
    assert cache.get("a") == 0  # a is now the most recently used
    cache.put("c", 2)
    assert sorted(p.stem for p in tmp_path.glob("*.pickle")) == ["a", "c"]

"""RayTransport's checks that need no cluster: addresses, bounded connect, partition, arguments."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from safecity.errors import ConfigError
from safecity.monitor.config.model import MonitorConfig
from safecity.monitor.runtime.ray_transport import (
    RayTransport,
    check_ray_address,
    connect_ray,
    partition_cameras,
    ray_runtime,
)

CONFIG = MonitorConfig.model_validate({"cameras": [{"id": "a", "source": "a.mp4"}]})


# (cameras as (id, group), per actor, expected ids per actor)
PARTITION_CASES = [
    ([("a", None), ("b", None), ("c", None)], 2, [["a", "b"], ["c"]]),  # no groups: chunks in order
    ([("a", "x"), ("b", "y"), ("c", "x")], 8, [["a", "c"], ["b"]]),  # a group stays together
    ([("a", "x"), ("b", "x"), ("c", "x")], 1, [["a"], ["b"], ["c"]]),  # one camera per actor
    ([], 8, []),  # no cameras, no actors
]


@pytest.mark.parametrize(("cams", "per_actor", "want"), PARTITION_CASES)
def test_partition_cameras(cams: list[tuple[str, str | None]], per_actor: int, want: list[list[str]]) -> None:
    groups = partition_cameras([SimpleNamespace(id=i, group=g) for i, g in cams], per_actor)  # type: ignore[misc]
    assert [[c.id for c in g] for g in groups] == want


# (constructor arguments, words the ConfigError must contain)
BAD_ARGS = [
    ({"cameras_per_actor": 0}, "cameras_per_actor"),  # no camera would run
    ({"address": "auto", "num_cpus": 2}, "only to a local Ray"),  # CPUs of a cluster are not ours
    ({"address": "head-node"}, "HOST:PORT"),  # no port
    ({"address": "ray://head:99999"}, "HOST:PORT"),  # no such port
    ({"num_cpus": 0}, "num_cpus"),  # nothing could be scheduled
    ({"max_restarts": -2}, "max_restarts"),  # not a Ray value
    ({"actor_cpus": 1.5}, "actor_cpus"),  # Ray takes shares below one or whole CPUs
    ({"actor_cpus": -1.0}, "actor_cpus"),  # negative
    ({"unreachable_after_s": 0}, "unreachable_after_s"),  # every actor would be offline at once
    ({"prefer": {"g": "r1"}, "require": {"g": "r2"}}, "both prefer and require"),  # which one?
]


@pytest.mark.parametrize(("kwargs", "words"), BAD_ARGS)
def test_bad_arguments_are_config_errors(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        RayTransport(CONFIG, **kwargs)


def test_good_addresses_pass() -> None:
    for address in (None, "auto", "10.0.0.5:6379", "ray://head.example:10001", "[::1]:6379"):
        check_ray_address(address)


def test_ray_runtime_builds_a_hub_over_the_transport() -> None:
    hub = ray_runtime(CONFIG, address="auto", cameras_per_actor=3, loop=True)
    assert isinstance(hub.transport, RayTransport) and hub.transport.name == "ray"
    assert hub.transport.options.loop and hub.cameras() == ["a"]


def test_missing_ray_names_the_scale_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    with pytest.raises(ConfigError, match=r"pip install -e '\.\[scale\]'"):
        connect_ray(None)


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nothing listens there any more


def test_unreachable_address_is_a_clear_error_not_a_hang(closed_port: int) -> None:
    pytest.importorskip("ray")
    # ray.init itself waits for ever here; the TCP check answers at once
    with pytest.raises(ConfigError, match=rf"nothing answers at 127\.0\.0\.1:{closed_port}.*ray start"):
        connect_ray(f"127.0.0.1:{closed_port}", timeout_s=5.0)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (not a Ray GCS)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


def test_an_address_that_is_not_ray_gives_up_within_the_bound(silent_port: int) -> None:
    pytest.importorskip("ray")
    # in a child process: the abandoned ray.init thread must not keep this test process's Ray busy
    code = (
        "import sys\n"
        "from safecity.errors import ConfigError\n"
        "from safecity.monitor.runtime.ray_transport import connect_ray\n"
        "try:\n"
        f"    connect_ray('127.0.0.1:{silent_port}', timeout_s=3.0)\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "no answer within 3 s" in proc.stdout

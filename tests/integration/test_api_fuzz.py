"""A bounded schemathesis run of the whole console API: no request may get a 5xx answer.

The real app (``create_app`` on a real SQLite store in ``tmp_path``, no monitoring runtime), an
admin session (a fresh token per case, so that a fuzzed logout or password change does not end the
run), positive and negative cases of every operation in ``/openapi.json``, derandomized (a fixed
seed). The budget is ``SAFECITY_FUZZ_EXAMPLES`` cases per operation and mode (default 8: about a
minute here); ``make fuzz`` runs the same test with a larger one (docs/api.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from argon2 import PasswordHasher
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from safecity.service import build_services
from safecity.settings import Settings
from safecity.web.app import create_app

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("SAFECITY_FUZZ_EXAMPLES", "8"))
ADMIN_PW = "fuzz-admin-pass"


@pytest.fixture
def fuzz_app(tmp_path: Path) -> Iterator[Any]:
    settings = Settings(home=tmp_path, secret_key="f" * 40)
    services = build_services(settings, None)
    app = create_app(settings, services, hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    users = app.state.console.users
    users.upsert_group("west", ["cam-west"])
    users.add_user("admin", ADMIN_PW, "admin")
    users.add_user("viewer", "fuzz-viewer-pass", "viewer", ["west"])
    yield app
    services.close()


def _admin_token(app: Any) -> str:
    """A session of the enabled admin (re-enabled and re-promoted if a fuzzed request changed it)."""
    users = app.state.console.users
    user = users.get_user("admin")
    if user is None:
        user = users.add_user("admin", ADMIN_PW, "admin")
    elif user.disabled or user.role != "admin":
        user = users.update_user("admin", role="admin", disabled=False)
    token, _ = users.create_session(user, 3600, None)
    return str(token)


def test_no_server_errors(fuzz_app: Any) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    failures: list[str] = []
    n_cases = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25, [op.label for op in operations]
    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=op.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                derandomize=True,  # a fixed seed: the same cases on every run
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],  # report the case as found, no shrinking
                suppress_health_check=list(HealthCheck),
            )
            def one(case: Any) -> None:
                nonlocal n_cases
                n_cases += 1
                try:
                    response = case.call(headers={"Authorization": f"Bearer {_admin_token(fuzz_app)}"})
                except Exception as exc:  # an unhandled exception: a 500 behind a real server
                    where = f"{case.method} {case.formatted_path}"
                    failures.append(f"{where} -> {exc!r}\n  reproduce: {case.as_curl_command()}")
                    return
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} -> {response.status_code}: "
                        f"{response.text[:300]}\n  reproduce: {case.as_curl_command()}"
                    )

            try:
                one()
            except Unsatisfiable:  # nothing to make invalid (an operation without parameters or body)
                assert mode is GenerationMode.NEGATIVE, op.label
    print(f"{n_cases} cases on {len(operations)} operations")
    assert not failures, f"{len(failures)} of {n_cases} cases got a 5xx:\n" + "\n".join(failures[:20])

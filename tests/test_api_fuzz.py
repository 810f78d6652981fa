"""API fuzzing: Schemathesis over `/openapi.json`, all default checks, zero failures."""

from __future__ import annotations

import hypothesis
import schemathesis
from hypothesis import HealthCheck

from m3crm.app import create_app
from tests.conftest import World
from tests.live import serve


def test_openapi_operations_pass_schemathesis_checks(world: World) -> None:
    app = create_app(world.settings)
    with serve(app) as base_url:
        schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
        headers = world.headers(world.a)
        failures: list[str] = []
        for result in schema.get_all_operations():
            operation = result.ok()

            @hypothesis.settings(
                max_examples=25,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @hypothesis.given(case=operation.as_strategy())
            def check(case: schemathesis.Case) -> None:
                case.call_and_validate(base_url=base_url, headers=headers)

            try:
                check()
            except Exception as exc:
                failures.append(f"{operation.label}: {exc}")
        assert not failures, "\n\n".join(failures)

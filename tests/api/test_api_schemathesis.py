"""Schemathesis against /openapi.json over real HTTP: no generated input, valid or
not, gets a 5xx or a traceback. Bounded: a few examples per operation and mode."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.api.server import Server

EXAMPLES = 3


@pytest.mark.slow
def test_no_generated_input_gets_a_server_error(server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    d = server.world.data
    failures: list[str] = []
    for username in (d.head_of_sales,):
        headers = {"Authorization": f"Bearer {server.token(username)}"}
        for result in schema.get_all_operations():
            op = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    derandomize=True,
                    database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                @given(op.as_strategy(generation_mode=mode))
                def run(case: schemathesis.Case) -> None:
                    r = case.call(base_url=server.base_url, headers=headers)
                    if r.status_code >= 500 or "Traceback" in r.text:
                        failures.append(
                            f"{case.method} {case.path} -> {r.status_code}: {r.text[:200]}"
                        )

                try:
                    run()
                except Unsatisfiable:  # no invalid input exists for this operation's schema
                    continue
    assert not failures, "\n".join(failures[:10])

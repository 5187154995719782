"""The API answers as its OpenAPI document says, checked by Schemathesis with every check on.

Each operation of the app's own document gets generated requests, valid and invalid, from an
anonymous visitor, a bidder and a staff member; every response goes through all of Schemathesis'
checks (no server error; status code, content type, headers and body as documented; auth not
ignored; valid data accepted, invalid data rejected).  Bounded by ``MAX_EXAMPLES`` per operation
and mode, so the three runs stay within a few minutes.

Schemathesis' own pytest decorators need pytest internals that pytest 9 removed, so the test
walks the operations itself and runs each one's Hypothesis strategy.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from litestar import Litestar
from schemathesis.specs.openapi.checks import positive_data_acceptance

MAX_EXAMPLES = 4
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            # Schema-valid data the domain refuses (a USCC with a wrong check character, a proof
            # beyond the tree) is 422 by design, documented on every operation with inputs.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]
            },
            # Catches work done before any check (a bond amount of 1E+400000 took 21 s).
            "max_response_time": 10.0,
        },
        "operations": [
            {
                # The body is a signed note and proof (C2SP tlog-witness), which no JSON schema
                # describes: any other text is malformed, 400 as the spec prescribes.
                "include-path": "/api/v1/witness/add-checkpoint",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "422", "429"]
                    }
                },
            }
        ],
    }
)
ACTORS = ("anonymous", "bidder", "staff")


def _beyond_schema(response: Any) -> bool:
    """A 400 for bounds the edge holds every request to that JSON Schema has no words for (the
    date horizon, 64-bit numbers and nesting depth in free-form JSON, no control characters or
    lone surrogates in text; README "Bounds on input"): each error names its ``input.*`` code."""
    if response.status_code != 400:
        return False
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return False
    return bool(errors) and all(str(e.get("code", "")).startswith("input.") for e in errors)


@schemathesis.check
def valid_data_accepted_within_bounds(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """Schemathesis' positive_data_acceptance, except for the edge's own bounds (above)."""
    if _beyond_schema(response):
        return None
    return positive_data_acceptance(ctx, response, case)  # type: ignore[no-any-return]


BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # report the first failure as found, unshrunk
    suppress_health_check=list(HealthCheck),
)


def _failures(operation: Any, mode: schemathesis.GenerationMode, headers: dict[str, str]) -> str | None:
    @BOUNDED
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(
            headers=headers,
            excluded_checks=[positive_data_acceptance],
            additional_checks=[valid_data_accepted_within_bounds],
        )

    try:
        run()
    except Unsatisfiable:  # no invalid request exists for an operation without inputs
        assert mode is schemathesis.GenerationMode.NEGATIVE
    except (Exception, BaseExceptionGroup) as exc:
        return f"{operation.label} ({mode.value}): {str(exc)[:1500]}"
    return None


@pytest.mark.slow
@pytest.mark.parametrize("actor", ACTORS)
def test_api_conforms_to_its_document(app: Litestar, world: Any, actor: str) -> None:
    schema = schemathesis.openapi.from_asgi("/api/docs/openapi.json", app, config=CONFIG)
    headers = {} if actor == "anonymous" else world.auth(actor)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in schemathesis.GenerationMode:
            failure = _failures(operation, mode, headers)
            if failure:
                failures.append(failure)
    assert not failures, f"{len(failures)} operations fail:\n\n" + "\n\n".join(failures)

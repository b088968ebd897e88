"""The OpenAPI 3.1 document at /api/v1/openapi.json describes the API as it answers: made from
the classes the handlers validate with, and checked by schemathesis sending generated calls to
the running app with a real token (no 5xx, every answer as the document says)."""

from __future__ import annotations

import asyncio

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from openapi_pydantic import OpenAPI
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from models.contacts import clients as client_ops
from models.sales import leads as lead_ops
from tests.web.api_support import token_of
from web.api import ROUTES
from web.api.core import API_RATE
from web.api.schemas import ClientIn

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
EXAMPLES = 12  # per operation: a short run (the whole test stays well under a minute)


async def test_the_document_is_openapi_31_made_from_the_handlers_classes(world_server, http):
    async with http.get(f"{world_server.url}/api/v1/openapi.json") as resp:
        assert resp.status == 200  # public: a program reads it before it has a token
        document = await resp.json()
    assert document["openapi"] == "3.1.0"
    OpenAPI.model_validate(document)
    operations = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    assert operations == {(r.method, "/api/v1" + r.path) for r in ROUTES}
    assert document["components"]["schemas"]["ClientIn"]["properties"].keys() == (
        ClientIn.model_json_schema()["properties"].keys()
    )
    post = document["paths"]["/api/v1/clients"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ClientIn"
    }
    assert "application/problem+json" in post["responses"]["422"]["content"]


def _fuzz(url: str, token: str) -> list[str]:
    """Every operation, EXAMPLES generated calls each; the failures found, as text."""
    document = requests.get(f"{url}/api/v1/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}

    for result in schema.get_all_operations():
        operation = result.ok()

        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(base_url=url, session=session, headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            check()
        except Exception as err:  # noqa: BLE001 - each operation's failure is reported
            failures.append(f"{operation.label}: {err}")
    return failures


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    world, world_server, clock
):
    luis_client = await client_ops.create_client(
        world.luis, client_ops.ClientInput(name="Bodega", phones=["+34 600 000 001"]), clock=clock
    )
    await lead_ops.create_lead(world.luis, lead_ops.LeadInput(name="Eva"), clock=clock)
    assert luis_client.id
    world_server.app[API_RATE].set_rate("100000/minute")
    for user in (world.ana, world.luis):
        token = await token_of(user, clock)
        failures = await asyncio.to_thread(_fuzz, world_server.url, token)
        assert not failures, "\n\n".join(failures)

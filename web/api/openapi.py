"""The OpenAPI 3.1 document of /api/v1, generated from the routes' pydantic classes.

Built with `openapi-pydantic` (the OpenAPI 3.1 objects as pydantic models, maintained, and
its `construct_open_api_with_schema_class` puts each class's `model_json_schema()` under
components/schemas): the same classes the handlers validate with, so the document cannot
drift from what the API accepts. Query parameters are the fields of each route's query class.
"""

from __future__ import annotations

from typing import Any

from openapi_pydantic import OpenAPI
from openapi_pydantic.util import PydanticSchema, construct_open_api_with_schema_class
from pydantic import BaseModel

from web.api.core import Route
from web.api.schemas import Problem

PROBLEM = "application/problem+json"


def _content(model: type[BaseModel], media: str = "application/json") -> dict[str, Any]:
    return {media: {"schema": PydanticSchema(schema_class=model)}}


def _parameters(route: Route) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    if "{id}" in route.path:
        params.append(
            {
                "name": "id",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
            }
        )
    if route.query is not None:
        schema = route.query.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            prop = {k: v for k, v in prop.items() if k != "title"}
            # A query string has no null: an optional parameter is simply left out.
            options = [o for o in prop.pop("anyOf", []) if o.get("type") != "null"]
            if options:
                prop.update(options[0])
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "description": prop.pop("description", None),
                    "schema": prop,
                }
            )
    return params


def _operation(route: Route) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    ok: dict[str, Any] = {"description": route.summary}
    if route.answer is not None:
        ok["content"] = _content(route.answer)
    responses[str(route.status)] = ok
    errors = {
        "401": "No token, or an invalid or revoked one",
        "429": "Too many calls: see Retry-After",
    }
    if route.query is not None or route.body is not None:
        errors["422"] = "A parameter or a field is wrong: `field` names it"
    # The user's group may refuse any operation (another user's tasks, say), as in the panel.
    errors["403"] = "The token may only read, or the user's group may not do this"
    if "{id}" in route.path or route.body is not None:
        errors["404"] = "No such record (or one linked), or one this user may not see"
    if route.write:
        errors["409"] = "Conflict with the data (a phone already taken, say)"
    if route.body is not None:
        errors["400"] = "The body is not JSON"
        errors["415"] = "The body is not application/json"
    for code, text in errors.items():
        responses[code] = {"description": text, "content": _content(Problem, PROBLEM)}
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": route.handler.__name__,
        "tags": [route.path.split("/")[1]],
        "parameters": _parameters(route),
        "responses": responses,
    }
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": _content(route.body)}
    return operation


def build_document(routes: list[Route], *, version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault("/api/v1" + route.path, {})[route.method.lower()] = _operation(route)
    document = OpenAPI.model_validate(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "Centralita CRM API",
                "version": version,
                "description": (
                    "A token acts as its user, with the same permissions as in the panel. "
                    "Create one in your profile or with `centralita api-token create`."
                ),
            },
            "paths": paths,
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        }
    )
    document = construct_open_api_with_schema_class(document)
    return document.model_dump(mode="json", by_alias=True, exclude_none=True)

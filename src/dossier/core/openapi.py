"""The OpenAPI document declares the problem schema for every error an operation can give."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

from dossier.core.errors import PROBLEM_CONTENT_TYPE, status_title
from dossier.core.schemas import drop_null_branch


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(description="Where the problem is: `body`, `query`, … then field.")
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="URI identifying the problem type.")
    title: str
    status: int
    detail: str
    instance: str = Field(description="The request path the problem occurred on.")
    code: str = Field(description="Stable, machine-readable error code.")
    request_id: str | None = Field(description="The `X-Request-ID` of the request.")
    errors: list[ValidationIssue] | None = Field(
        default=None, description="Present on 422: one entry per invalid input."
    )


def _problem_ref() -> dict[str, Any]:
    return {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status documented with the problem schema."""
    return {
        status: {"model": Problem, "description": status_title(status), "content": _problem_ref()}
        for status in statuses
    }


_BODY_METHODS = {"post", "put", "patch"}


def install_openapi(app: FastAPI) -> None:
    """Replace FastAPI's ``HTTPValidationError`` with the problem schema everywhere."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
            servers=app.servers,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        problem_schemas = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in problem_schemas.pop("$defs", {}).items():
            components[name] = definition
        components["Problem"] = problem_schemas

        for path, path_item in schema.get("paths", {}).items():
            for method, operation in path_item.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                has_input = bool(operation.get("parameters")) or "requestBody" in operation
                if has_input or "422" in responses:
                    responses["422"] = {
                        "description": "Validation failed",
                        "content": _problem_ref(),
                    }
                if method in _BODY_METHODS and "requestBody" in operation:
                    for status in ("400", "413"):
                        responses.setdefault(
                            status,
                            {"description": status_title(int(status)), "content": _problem_ref()},
                        )
                if path.startswith("/api/"):
                    # Every API operation is rate limited (middleware/rate_limit.py).
                    responses.setdefault(
                        "429",
                        {
                            "description": "Too Many Requests (see `Retry-After`)",
                            "content": _problem_ref(),
                            "headers": {
                                "Retry-After": {
                                    "description": "Seconds to wait before retrying.",
                                    "schema": {"type": "integer"},
                                }
                            },
                        },
                    )
                responses.setdefault(
                    "500", {"description": "Internal Server Error", "content": _problem_ref()}
                )
        _forms_send_no_null(schema)
        _add_links(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _forms_send_no_null(schema: dict[str, Any]) -> None:
    """An optional form field is left out, never sent as null: a form has no null (``null``
    arrives as the four-letter string). Pydantic describes ``str | None`` fields as
    ``anyOf: [..., {"type": "null"}]``; for form bodies the null branch goes, so generated
    clients and fuzzers send the field's own type or nothing."""
    components = schema.get("components", {}).get("schemas", {})
    operations = [
        operation
        for path_item in schema.get("paths", {}).values()
        for operation in path_item.values()
        if isinstance(operation, dict)
    ]
    for operation in operations:
        content = operation.get("requestBody", {}).get("content", {})
        for media_type in _FORM_TYPES:
            reference = content.get(media_type, {}).get("schema", {}).get("$ref", "")
            body = components.get(reference.rsplit("/", 1)[-1], {}) if reference else {}
            for field in body.get("properties", {}).values():
                drop_null_branch(field)


def _add_links(schema: dict[str, Any]) -> None:
    """OpenAPI links from a creating POST to the item operations of what it created.

    ``POST /things`` answering ``{"id": …}`` links to ``GET|PUT|PATCH|DELETE /things/{id}``
    (and deeper item routes such as ``/things/{id}/complete``), so clients and the stateful
    contract tests can follow a created resource.
    """
    paths: dict[str, Any] = schema.get("paths", {})
    for collection, item in paths.items():
        create = item.get("post")
        if not isinstance(create, dict):
            continue
        for path, path_item in paths.items():
            prefix = collection.rstrip("/") + "/{"
            if not path.startswith(prefix):
                continue
            parameter = path[len(prefix) :].split("}", 1)[0]
            if path[len(prefix) :].split("}", 1)[1].count("{"):
                continue  # deeper parameters cannot be filled from the created object alone
            for method, operation in path_item.items():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                for status, response in create.get("responses", {}).items():
                    if status not in ("200", "201", "202"):
                        continue
                    links = response.setdefault("links", {})
                    links[f"{method.upper()} {path}"] = {
                        "operationId": operation["operationId"],
                        "parameters": {parameter: "$response.body#/id"},
                    }

"""Every route of every service documents what it answers: the JSON of each 2xx answer is
a typed schema (a model, or a list of models), never an untyped `{}` or a bare object, so
that a route added later returning a plain `dict` cannot go unnoticed."""

from typing import Any

import pytest

from shared.migrations import SERVICES
from tests.unit.test_routes_need_sign_in import OPEN, app_of


def untyped(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    """Whether the schema says nothing of the answer's fields: `{}`, a bare object, an
    object of anything, or a list of such."""
    if "$ref" in schema:
        named = components[schema["$ref"].rsplit("/", 1)[1]]
        return not (named.get("properties") or named.get("enum"))
    if schema.get("type") == "array":
        return untyped(schema.get("items", {}), components)
    return not schema.get("properties")


@pytest.mark.parametrize("service", SERVICES)
def test_every_json_answer_has_a_typed_schema(service: str) -> None:
    document = app_of(service).openapi()
    components = document.get("components", {}).get("schemas", {})
    checked, untyped_answers = [], []
    for path, operations in document["paths"].items():
        # The infrastructure's routes (health, metrics, documentation) are shared's.
        if path in OPEN:
            continue
        for method, operation in operations.items():
            for status, answer in operation.get("responses", {}).items():
                json = answer.get("content", {}).get("application/json")
                if not status.startswith("2") or json is None:
                    continue
                checked.append(f"{method.upper()} {path} {status}")
                if untyped(json.get("schema", {}), components):
                    untyped_answers.append(checked[-1])

    assert not untyped_answers, f"{service}: answers without a model: {untyped_answers}"
    assert len(checked) >= 7, checked


def test_an_untyped_answer_is_noticed() -> None:
    components = {"Named": {"properties": {"id": {"type": "string"}}}, "Empty": {}}
    assert untyped({}, components)
    assert untyped({"type": "object", "additionalProperties": True}, components)
    assert untyped({"type": "array", "items": {"type": "object"}}, components)
    assert untyped({"$ref": "#/components/schemas/Empty"}, components)
    assert not untyped({"$ref": "#/components/schemas/Named"}, components)
    assert not untyped(
        {"type": "array", "items": {"$ref": "#/components/schemas/Named"}}, components
    )

"""`python -m shared.contract_docs`: write the published contract into `docs/contract/`
for other agencies: the JSON Schema of every event type's data (from `shared.contract`),
of the envelope's attributes (`shared.envelope.Envelope`: the ce_ headers, with the
optional attributes naming the author of a change), and each service's AsyncAPI document
(from its faststream router: what it publishes and what it subscribes to). A test fails
when the files differ from what the code would write, so the published contract cannot
drift."""

import importlib
import json
import sys
from pathlib import Path

from shared.contract import CONTRACT
from shared.envelope import Envelope
from shared.migrations import SERVICES

FOLDER = Path(__file__).resolve().parent.parent / "docs" / "contract"


def schemas() -> dict[str, str]:
    """file name → its content, for every event type."""
    written = {}
    for event_type, model in sorted(CONTRACT.items()):
        schema = model.model_json_schema(by_alias=True)
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://ketnghia.example/contract/{event_type}.schema.json",
            "title": event_type,
            "description": (
                f"The `data` of a CloudEvent of type `{event_type}` (Kafka binary mode: "
                "attributes in ce_ headers, this object as the JSON value). "
                + (model.__doc__ or "").strip()
            ).strip(),
            **{key: value for key, value in schema.items() if key not in ("title", "description")},
        }
        written[f"{event_type}.schema.json"] = (
            json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        )
    return written


def envelope() -> dict[str, str]:
    """The attributes every event carries as `ce_` headers (Kafka binary mode)."""
    schema = Envelope.model_json_schema()
    schema["properties"].pop("data")
    schema["required"] = [name for name in schema["required"] if name != "data"]
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ketnghia.example/contract/envelope.schema.json",
        "title": "CloudEvents attributes of every event (ce_ headers)",
        "description": (
            "Each attribute is a Kafka header `ce_<name>`, UTF-8 text; the event's data is the "
            "message value (see the <type>.schema.json files). `actor`, `actorname`, "
            "`actorrole` and `actorunit` name who made the change (OIDC subject, name, role, "
            "space-separated sponsor-unit ids); they are optional: events recorded before "
            "sign-in, and the platform's own loaders (the administrative units' lineage), "
            "carry none."
        ),
        **{key: value for key, value in schema.items() if key not in ("title", "description")},
    }
    return {"envelope.schema.json": json.dumps(schema, indent=2, ensure_ascii=False) + "\n"}


def asyncapi() -> dict[str, str]:
    """file name → the AsyncAPI document of each service's app, with placeholder settings
    (building the app connects to nothing)."""
    written = {}
    for service in SERVICES:
        settings_class = importlib.import_module(f"services.{service}.config").Settings
        settings = settings_class(
            database_url="postgresql+asyncpg://ketnghia@postgres:5432/ketnghia",
            kafka_bootstrap_servers="kafka:9092",
            kafka_sasl_username=service,
            kafka_sasl_password="not-a-secret",  # the document declares the scheme only
        )
        app = importlib.import_module(f"services.{service}.entrypoints.http").create_app(settings)
        document = app.state.asyncapi.to_specification().to_jsonable()
        content = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        written[f"asyncapi.{service}.json"] = content
    return written


def generated() -> dict[str, str]:
    return schemas() | envelope() | asyncapi()


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    wanted = generated()
    for stale in {p.name for p in FOLDER.glob("*.json")} - set(wanted):
        (FOLDER / stale).unlink()
    for name, content in wanted.items():
        (FOLDER / name).write_text(content, encoding="utf-8")
    print(f"{len(wanted)} documents in {FOLDER}", file=sys.stderr)


if __name__ == "__main__":
    main()

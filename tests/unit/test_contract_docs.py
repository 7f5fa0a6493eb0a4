"""The documents in docs/contract (JSON Schemas, AsyncAPI) are what the code says."""

import json

from services.registry.config import Settings
from services.registry.entrypoints.http import create_app
from shared.contract_docs import FOLDER, generated


def test_the_published_contract_is_up_to_date() -> None:
    wanted = generated()
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in FOLDER.glob("*.json")}
    assert set(on_disk) == set(wanted), "run: .venv/bin/python -m shared.contract_docs"
    stale = [name for name, content in wanted.items() if on_disk[name] != content]
    assert not stale, f"out of date: {stale}; run: .venv/bin/python -m shared.contract_docs"


def test_each_schema_names_its_type_and_requires_its_fields() -> None:
    recorded = json.loads((FOLDER / "vn.ketnghia.activity.recorded.v1.schema.json").read_text())
    assert recorded["title"] == "vn.ketnghia.activity.recorded.v1"
    assert {"activity_id", "commune", "value_vnd", "contributions"} <= set(recorded["required"])


def test_the_asyncapi_documents_name_what_each_service_publishes_and_reads() -> None:
    registry = json.loads((FOLDER / "asyncapi.registry.json").read_text())
    reporting = json.loads((FOLDER / "asyncapi.reporting.json").read_text())
    assert "ketnghia.registry:Publish" in registry["channels"]
    topics = {c["address"] for c in reporting["channels"].values()}
    assert {"ketnghia.registry", "ketnghia.activities"} <= topics


def test_the_envelope_schema_documents_the_author_as_optional_attributes() -> None:
    attributes = json.loads((FOLDER / "envelope.schema.json").read_text())
    authors = {"actor", "actorname", "actorrole", "actorunit"}
    assert authors <= set(attributes["properties"])
    assert not authors & set(attributes["required"])
    assert {"id", "type", "province", "correlationid"} <= set(attributes["required"])
    assert "data" not in attributes["properties"]


def test_the_asyncapi_document_declares_scram_and_carries_no_secret() -> None:
    """What `/asyncapi.json` serves: the server's security scheme, never its password."""
    password = "s3cret-of-the-registry"
    settings = Settings(
        database_url="postgresql+asyncpg://ketnghia@postgres:5432/ketnghia",
        kafka_bootstrap_servers="kafka:9092",
        kafka_sasl_username="registry",
        kafka_sasl_password=password,
    )
    app = create_app(settings)
    document = app.state.asyncapi.to_specification().to_jsonable()
    text = json.dumps(document)

    assert password not in text
    [server] = document["servers"].values()
    [requirement] = server["security"]
    scheme = requirement["$ref"].rsplit("/", 1)[-1]
    assert document["components"]["securitySchemes"][scheme] == {"type": "scramSha512"}
    assert password not in repr(settings)

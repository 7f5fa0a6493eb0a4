"""The JSON Schemas in docs/contract are what the code's contract says, and they accept
the events the domains decide."""

import json

from shared.contract_docs import FOLDER, schemas


def test_the_published_schemas_are_up_to_date() -> None:
    wanted = schemas()
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in FOLDER.glob("*.schema.json")}
    assert set(on_disk) == set(wanted), "run: .venv/bin/python -m shared.contract_docs"
    stale = [name for name, content in wanted.items() if on_disk[name] != content]
    assert not stale, f"out of date: {stale}; run: .venv/bin/python -m shared.contract_docs"


def test_each_schema_names_its_type_and_requires_its_fields() -> None:
    recorded = json.loads((FOLDER / "vn.ketnghia.activity.recorded.v1.schema.json").read_text())
    assert recorded["title"] == "vn.ketnghia.activity.recorded.v1"
    assert {"activity_id", "commune", "value_vnd", "contributions"} <= set(recorded["required"])

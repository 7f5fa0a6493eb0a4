"""`python -m shared.contract_docs`: write the JSON Schema of every event type's data from
`shared.contract` into `docs/contract/`, for other agencies. A test fails when the files
differ from what the code would write, so the published contract cannot drift."""

import json
import sys
from pathlib import Path

from shared.contract import CONTRACT

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


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    wanted = schemas()
    for stale in set(p.name for p in FOLDER.glob("*.schema.json")) - set(wanted):
        (FOLDER / stale).unlink()
    for name, content in wanted.items():
        (FOLDER / name).write_text(content, encoding="utf-8")
    print(f"{len(wanted)} JSON Schemas in {FOLDER}", file=sys.stderr)


if __name__ == "__main__":
    main()

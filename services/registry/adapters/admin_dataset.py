"""The administrative units of both editions and their lineage, from the data files of the
MIT-licensed `vietnamadminunits` package (no geocoding, nothing fetched online).

Its conversion table names units by normalised name keys; this adapter joins those keys
back to the official codes of each edition, so everything downstream works by code.
"""

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from services.registry.domain.admin_units import AdminUnit, Edition, Level, Share, Succession

PACKAGE = "vietnamadminunits"


@dataclass(frozen=True)
class AdminDataset:
    version: str
    units: list[AdminUnit]
    successions: list[Succession]


def load_dataset() -> AdminDataset:
    data = resources.files(PACKAGE) / "data"
    with resources.as_file(data / "dataset.db") as database:
        legacy, current = _read_units(Path(database))
    conversion = json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))
    units = list(_legacy_units(legacy)) + list(_current_units(current))
    return AdminDataset(
        version=f"{PACKAGE}-{metadata.version(PACKAGE)}",
        units=units,
        successions=list(_successions(conversion, legacy, current)),
    )


def _read_units(database: Path) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    try:
        legacy = connection.execute("SELECT * FROM admin_units_legacy").fetchall()
        current = connection.execute("SELECT * FROM admin_units").fetchall()
    finally:
        connection.close()
    return legacy, current


def _legacy_units(rows: list[sqlite3.Row]) -> Iterator[AdminUnit]:
    seen: set[tuple[Level, str]] = set()
    edition = Edition.PRE_2025
    for row in rows:
        province = row["provinceCode"]
        for level, code, name, short, parent in (
            (Level.PROVINCE, province, row["province"], row["provinceShort"], None),
            (Level.DISTRICT, row["districtCode"], row["district"], row["districtShort"], province),
            (Level.COMMUNE, row["wardCode"], row["ward"], row["wardShort"], row["districtCode"]),
        ):
            # Five island districts have no communes: their rows carry no commune code.
            if code and (level, code) not in seen:
                seen.add((level, code))
                yield AdminUnit(edition, level, code, name, short, province, parent)


def _current_units(rows: list[sqlite3.Row]) -> Iterator[AdminUnit]:
    provinces: set[str] = set()
    edition = Edition.FROM_2025
    for row in rows:
        province = row["provinceCode"]
        if province not in provinces:
            provinces.add(province)
            yield AdminUnit(
                edition,
                Level.PROVINCE,
                province,
                row["province"],
                row["provinceShort"],
                province,
                None,
            )
        yield AdminUnit(
            edition,
            Level.COMMUNE,
            row["wardCode"],
            row["ward"],
            row["wardShort"],
            province,
            province,
        )


def _successions(
    conversion: dict[str, dict[str, object]],
    legacy: list[sqlite3.Row],
    current: list[sqlite3.Row],
) -> Iterator[Succession]:
    old_code = {
        f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}": r["wardCode"]
        for r in legacy
        if r["wardCode"]
    }
    new_code = {(r["provinceKey"], r["wardKey"]): r["wardCode"] for r in current}
    merged: dict[str, dict[str, list[str]]] = conversion["DICT_PROVINCE_WARD_NO_DIVIDED"]  # type: ignore[assignment]
    for province, wards in merged.items():
        for new_ward, old_keys in wards.items():
            for old_key in old_keys:
                if old_key in old_code:
                    yield Succession(
                        old_code[old_key], new_code[(province, new_ward)], Share.WHOLE, True
                    )
    divided: dict[str, dict[str, list[dict[str, object]]]] = conversion[
        "DICT_PROVINCE_WARD_DIVIDED"
    ]  # type: ignore[assignment]
    for province, old_wards in divided.items():
        for old_key, parts in old_wards.items():
            for part in parts:
                yield Succession(
                    old_code[old_key],
                    new_code[(province, str(part["newWardKey"]))],
                    Share.PART,
                    bool(part["isDefaultNewWard"]),
                )

"""Which provinces before 1 July 2025 went into each province of the 2025 edition.

Access is granted by province code, and a province the reform merged keeps its history
under the old code (Bình Thuận's activities stay in province 60). A coordinator of the
2025 Lâm Đồng (68) therefore reads and manages what Lâm Đồng, Bình Thuận and Đắk Nông
recorded before the merger. The table comes from the province conversion of the
MIT-licensed `vietnamadminunits` data files, the same data the registry's lineage is
loaded from; nothing is looked up online.
"""

import functools
import json
import sqlite3
from importlib import resources

PACKAGE = "vietnamadminunits"


@functools.cache
def predecessors() -> dict[str, frozenset[str]]:
    """2025 province code → the codes of the provinces merged into it (itself included
    when it kept its code)."""
    data = resources.files(PACKAGE) / "data"
    with resources.as_file(data / "dataset.db") as database:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            old = dict(
                connection.execute(
                    "SELECT DISTINCT provinceKey, provinceCode FROM admin_units_legacy"
                )
            )
            new = dict(
                connection.execute("SELECT DISTINCT provinceKey, provinceCode FROM admin_units")
            )
        finally:
            connection.close()
    merged: dict[str, list[str]] = json.loads(
        (data / "converter_2025.json").read_text(encoding="utf-8")
    )["DICT_PROVINCE"]
    return {
        new[new_key]: frozenset(old[old_key] for old_key in old_keys)
        for new_key, old_keys in merged.items()
    }


def reach(codes: frozenset[str]) -> frozenset[str]:
    """`codes` with the provinces each 2025 province among them came from."""
    table = predecessors()
    return codes.union(*(table.get(code, frozenset()) for code in codes))


def codes() -> frozenset[str]:
    """Every province code of both editions (the 34 of 2025 reuse codes of the 63 before)."""
    table = predecessors()
    return frozenset(table).union(*table.values())

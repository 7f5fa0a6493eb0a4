"""The editions and the code patterns are spelled once (`shared/editions.py`,
`shared/bounds.py`); every other module imports them, so that a change is made in one
place and no copy drifts. Prose may name an edition ("the pre-2025 commune"), and so may
docstrings and `examples=`; a string that compares, builds or validates may not."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest

from shared import bounds
from shared.editions import EDITION_PATTERN, EDITIONS, FROM_2025, PRE_2025, Edition

ROOT = Path(__file__).parents[2]
DEFINED_IN = {"shared/editions.py", "shared/bounds.py"}
SEGMENT = re.compile(r"(^|(?<!\d)[/:])(pre-2025|2025)([/:?]|$)")  # a path's or a key's part


def copied(text: str) -> str | None:
    """Why `text`, a string in code, repeats the vocabulary; None when it does not."""
    if text in EDITIONS:
        return "an edition"
    if not re.search(r"\s", text) and SEGMENT.search(text):
        return "an edition in a path or key"
    if "pre-2025|" in text or "|2025)" in text:
        return "the editions' pattern"
    if "{2,5}" in text or text in (r"^\d{2}$", r"^[0-9]{2}$"):
        return "a code pattern"
    return None


def strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """The string constants of code, with their lines: not docstrings, not a keyword's
    `examples=` (an f-string's constant parts are among them)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skipped.add(id(body[0].value))  # a docstring
        if isinstance(node, ast.keyword) and node.arg == "examples":
            skipped.update(id(inner) for inner in ast.walk(node.value))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in skipped:
            continue
        if isinstance(node.value, str):
            yield node.lineno, node.value


def offences(source: str) -> list[str]:
    return [
        f"line {line}: {text!r} ({why})"
        for line, text in strings(ast.parse(source))
        if (why := copied(text))
    ]


def modules() -> list[Path]:
    return sorted(
        path
        for folder in ("services", "shared")
        for path in (ROOT / folder).rglob("*.py")
        if str(path.relative_to(ROOT)) not in DEFINED_IN
    )


def test_the_check_sees_comparisons_paths_keys_and_patterns() -> None:
    """The check itself: what code writes is found, prose and examples are not."""
    source = (
        '"""The pre-2025 communes: `commune:pre-2025:23116`."""\n'
        'if edition == "pre-2025": pass\n'
        'path = f"/admin-units/2025/commune/{code}"\n'
        'key = f"commune:pre-2025:{code}"\n'
        'Edition = Annotated[str, Path(pattern=r"^(pre-2025|2025)$")]\n'
        'Code = Annotated[str, Field(pattern=r"^[0-9]{2,5}$")]\n'
        'Province = Annotated[str, Query(pattern=r"^\\d{2}$")]\n'
        'edition: str = Field(examples=["pre-2025", "2025"], description="the (pre-2025) one")\n'
        'label = "trước 01/7/2025"\n'
        'text = f"Quý 1/2025: tặng quà, the pre-2025 commune {code}"\n'
        'moment = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}"\n'
    )
    assert [line.split(":")[0] for line in offences(source)] == [
        "line 2",
        "line 3",
        "line 4",
        "line 5",
        "line 6",
        "line 7",
    ]


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_module_spells_an_edition_or_a_code_pattern(path: Path) -> None:
    found = offences(path.read_text(encoding="utf-8"))
    assert not found, (
        f"{path.relative_to(ROOT)} spells the vocabulary (import it from shared.editions or "
        f"shared.bounds): {found}"
    )


def test_the_templates_use_the_editions_they_are_given() -> None:
    """The web's templates get `PRE_2025` and `FROM_2025` as globals."""
    templates = ROOT / "services/web/entrypoints/templates"
    found = {
        f"{path.name}:{number}"
        for path in sorted(templates.glob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"""['"](pre-2025|2025)['"]|/(pre-2025|2025)/""", line)
    }
    assert not found, f"an edition spelled in a template: {sorted(found)}"


def test_the_names_agree_with_the_contract_type() -> None:
    assert EDITIONS == (PRE_2025, FROM_2025) == get_args(Edition)
    assert re.fullmatch(EDITION_PATTERN, PRE_2025)
    assert re.fullmatch(EDITION_PATTERN, FROM_2025)
    assert not re.fullmatch(EDITION_PATTERN, "pre-2025x")
    assert re.fullmatch(bounds.COMMUNE_CODE_PATTERN, "23074")
    assert re.fullmatch(bounds.PROVINCE_CODE_PATTERN, "60")

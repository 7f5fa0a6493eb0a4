"""No service imports another: each talks to the others through Kafka and their HTTP APIs
only, so each can change, deploy and scale alone. What several of them need is in
`shared/` (the published demo cases: `shared/demo_cases.py`). `services/cli.py`, the
operators' tool that drives them all, lies outside every service's package and may import
any of them."""

import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).parents[2] / "services"


def service_names() -> list[str]:
    return sorted(path.parent.name for path in SERVICES.glob("*/__init__.py"))


def imported_modules(source: str, module: str) -> set[str]:
    """Every module `source` (the module named `module`) imports, absolute; for
    `from package import name`, also `package.name`, which may be a module."""
    found: set[str] = set()
    package = module.split(".")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level] if node.level else []
            origin = ".".join([*base, *([node.module] if node.module else [])])
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


def foreign_imports(service: str, source: str, module: str) -> set[str]:
    """The modules of other services that `source`, a module of `service`, imports."""
    return {
        name
        for name in imported_modules(source, module)
        if name.startswith("services.")
        and name.split(".")[1] in service_names()
        and name.split(".")[1] != service
    }


def test_the_check_sees_absolute_relative_and_package_imports() -> None:
    """The check itself: it would miss nothing a service could write to reach another."""
    source = (
        "import services.reporting.config\n"
        "from services.activities.demo import load_demo\n"
        "from services import web\n"
        "from ...activities import config\n"  # from services.registry.entrypoints.http
        "from ..domain import rules\n"  # its own service: allowed
        "from shared.demo_cases import CASES\n"
    )
    found = foreign_imports("registry", source, "services.registry.entrypoints.http")
    assert found == {
        "services.reporting.config",
        "services.activities.demo",
        "services.activities.demo.load_demo",
        "services.web",
        "services.activities",
        "services.activities.config",
    }


def test_the_services_are_found() -> None:
    assert service_names() == ["activities", "registry", "reporting", "web"]


@pytest.mark.parametrize("service", service_names())
def test_no_service_imports_another(service: str) -> None:
    offending = {}
    for path in sorted((SERVICES / service).rglob("*.py")):
        module = ".".join(path.relative_to(SERVICES.parent).with_suffix("").parts)
        if found := foreign_imports(service, path.read_text(), module):
            offending[str(path.relative_to(SERVICES.parent))] = sorted(found)
    assert not offending, f"a service imports another (put it in shared/): {offending}"

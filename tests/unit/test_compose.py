"""docker-compose.yml cannot run here (no Docker engine): check it against the code."""

import importlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.devstack.stack import SERVICE_PORTS
from shared.migrations import service_settings
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS_VARIABLES = {name.upper() for name in ServiceSettings.model_fields}


def test_compose_runs_kafka_postgres_and_the_three_services() -> None:
    assert set(COMPOSE["services"]) == {"kafka", "postgres", *SERVICE_PORTS}


def test_kafka_is_the_official_image_in_kraft_mode_at_the_version_the_tests_use() -> None:
    kafka = COMPOSE["services"]["kafka"]
    pom = ET.parse(ROOT / "deploy" / "kafka" / "pom.xml").getroot()
    version = pom.find(
        "{http://maven.apache.org/POM/4.0.0}properties/"
        "{http://maven.apache.org/POM/4.0.0}kafka.version"
    )
    assert version is not None
    assert kafka["image"] == f"apache/kafka:{version.text}"
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]


@pytest.mark.parametrize("name", sorted(SERVICE_PORTS))
def test_each_service_matches_its_settings_and_app(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = COMPOSE["services"][name]
    environment = {key: str(value) for key, value in service["environment"].items()}
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    settings = service_settings(name)

    assert set(environment) <= SETTINGS_VARIABLES, "every variable is one the settings read"
    assert {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"} <= set(environment)
    assert settings.service_name == name
    assert settings.database_schema == name
    assert settings.http_port == SERVICE_PORTS[name]
    assert service["ports"] == [f"{settings.http_port}:{settings.http_port}"]
    assert str(settings.http_port) in service["healthcheck"]["test"]

    command = service["command"]
    assert f"python -m shared.migrations {name} &&" in command, "migrations run before start"
    app_path = re.search(r"uvicorn --factory (\S+):(\w+) .*--port (\d+)", command)
    assert app_path is not None
    assert int(app_path.group(3)) == settings.http_port
    module = importlib.import_module(app_path.group(1))
    assert callable(getattr(module, app_path.group(2)))
    assert service["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
    }

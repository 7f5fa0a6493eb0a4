"""docker-compose.yml cannot run here (no Docker engine): check it against the code."""

import importlib
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

from shared.devstack.keycloak import REALM
from shared.devstack.stack import REALM_FILE, SERVICE_PORTS
from shared.migrations import service_settings
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS_VARIABLES = {name.upper() for name in ServiceSettings.model_fields}
POM = "{http://maven.apache.org/POM/4.0.0}"


def pom_property(pom: str, name: str) -> str | None:
    return (
        ET.parse(ROOT / "deploy" / pom / "pom.xml")
        .getroot()
        .findtext(f"{POM}properties/{POM}{name}")
    )


def test_compose_runs_kafka_postgres_keycloak_the_three_services_and_monitoring() -> None:
    assert set(COMPOSE["services"]) == {
        "kafka",
        "postgres",
        "keycloak",
        *SERVICE_PORTS,
        "prometheus",
        "grafana",
    }


def test_kafka_is_the_official_image_in_kraft_mode_at_the_version_the_tests_use() -> None:
    kafka = COMPOSE["services"]["kafka"]
    version = pom_property("kafka", "kafka.version")
    assert version is not None
    assert kafka["image"] == f"apache/kafka:{version}"
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]


def test_keycloak_is_the_official_image_of_the_local_version_with_the_realm_file() -> None:
    keycloak = COMPOSE["services"]["keycloak"]
    version = pom_property("keycloak", "keycloak.version")
    assert version is not None
    assert keycloak["image"] == f"quay.io/keycloak/keycloak:{version}"
    assert "--import-realm" in keycloak["command"]
    realm = f"./{REALM_FILE.relative_to(ROOT)}:/opt/keycloak/data/import/{REALM_FILE.name}:ro"
    assert realm in keycloak["volumes"]
    assert json.loads(REALM_FILE.read_text())["realm"] == REALM
    assert keycloak["ports"] == ["8180:8080"]
    assert keycloak["environment"]["KC_HOSTNAME"] == "http://localhost:8180"


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
    assert {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "AUTH_ISSUER"} <= set(environment)
    # The issuer as browsers see it (what tokens name); the keys from inside the network.
    keycloak = COMPOSE["services"]["keycloak"]["environment"]
    assert settings.auth_issuer == f"{keycloak['KC_HOSTNAME']}/realms/{REALM}"
    assert (
        settings.auth_jwks_url
        == f"http://keycloak:8080/realms/{REALM}/protocol/openid-connect/certs"
    )
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
        "keycloak": {"condition": "service_healthy"},
    }


def metric_names() -> set[str]:
    """Every series name the services expose, from the metrics shared.metrics registers."""
    importlib.import_module("shared.metrics")
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
    return {
        family.name + suffix
        for family in REGISTRY.collect()
        for suffix in suffixes.get(family.type, [""])
    }


def test_prometheus_scrapes_every_service_on_its_port() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: target
        for job in config["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    assert targets == {f"ketnghia-{name}": f"{name}:{port}" for name, port in SERVICE_PORTS.items()}
    mounted = COMPOSE["services"]["prometheus"]["volumes"]
    assert any(v.startswith("./deploy/prometheus/alerts.yml:") for v in mounted)


def test_alerts_and_dashboard_use_only_metrics_the_services_expose() -> None:
    exposed = metric_names() | {"up"}
    alerts = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    expressions = [rule["expr"] for group in alerts["groups"] for rule in group["rules"]]
    dashboard = json.loads(
        (ROOT / "deploy" / "grafana" / "dashboards" / "ketnghia.json").read_text()
    )
    expressions += [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in expressions for name in re.findall(r"\b(ketnghia_[a-z_]+|up)\b", expr)}
    assert used <= exposed, used - exposed
    alerted = {rule["alert"] for group in alerts["groups"] for rule in group["rules"]}
    assert {"ServiceDown", "OutboxBacklogGrowing", "ProjectionLagging", "DeadLetters"} <= alerted

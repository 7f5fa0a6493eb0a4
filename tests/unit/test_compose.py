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

from shared.devstack.kafka_acls import GRANTS, TOPICS, USERS
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
    assert settings.kafka_security_protocol == "SASL_PLAINTEXT"
    assert settings.kafka_sasl_mechanism == "SCRAM-SHA-512"
    assert settings.kafka_sasl_username == name, "each service is its own Kafka user"
    password = settings.kafka_sasl_password
    assert password is not None
    kafka_environment = COMPOSE["services"]["kafka"]["environment"]
    assert password.get_secret_value() == kafka_environment[f"{name.upper()}_KAFKA_PASSWORD"]
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


def listeners(kafka: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """listener name → (its address, its security protocol)."""
    environment = kafka["environment"]
    protocols = dict(
        pair.split(":") for pair in environment["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    bound = dict(entry.split("://") for entry in environment["KAFKA_LISTENERS"].split(","))
    return {name: (address, protocols[name]) for name, address in bound.items()}


def test_kafka_asks_every_client_for_scram_and_authorizes_with_acls() -> None:
    kafka = COMPOSE["services"]["kafka"]
    environment = kafka["environment"]
    assert "ports" not in kafka, "only the compose network reaches the broker"
    for name, (address, protocol) in listeners(kafka).items():
        assert protocol.startswith("SASL_"), f"{name} takes clients without credentials"
        if name != "CLIENT":
            assert address.startswith("127.0.0.1:"), f"{name} is for the container itself"
    assert environment["KAFKA_ADVERTISED_LISTENERS"].startswith("CLIENT://kafka:9092")
    assert environment["KAFKA_LISTENER_NAME_CLIENT_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert environment["KAFKA_AUTHORIZER_CLASS_NAME"].endswith(".StandardAuthorizer")
    assert environment["KAFKA_SUPER_USERS"] == "User:admin"
    assert environment["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"


def test_kafkas_users_topics_and_acls_are_the_local_stacks() -> None:
    """deploy/kafka/grants.sh makes what shared.devstack.kafka_acls makes locally."""
    script = (ROOT / "deploy" / "kafka" / "grants.sh").read_text()
    lines = [line.split() for line in script.splitlines()]
    users = [words[1] for words in lines if words[:1] == ["user"]]
    topics = [words[1] for words in lines if words[:1] == ["topic"]]
    grants = [
        (words[1], words[2], words[3], tuple(words[4:]))
        for words in lines
        if words[:1] == ["grant"]
    ]
    assert users == list(USERS)
    assert topics == list(TOPICS)
    assert grants == [(g.user, g.resource, g.prefix, g.operations) for g in GRANTS]
    kafka = COMPOSE["services"]["kafka"]
    mounted = {volume.split(":")[0] for volume in kafka["volumes"]}
    assert {"./deploy/kafka/grants.sh", "./deploy/kafka/compose-start.sh"} <= mounted
    assert "/tmp/ketnghia-granted" in kafka["healthcheck"]["test"][1]


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
    assert {"ServiceDown", "OutboxBacklogGrowing", "ProjectionLagging", "DeadLetters",
            "PipelineStalled", "OutboxPublishFailing", "OutboxEventParked"} <= alerted  # fmt: skip


def test_no_password_has_a_default_and_every_one_is_listed_for_the_operator() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    listed = {
        line.split("=")[0]
        for line in (ROOT / "deploy" / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    secrets = {
        f"{service}.{key}": str(value)
        for service, spec in COMPOSE["services"].items()
        for key, value in (spec.get("environment") or {}).items()
        if "PASSWORD" in key or key == "DATABASE_URL"
    }

    assert not re.search(r"\$\{[A-Z_]+:-", text), "no variable falls back to a default"
    assert secrets
    for name, value in secrets.items():
        assert re.search(r"\$\{[A-Z_]+:\?", value), f"{name} is not required from .env"
    assert required == listed
    assert COMPOSE["services"]["grafana"]["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"


def test_only_what_browsers_and_clients_reach_is_published() -> None:
    published = {name: spec.get("ports", []) for name, spec in COMPOSE["services"].items()}
    outside = {
        name for name, ports in published.items()
        if any(not str(port).startswith("127.0.0.1:") for port in ports)
    }  # fmt: skip

    assert outside == {"keycloak", "registry", "activities", "reporting"}
    assert published["kafka"] == published["postgres"] == []

"""docker-compose.yml, the Dockerfile and .env.example cannot run here (no Docker engine), so
they are checked against the settings, the CLI and each other; the broker's own configuration
and health check run on a real Mosquitto in tests/test_broker_acl.py."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from hub.cli import _parser
from hub.settings import Settings, _is_section, load_settings

ROOT = Path(__file__).resolve().parents[1]
HUB_SERVICES = ("hub", "ingest-1", "ingest-2", "api-2")
_REF = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _setting_names() -> set[str]:
    names = set()
    for name, info in Settings.model_fields.items():
        section = info.annotation
        if isinstance(section, type) and _is_section(section):
            names |= {f"HUB_{name}_{sub}".upper() for sub in section.model_fields}
        else:
            names.add(f"HUB_{name}".upper())
    return names


def _env_example() -> tuple[set[str], set[str]]:
    """(variables given a value, variables only documented as comments) in .env.example."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    given = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    commented = set(re.findall(r"^# ([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    return given, commented


def _resolved(env: dict[str, Any]) -> dict[str, str]:
    # ${VAR:-default} takes its default; a required secret (${VAR:?...}) a stand-in value.
    out = {}
    for key, raw in env.items():
        value = str(raw)
        match = _REF.fullmatch(value)
        if match:
            default = re.search(r":-([^}]*)\}", value)
            value = default.group(1) if default else "secret"
        out[key] = value
    return out


def test_every_service_has_a_healthcheck() -> None:
    services = _compose()["services"]
    assert set(services) >= {"neo4j", "mosquitto", *HUB_SERVICES}
    for name, service in services.items():
        check = service.get("healthcheck")
        assert check and check.get("test"), name
        assert check.get("retries", 0) >= 3, name


def test_hub_services_are_configured_by_real_valid_settings() -> None:
    services = _compose()["services"]
    names = _setting_names()
    for name in HUB_SERVICES:
        env = services[name]["environment"]
        unknown = {k for k in env if k.startswith("HUB_")} - names
        assert not unknown, (name, unknown)
        assert not [k for k in env if not k.startswith("HUB_")], name  # only HUB_* variables
        settings = load_settings(_resolved(env))  # raises, naming the variable, on a bad one
        assert settings.graph.url == "neo4j://neo4j:7687"
        assert settings.environment.value == "production"
        assert settings.mqtt.username == "hub" and settings.mqtt.password is not None
        assert settings.metrics.token is not None
    ids = [services[n]["environment"]["HUB_MQTT_CLIENT_ID"] for n in HUB_SERVICES]
    assert len(set(ids)) == len(ids)  # one persistent session each; a shared id would evict
    # Ingest: no shared group anywhere (Mosquitto 2.0 forgets shared subscriptions on a
    # restart). A single hub ingests everything; the workers split the feed in two partitions
    # and, with the scale profile, the hub stops ingesting.
    hub = services["hub"]["environment"]
    assert load_settings(_resolved(hub)).mqtt.ingest
    assert not load_settings({**_resolved(hub), "HUB_MQTT_INGEST": "false"}).mqtt.ingest
    assert hub["HUB_MQTT_INGEST"] == "${INGEST_IN_HUB:-true}"
    partitions = set()
    for name in HUB_SERVICES:
        settings = load_settings(_resolved(services[name]["environment"]))
        assert settings.mqtt.shared_group is None, name
        if name.startswith("ingest-"):
            assert settings.mqtt.ingest, name
            partitions.add(settings.mqtt.partition)
    assert partitions == {"1/2", "2/2"}
    replica = load_settings(_resolved(services["api-2"]["environment"]))
    assert not replica.mqtt.ingest and replica.mqtt.relay
    # The API processes serve live feeds of every reading, whichever process ingested it.
    assert load_settings(_resolved(services["hub"]["environment"])).mqtt.relay
    # HTTP workers: one per core the container may use unless .env sets HUB_HTTP_WORKERS.
    assert hub["HUB_HTTP_WORKERS"] == "${HUB_HTTP_WORKERS:-}"
    assert load_settings(_resolved(hub)).http.workers is None
    assert load_settings({**_resolved(hub), "HUB_HTTP_WORKERS": "4"}).http.workers == 4
    commands = {
        name
        for action in _parser()._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    }
    for name in ("ingest-1", "ingest-2"):
        assert services[name]["command"][:1] == ["hub"]
        assert services[name]["command"][1] in commands


def test_every_setting_is_in_env_example_and_every_variable_there_is_used() -> None:
    given, commented = _env_example()
    names = _setting_names()
    documented = {v for v in given | commented if v.startswith("HUB_")}
    assert names - documented == set(), "settings missing from .env.example"
    assert documented - names == set(), ".env.example names variables that are not settings"
    compose_text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    referenced = set(_REF.findall(compose_text))
    # Every ${VAR} the compose file reads is in .env.example (given, or commented out with
    # its default), and every other variable .env.example gives is read by the compose file.
    assert referenced - (given | commented) == set()
    assert {v for v in given if not v.startswith("HUB_")} - referenced == set()
    assert {v for v in referenced if v.startswith("HUB_")} <= names


def test_ports_volumes_and_urls_agree() -> None:
    compose = _compose()
    services = compose["services"]
    declared = set(compose["volumes"])
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), (name, source)
            else:
                assert source in declared, (name, source)
    used = {v.split(":", 1)[0] for s in services.values() for v in s.get("volumes", [])}
    assert declared <= used, declared - used
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    exposed = re.findall(r"^EXPOSE (\d+)", dockerfile, re.MULTILINE)
    for name in HUB_SERVICES:
        service = services[name]
        settings = load_settings(_resolved(service["environment"]))
        port = settings.http.port
        assert exposed == [str(port)]
        assert settings.http.host == "0.0.0.0"
        for mapping in service.get("ports", []):
            assert mapping.rsplit(":", 1)[1] == str(port), (name, mapping)
        assert f"127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"])
        mounts = {v.split(":")[1] for v in service["volumes"]}
        assert str(settings.data_dir) in mounts, name
        graph = urlsplit(settings.graph.url)
        assert graph.hostname in services and graph.port == 7687
        broker = urlsplit(settings.mqtt.url)
        assert broker.hostname in services and broker.port == 1883
    assert "127.0.0.1:7687:7687" in services["neo4j"]["ports"]
    assert "1883:1883" in services["mosquitto"]["ports"]


def test_mosquitto_runs_the_secure_config_with_persistence_and_accounts() -> None:
    mosquitto = _compose()["services"]["mosquitto"]
    mounts = dict(v.split(":")[:2] for v in mosquitto["volumes"])
    assert mounts["./deploy/mosquitto/secure.conf"] == "/mosquitto/config/mosquitto.conf"
    conf = (ROOT / "deploy/mosquitto/secure.conf").read_text(encoding="utf-8")
    settings = dict(
        line.split(None, 1) for line in conf.splitlines() if line and not line.startswith("#")
    )
    assert settings["persistence"] == "true"
    assert settings["allow_anonymous"] == "false"
    assert int(settings["max_queued_messages"]) >= 10_000
    assert settings["listener"] == "1883"
    # Files the configuration names are mounted where it looks for them.
    mounted = set(mounts.values())
    assert settings["acl_file"] in mounted
    assert settings["persistence_location"].rstrip("/") in mounted
    assert Path(settings["password_file"]).parent.as_posix() in mounted
    assert mosquitto["entrypoint"][-1] in mounted  # start.sh makes the accounts first


def test_the_image_is_slim_non_root_with_a_healthcheck_and_serves_by_default() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert stages[-1] == "python:3.12-slim" and stages[-2].startswith("python:3.12-slim")
    assert all(s.endswith("-slim") or "-slim " in s for s in stages)
    final = dockerfile.rsplit("\nFROM ", 1)[1]
    # The console the hub serves at / is built into the installed package's hub/web/dist.
    assert re.search(r"^COPY --from=web \S+ /app/\.venv/\S+/hub/web/dist$", final, re.MULTILINE)
    user = re.findall(r"^USER (\S+)", final, re.MULTILINE)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*readyz", final, re.MULTILINE)
    assert re.search(r'^CMD \["hub", "serve"\]', final, re.MULTILINE)
    env = dict(re.findall(r"(HUB_[A-Z_]+)=(\S+)", final))
    assert env and set(env) <= _setting_names()
    load_settings(env)
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.MULTILINE):
        for path in source.split():
            assert (ROOT / path).exists(), path


@pytest.mark.parametrize("name", ["neo4j", "mosquitto"])
def test_secrets_are_required_not_defaulted(name: str) -> None:
    service = _compose()["services"][name]
    text = yaml.safe_dump(service)
    for var in ("NEO4J_PASSWORD", "HUB_MQTT_PASSWORD", "MQTT_HEALTHCHECK_PASSWORD"):
        if var in text:
            assert f"${{{var}:?" in text, var


def test_the_postgres_profile_matches_the_telemetry_url_env_example_gives() -> None:
    services = _compose()["services"]
    postgres = services["postgres"]
    assert postgres["profiles"] == ["postgres"]
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    (url,) = re.findall(r"HUB_TELEMETRY_URL=(postgresql://\S+)", text)
    parts = urlsplit(url.replace("<POSTGRES_PASSWORD>", "pw"))
    env = postgres["environment"]
    assert parts.hostname == "postgres" and parts.port == 5432
    assert parts.username == env["POSTGRES_USER"] and parts.path == "/" + env["POSTGRES_DB"]
    load_settings({"HUB_TELEMETRY_URL": parts.geturl()})
    # Every hub service waits for it when the profile is on, and only then.
    for name in HUB_SERVICES:
        wait = services[name]["depends_on"]["postgres"]
        assert wait == {"condition": "service_healthy", "required": False}


def test_compose_runs_the_neo4j_release_the_tests_run() -> None:
    # What ships is what was tested: the image's release line is the launcher's (the suite runs
    # every graph test on tools/neo4j-server), so a 5.x image tag that floats cannot drift away.
    pom = (ROOT / "tools" / "neo4j-server" / "pom.xml").read_text(encoding="utf-8")
    version = re.search(r"<neo4j\.version>(\d+)\.(\d+)\.\d+</neo4j\.version>", pom)
    assert version, "tools/neo4j-server/pom.xml names no <neo4j.version>"
    image = _compose()["services"]["neo4j"]["image"]
    assert image == f"neo4j:{version.group(1)}.{version.group(2)}-community"

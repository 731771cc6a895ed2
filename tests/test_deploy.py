"""docker-compose.yml cannot run here (no Docker engine), so it is checked against the settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from hub.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_every_service_has_a_healthcheck() -> None:
    services = _compose()["services"]
    assert set(services) >= {"neo4j", "mosquitto", "hub"}
    for name, service in services.items():
        assert "healthcheck" in service, name


def test_hub_variables_are_real_settings_and_valid() -> None:
    env = _compose()["services"]["hub"]["environment"]
    hub_vars = {k: str(v) for k, v in env.items() if k.startswith("HUB_")}
    assert hub_vars
    # Interpolated secrets get a stand-in value; everything else is validated as written.
    resolved = {k: ("secret" if "${" in v else v) for k, v in hub_vars.items()}
    settings = load_settings(resolved)  # raises, naming the variable, on any unknown or bad one
    assert settings.graph.url.startswith("neo4j://")
    assert settings.http.port == 8000


def test_volumes_and_config_files_exist() -> None:
    compose = _compose()
    declared = set(compose["volumes"])
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
            else:
                assert source in declared, source
    mosquitto = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text(encoding="utf-8")
    assert "persistence true" in mosquitto

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from graph_schema.errors import ConfigurationError
from hub.settings import Settings, load_settings


def test_defaults_are_embedded_and_local() -> None:
    settings = load_settings({})
    assert settings.graph.url == "embedded://"
    assert settings.telemetry.url == "sqlite://"
    assert (settings.http.host, settings.http.port) == ("127.0.0.1", 8000)


def test_variables_map_to_sections() -> None:
    settings = load_settings(
        {
            "HUB_GRAPH_URL": "bolt://db:7687",
            "HUB_GRAPH_POOL_SIZE": "4",
            "HUB_HTTP_PORT": "9000",
            "HUB_DATA_DIR": "/srv/hub",
            "HUB_LOG_LEVEL": "DEBUG",
            "HUB_MQTT_URL": "mqtts://broker:8883",
            "HUB_TELEMETRY_URL": "postgresql://t@pg/hub",
            "OTHER": "ignored",
        }
    )
    assert settings.graph.pool_size == 4
    assert settings.http.port == 9000
    assert str(settings.data_dir) == "/srv/hub"
    assert settings.mqtt.url == "mqtts://broker:8883"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"HUB_HTTP_PORT": "eighty"}, "HUB_HTTP_PORT"),
        ({"HUB_HTTP_PORT": "70000"}, "HUB_HTTP_PORT"),
        ({"HUB_GRAPH_URL": "mysql://x"}, "HUB_GRAPH_URL"),
        ({"HUB_GRAPH_URL": "bolt://"}, "HUB_GRAPH_URL"),
        ({"HUB_MQTT_URL": "http://x"}, "HUB_MQTT_URL"),
        ({"HUB_LOG_LEVEL": "CHATTY"}, "HUB_LOG_LEVEL"),
        ({"HUB_GRAPH_URLL": "embedded://"}, "HUB_GRAPH_URLL"),
    ],
)
def test_a_wrong_value_names_its_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env)
    assert f"{variable}:" in str(caught.value)


def test_secrets_stay_out_of_repr_and_str() -> None:
    settings = load_settings(
        {
            "HUB_GRAPH_URL": "neo4j://hub:url-secret@db:7687",
            "HUB_GRAPH_PASSWORD": "pw-secret",
            "HUB_MQTT_PASSWORD": "mqtt-secret",
        }
    )
    for text in (repr(settings), str(settings), repr(settings.graph)):
        for secret in ("url-secret", "pw-secret", "mqtt-secret"):
            assert secret not in text
    assert settings.graph.password is not None
    assert settings.graph.password.get_secret_value() == "pw-secret"


def test_real_environment_is_read_with_the_same_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_HTTP_PORT", "8123")
    monkeypatch.setenv("HUB_GRAPH_TIMEOUT_S", "2.5")
    settings = load_settings(env_file=None)
    assert settings.http.port == 8123
    assert settings.graph.timeout_s == 2.5
    monkeypatch.setenv("HUB_HTTP_PORT", "x")
    with pytest.raises(ConfigurationError, match="HUB_HTTP_PORT"):
        load_settings(env_file=None)


def test_ingest_settings_are_read_and_checked() -> None:
    settings = load_settings(
        {
            "HUB_TELEMETRY_LABOR_SALT": "salt-secret",
            "HUB_TELEMETRY_RETENTION_DAYS": "30",
            "HUB_MQTT_SHARED_GROUP": "ingest",
            "HUB_MQTT_PROTOCOL": "4",
        }
    )
    assert settings.telemetry.retention_days == 30
    assert settings.mqtt.shared_group == "ingest" and settings.mqtt.protocol == 4
    assert "salt-secret" not in repr(settings)
    for env, variable in (
        ({"HUB_TELEMETRY_TIMEZONE": "Mars/Olympus"}, "HUB_TELEMETRY_TIMEZONE"),
        ({"HUB_MQTT_PROTOCOL": "3"}, "HUB_MQTT_PROTOCOL"),
        ({"HUB_TELEMETRY_SYNCHRONOUS": "OFF"}, "HUB_TELEMETRY_SYNCHRONOUS"),
    ):
        with pytest.raises(ConfigurationError, match=variable):
            load_settings(env)


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [name for name in _variables() if f"`{name}`" not in readme]
    assert missing == []


def _variables() -> list[str]:
    out = []
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out += [f"HUB_{name}_{sub}".upper() for sub in annotation.model_fields]
        else:
            out.append(f"HUB_{name}".upper())
    return out

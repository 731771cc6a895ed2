from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from graph_schema.errors import ConfigurationError
from hub.settings import Settings, _is_section, load_settings


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


def test_every_setting_is_in_the_readme_table_and_nothing_else_is() -> None:
    names = set()
    for name, info in Settings.model_fields.items():
        section = info.annotation
        if isinstance(section, type) and issubclass(section, BaseModel) and _is_section(section):
            names |= {f"HUB_{name}_{sub}".upper() for sub in section.model_fields}
        else:
            names.add(f"HUB_{name}".upper())
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`(HUB_[A-Z0-9_]+)`", table))
    assert documented == names


def test_scoreboard_thresholds_are_settings_and_must_be_ordered() -> None:
    settings = load_settings({"HUB_SCOREBOARD_LANDING_RED": "0.5"})
    assert settings.scoreboard.landing_red == 0.5
    assert settings.scoreboard.landing_yellow == 0.85
    with pytest.raises(ConfigurationError, match="HUB_SCOREBOARD_COMPLETION_RED"):
        load_settings({"HUB_SCOREBOARD_COMPLETION_RED": "0.99"})
    with pytest.raises(ConfigurationError, match="HUB_SCOREBOARD_LANDING_YELLOW"):
        load_settings({"HUB_SCOREBOARD_LANDING_YELLOW": "high"})


def test_sensing_bands_and_thresholds_must_be_ordered() -> None:
    settings = load_settings({"HUB_SENSING_HEAT_HOT_FROM": "90", "HUB_SENSING_MIN_HISTORY": "24"})
    assert (settings.sensing.heat_hot_from, settings.sensing.min_history) == (90.0, 24)
    with pytest.raises(ConfigurationError, match="HUB_SENSING_HEAT_WARM_FROM"):
        load_settings({"HUB_SENSING_HEAT_WARM_FROM": "95"})
    with pytest.raises(ConfigurationError, match="HUB_SENSING_TRACKING_RED"):
        load_settings({"HUB_SENSING_TRACKING_RED": "0.99"})
    with pytest.raises(ConfigurationError, match="HUB_SENSING_RACE_NORMALISATION"):
        load_settings({"HUB_SENSING_RACE_NORMALISATION": "rank"})

"""The broker ACL in deploy/mosquitto, on a real Mosquitto with real accounts: a device may
publish only to its own topics, the hub reads them all, anonymous clients are refused."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion

from tests.broker import Mosquitto

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "mosquitto"


@pytest.fixture
def secured(tmp_path: Path) -> Any:
    passwd = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    if not Path(passwd).exists():
        pytest.fail("mosquitto_passwd is missing (apt-get install mosquitto)")
    accounts = tmp_path / "passwd"
    for user, password in (("hub", "hub-pw"), ("pwr-acl-1", "dev-pw"), ("pwr-acl-2", "dev2")):
        flags = ["-b", "-c"] if not accounts.exists() else ["-b"]
        subprocess.run([passwd, *flags, str(accounts), user, password], check=True)
    accounts.chmod(0o600)
    broker = Mosquitto(tmp_path / "broker")
    settings = (DEPLOY / "secure.conf").read_text(encoding="utf-8")
    kept = [
        line
        for line in settings.splitlines()
        if line.startswith(("allow_anonymous", "max_queued_messages"))
    ]
    with broker.config.open("a", encoding="utf-8") as conf:
        conf.write("\n".join(kept) + "\n")
        conf.write(f"password_file {accounts}\nacl_file {DEPLOY / 'acl'}\n")
    text = broker.config.read_text(encoding="utf-8").replace("allow_anonymous true\n", "")
    broker.config.write_text(text, encoding="utf-8")
    broker.start()
    yield broker
    broker.stop()


def _client(port: int, user: str | None, password: str | None, name: str) -> Client:
    client = Client(CallbackAPIVersion.VERSION2, client_id=name)
    if user is not None:
        client.username_pw_set(user, password)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def test_devices_publish_only_to_their_own_topics(secured: Mosquitto) -> None:
    got: list[str] = []

    def on_message(client: Client, userdata: Any, msg: MQTTMessage) -> None:
        got.append(msg.topic)

    hub = _client(secured.port, "hub", "hub-pw", "acl-hub")
    hub.on_message = on_message
    hub.subscribe("hub/v1/+/+", qos=1)
    device = _client(secured.port, "pwr-acl-1", "dev-pw", "acl-dev")
    time.sleep(0.5)
    device.publish("hub/v1/power/pwr-acl-1", b"mine", qos=1).wait_for_publish(5)
    device.publish("hub/v1/power/pwr-acl-2", b"someone else's", qos=1).wait_for_publish(5)
    device.publish("hub/v1/events/power/pwr-acl-1", b"fake event", qos=1).wait_for_publish(5)
    deadline = time.monotonic() + 3
    while "hub/v1/power/pwr-acl-1" not in got and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)  # anything refused would have arrived by now
    for client in (hub, device):
        client.loop_stop()
        client.disconnect()
    assert got == ["hub/v1/power/pwr-acl-1"]


def test_anonymous_and_wrong_passwords_are_refused(secured: Mosquitto) -> None:
    for user, password in ((None, None), ("pwr-acl-1", "wrong")):
        client = Client(CallbackAPIVersion.VERSION2, client_id=f"acl-bad-{user}")
        if user is not None:
            client.username_pw_set(user, password)
        codes: list[Any] = []
        client.on_connect = lambda c, u, f, reason, p, codes=codes: codes.append(reason)
        client.connect("127.0.0.1", secured.port)
        client.loop_start()
        deadline = time.monotonic() + 5
        while not codes and time.monotonic() < deadline:
            time.sleep(0.02)
        client.loop_stop()
        client.disconnect()
        assert codes and codes[0].is_failure, (user, codes)

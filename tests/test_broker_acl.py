"""The broker configuration in deploy/mosquitto, on a real Mosquitto with real accounts made by
deploy/mosquitto/start.sh: a device may publish only to its own topics, the hub reads them all
(plain or shared) and relays events, anonymous clients are refused, and the compose file's own
health check command passes under the ACL."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from hub.doctor import Status, diagnose
from hub.settings import load_settings
from tests.broker import Mosquitto

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "mosquitto"
ACCOUNTS = {"HUB_MQTT_PASSWORD": "hub-pw", "MQTT_HEALTHCHECK_PASSWORD": "health-pw",
            "MQTT_EVENTS_READER_PASSWORD": "reader-pw"}  # fmt: skip


def _tool(name: str) -> str:
    found = shutil.which(name) or f"/usr/bin/{name}"
    if not Path(found).exists():
        pytest.fail(f"{name} is missing (apt-get install mosquitto mosquitto-clients)")
    return found


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[Mosquitto]:
    accounts = tmp_path / "accounts" / "passwd"
    env = {**os.environ, **ACCOUNTS, "MOSQUITTO_ACCOUNTS_FILE": str(accounts)}
    subprocess.run(["sh", str(DEPLOY / "start.sh")], env=env, check=True)
    passwd = _tool("mosquitto_passwd")
    for user, password in (("pwr-acl-1", "dev-pw"), ("pwr-acl-2", "dev2")):
        subprocess.run([passwd, "-b", str(accounts), user, password], check=True)
    # start.sh again (a restart): the devices added meanwhile are kept.
    subprocess.run(["sh", str(DEPLOY / "start.sh")], env=env, check=True)
    broker = Mosquitto(tmp_path / "broker")
    broker.config.write_text(_exact_config(broker, accounts), encoding="utf-8")
    broker.start()
    yield broker
    broker.stop()


def _exact_config(broker: Mosquitto, accounts: Path) -> str:
    """deploy/mosquitto/secure.conf line for line, as compose mounts it; only what names the
    container (its port, paths) is swapped for this test's, and the test runs as root."""
    swapped = {
        "listener": f"listener {broker.port} 127.0.0.1",
        "persistence_location": f"persistence_location {broker.directory}/",
        "password_file": f"password_file {accounts}",
        "acl_file": f"acl_file {DEPLOY / 'acl'}",
    }
    lines = []
    for line in (DEPLOY / "secure.conf").read_text(encoding="utf-8").splitlines():
        word = line.split(" ", 1)[0]
        lines.append(swapped.pop(word, line))
    assert not swapped, f"secure.conf lacks {sorted(swapped)}"
    lines += ["user root", f"log_dest file {broker.directory}/mosquitto.log"]
    return "\n".join(lines) + "\n"


def _client(port: int, user: str | None, password: str | None, name: str) -> Client:
    client = Client(
        CallbackAPIVersion.VERSION2, client_id=name, protocol=MQTTProtocolVersion.MQTTv5
    )
    if user is not None:
        client.username_pw_set(user, password)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def _subscribe(client: Client, topic: str, qos: int) -> None:
    """Subscribe and wait for the broker's SUBACK, so what is published next is seen."""
    acked: set[int] = set()
    client.on_subscribe = lambda c, u, mid, codes, props: acked.add(mid)
    _, mid = client.subscribe(topic, qos=qos)
    _wait(lambda: mid in acked, 60)
    assert mid in acked, f"no SUBACK for {topic}"


def _collect(client: Client) -> list[str]:
    got: list[str] = []

    def on_message(c: Client, userdata: Any, msg: MQTTMessage) -> None:
        got.append(msg.topic)

    client.on_message = on_message
    return got


def _wait(check: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_devices_publish_only_to_their_own_topics(secured: Mosquitto) -> None:
    hub = _client(secured.port, "hub", "hub-pw", "acl-hub")
    got = _collect(hub)
    _subscribe(hub, "hub/v1/+/+", 1)
    _subscribe(hub, "hub/v1/events/#", 1)  # a forged event would show here
    worker = _client(secured.port, "hub", "hub-pw", "acl-worker")
    shared = _collect(worker)
    _subscribe(worker, "$share/ingest/hub/v1/+/+", 1)
    device = _client(secured.port, "pwr-acl-1", "dev-pw", "acl-dev")
    device.publish("hub/v1/power/pwr-acl-1", b"mine", qos=1).wait_for_publish(5)
    device.publish("hub/v1/power/pwr-acl-2", b"someone else's", qos=1).wait_for_publish(5)
    device.publish("hub/v1/events/power/pwr-acl-1", b"fake event", qos=1).wait_for_publish(5)
    device.publish("hub/v1/events/pwr-acl-1", b"forged", qos=1).wait_for_publish(5)
    device.publish("hub/v1/thing/pwr-acl-1", b"no such kind", qos=1).wait_for_publish(5)
    _wait(lambda: "hub/v1/power/pwr-acl-1" in got and shared)
    time.sleep(0.5)  # anything refused would have arrived by now
    for client in (hub, worker, device):
        client.loop_stop()
        client.disconnect()
    assert got == ["hub/v1/power/pwr-acl-1"]
    assert shared == ["hub/v1/power/pwr-acl-1"]  # the shared subscription passes the ACL too


def test_the_hub_relays_events_and_readers_only_read(secured: Mosquitto) -> None:
    replica = _client(secured.port, "hub", "hub-pw", "acl-replica")
    relayed = _collect(replica)
    _subscribe(replica, "hub/v1/events/#", 0)
    reader = _client(secured.port, "events-reader", "reader-pw", "acl-reader")
    read = _collect(reader)
    _subscribe(reader, "hub/v1/events/#", 0)
    publisher = _client(secured.port, "hub", "hub-pw", "acl-publisher")
    publisher.publish("hub/v1/events/power/pwr-acl-1", b"{}", qos=1).wait_for_publish(5)
    reader.publish("hub/v1/events/power/pwr-acl-1", b"forged", qos=1).wait_for_publish(5)
    _wait(lambda: relayed and read)
    time.sleep(0.5)
    for client in (replica, reader, publisher):
        client.loop_stop()
        client.disconnect()
    assert relayed == ["hub/v1/events/power/pwr-acl-1"]
    assert read == ["hub/v1/events/power/pwr-acl-1"]


def test_anonymous_and_wrong_passwords_are_refused(secured: Mosquitto) -> None:
    for user, password in ((None, None), ("pwr-acl-1", "wrong")):
        client = Client(CallbackAPIVersion.VERSION2, client_id=f"acl-bad-{user}")
        if user is not None:
            client.username_pw_set(user, password)
        codes: list[Any] = []
        client.on_connect = lambda c, u, f, reason, p, codes=codes: codes.append(reason)
        client.connect("127.0.0.1", secured.port)
        client.loop_start()
        _wait(lambda codes=codes: bool(codes), 5)
        client.loop_stop()
        client.disconnect()
        assert codes and codes[0].is_failure, (user, codes)


def _healthcheck(port: int) -> str:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    kind, command = compose["services"]["mosquitto"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    # Compose turns $$ into $; the container's broker listens on 1883, this one elsewhere.
    command = str(command).replace("$$", "$")
    assert "-p 1883" in command
    return command.replace("-p 1883", f"-p {port}")


def test_the_compose_health_check_passes_under_the_acl(secured: Mosquitto) -> None:
    command = _healthcheck(secured.port)
    tools = Path(_tool("mosquitto_sub")).parent
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}"}
    ok = subprocess.run(
        ["sh", "-c", command], env={**env, "MQTT_HEALTHCHECK_PASSWORD": "health-pw"},
        capture_output=True, timeout=20, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr.decode() + ok.stdout.decode()
    wrong = subprocess.run(
        ["sh", "-c", command], env={**env, "MQTT_HEALTHCHECK_PASSWORD": "nope"},
        capture_output=True, timeout=20, check=False,
    )  # fmt: skip
    assert wrong.returncode != 0
    # The health check account reads the uptime and nothing else.
    sub = _tool("mosquitto_sub")
    other = subprocess.run(
        [sub, "-h", "127.0.0.1", "-p", str(secured.port), "-u", "healthcheck", "-P",
         "health-pw", "-t", "hub/v1/+/+", "-C", "1", "-W", "2"],
        capture_output=True, timeout=20, check=False,
    )  # fmt: skip
    assert other.returncode != 0, shlex.join(other.args)


@pytest.mark.anyio
async def test_doctor_on_the_secured_broker(secured: Mosquitto, tmp_path: Path) -> None:
    def broker_findings(user: str, password: str) -> dict[str, Any]:
        return {
            "HUB_DATA_DIR": str(tmp_path / "data"),
            "HUB_GRAPH_URL": "bolt://127.0.0.1:9",  # not under test here
            "HUB_MQTT_URL": secured.url,
            "HUB_MQTT_USERNAME": user,
            "HUB_MQTT_PASSWORD": password,
        }

    async def run(user: str, password: str) -> dict[str, Any]:
        found = await diagnose(load_settings(broker_findings(user, password)), timeout_s=3)
        return {f.code: f for f in found if f.check.startswith("broker")}

    good = await run("hub", "hub-pw")
    assert set(good) == {"OK"}, good
    assert all(f.status is Status.OK for f in good.values())
    wrong = await run("hub", "not-it")
    assert wrong["BROKER_AUTH_FAILED"].failed
    # Readers may read events but not publish them; a device may do neither.
    for user, password in (("events-reader", "reader-pw"), ("pwr-acl-1", "dev-pw")):
        found = await run(user, password)
        assert found["BROKER_EVENTS_DENIED"].failed, found
        assert user in found["BROKER_EVENTS_DENIED"].message


def test_a_message_over_1_mib_is_refused_and_the_next_arrives(secured: Mosquitto) -> None:
    hub = _client(secured.port, "hub", "hub-pw", "size-hub")
    got: list[tuple[str, int]] = []
    hub.on_message = lambda c, u, msg: got.append((msg.topic, len(msg.payload)))
    _subscribe(hub, "hub/v1/+/+", 1)
    device = _client(secured.port, "pwr-acl-1", "dev-pw", "size-dev")
    big = device.publish("hub/v1/power/pwr-acl-1", b"x" * (1024 * 1024 + 1), qos=1)
    # Mosquitto refuses it: the MQTT 5 client is told the limit and disconnected if it sends.
    with contextlib.suppress(RuntimeError, ValueError):
        big.wait_for_publish(5)
    device.loop_stop()
    device.disconnect()
    again = _client(secured.port, "pwr-acl-1", "dev-pw", "size-dev-2")
    again.publish("hub/v1/power/pwr-acl-1", b"y" * (1024 * 1024 - 64), qos=1).wait_for_publish(10)
    again.publish("hub/v1/power/pwr-acl-1", b"small", qos=1).wait_for_publish(10)
    _wait(lambda: len(got) >= 2, 10)
    time.sleep(0.5)
    for client in (hub, again):
        client.loop_stop()
        client.disconnect()
    assert got == [("hub/v1/power/pwr-acl-1", 1024 * 1024 - 64), ("hub/v1/power/pwr-acl-1", 5)]

"""Notifications: real alerts and a supervision case reach a webhook, a DingTalk/浙政钉 robot,
a WeCom robot and an SMS gateway (hub.monitoring.alerts_loopback, the receivers' wire formats and
signatures checked on the receiving side); a receiver that is down gets retries with back-off
and the message is dead-lettered, not lost. Time is injected: nothing sleeps."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import urllib.parse
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from hub.clock import fixed
from hub.monitoring.alerts import AlertEvent, AlertFilter, Change, Status
from hub.monitoring.alerts_loopback import LoopbackReceivers
from hub.monitoring.alerts_notify import Notifier, Outbox, dingtalk_sign
from hub.monitoring.watch import Watch
from hub.settings import AlertsSettings, FusionSettings, MpiSettings
from ingest.bus import LiveBus
from tests.hub import sites

pytestmark = pytest.mark.anyio
SECRET = "SEC-test-secret"


@pytest.fixture
def receivers() -> Iterator[LoopbackReceivers]:
    with LoopbackReceivers(secret=SECRET) as found:
        yield found


@pytest.fixture
async def watch(store: FalkorDBStore, tmp_path: Path) -> AsyncIterator[Watch]:
    await sites.build_graph(store)
    telemetry = await sites.open_telemetry(tmp_path / "telemetry.db")
    pipe = sites.pipeline(store, telemetry, LiveBus())
    await pipe.commit_observations(sites.history(), sites.sensor_infos())
    found = Watch(
        store, telemetry, fusion_rules=FusionSettings(), mpi_settings=MpiSettings(),
        alert_settings=AlertsSettings(), inactivity_timeout_s=1800, clock=fixed(sites.NOW),
    )  # fmt: skip
    yield found
    await telemetry.close()


def _notifier(base: str, outbox: Outbox, now: list[dt.datetime], **extra: object) -> Notifier:
    config = {
        "channels": [
            {"name": "hook", "kind": "webhook", "url": f"{base}/webhook", "secret": SECRET},
            {"name": "ding", "kind": "dingtalk",
             "url": f"{base}/robot/send?access_token=t0k", "secret": SECRET},
            {"name": "wecom", "kind": "wecom", "url": f"{base}/cgi-bin/webhook/send?key=wecom-key"},
            {"name": "sms", "kind": "sms", "url": f"{base}/sms", "secret": SECRET,
             "phones": ["13800000000"]},
        ],
        "rules": [
            {"channels": ["hook"]},  # everything
            {"channels": ["ding", "wecom"], "severities": ["CRITICAL", "MAJOR"],
             "regions": [sites.A]},  # serious ones of county A
            {"channels": ["sms"], "severities": ["CRITICAL"]},
        ],
        "max_attempts": 4,
        "backoff_s": 60,
        **extra,
    }  # fmt: skip
    return Notifier.from_config(config, outbox, clock=lambda: now[0])


def test_dingtalk_signature_is_the_documented_one() -> None:
    # DingTalk's documented recipe, computed independently.
    ts, secret = 1577262236757, "SEC-abc"
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    assert dingtalk_sign(secret, ts) == urllib.parse.quote_plus(base64.b64encode(digest))


async def test_alerts_and_cases_reach_every_channel_by_rule(
    watch: Watch, receivers: LoopbackReceivers, tmp_path: Path
) -> None:
    now = [sites.NOW]
    outbox = Outbox(tmp_path / "outbox.db")
    notifier = _notifier(receivers.base_url, outbox, now)
    watch.supervision.on_change.append(_hook(notifier))
    sub = watch.feed.subscribe()
    try:
        await watch.refresh()
        await watch.check_all()
        raised = []
        while sub.pending():
            event = await anext(sub)
            raised.append(event)
            notifier.on_alert(event)
        assert len(raised) == 4  # idle, two mismatches, the tampered camera
        report = await notifier.deliver_due()
        assert (report.sent, report.retried, report.dead) == (len(outbox.entries()), 0, 0)
        # Every alert to the webhook; county A's MAJOR ones (idle, two mismatches) to DingTalk
        # and WeCom; only the CRITICAL tampered camera (county B) by SMS.
        hooks = receivers.accepted("/webhook")
        assert sorted(r.body["code"] for r in hooks) == sorted(e.alert.code for e in raised)
        ding = receivers.accepted("/robot/send")
        assert len(ding) == 3 and len(receivers.accepted("/cgi-bin/webhook/send")) == 3
        assert all(r.query["access_token"] == "t0k" for r in ding)
        assert any("停工" in r.body["text"]["content"] for r in ding), "Chinese text"
        [sms] = receivers.accepted("/sms")
        assert sms.body["template"] == "CAMERA_HEALTH" and sms.body["to"] == ["13800000000"]
        assert "cam-low-2" in sms.body["text"]
        assert all(r.accepted for r in receivers.received)
        # A supervision case: opened and escalated, both notified (county A, MAJOR).
        idle = next(e.alert for e in raised if e.alert.type.value == "PROJECT_IDLE")
        case = await watch.supervision.open(
            idle, unit="西湖区发改局", person="张科长", by="monitor:k1", now=now[0]
        )
        now[0] += dt.timedelta(days=6)
        watch.clock = fixed(now[0])
        await watch.check_cases()
        await notifier.deliver_due()
        codes = [r.body["code"] for r in receivers.accepted("/webhook")][-2:]
        assert codes == ["CASE_OPENED", "CASE_ESCALATED"]
        assert case.id in {e.key.split(":")[1] for e in outbox.entries() if e.key[:5] == "case:"}
        # Enqueued twice (a replayed event): still one notice per channel.
        assert notifier.on_alert(raised[0]) == []
    finally:
        sub.close()
        await notifier.close()
        outbox.close()


async def test_a_receiver_that_is_down_gets_retries_then_a_dead_letter(
    watch: Watch, receivers: LoopbackReceivers, tmp_path: Path
) -> None:
    now = [sites.NOW]
    outbox = Outbox(tmp_path / "outbox.db")
    notifier = _notifier(receivers.base_url, outbox, now)
    try:
        await watch.refresh()
        await watch.check_all()
        [alert] = await watch.alerts.list(
            AlertFilter(subject="cam-low-2", statuses=(Status.ACTIVE_UNACK,)), limit=1
        )
        assert notifier.on_alert(AlertEvent(Change.RAISED, alert)) == ["hook", "sms"]
        receivers.down = True
        seen = len(receivers.received)
        # Attempt 1 fails: retried after 60 s, then 120 s, then 240 s; the fourth is the last.
        waits = []
        for _ in range(4):
            report = await notifier.deliver_due()
            assert report.sent == 0
            pending = outbox.entries("pending")
            if pending:
                waits.append((pending[0].next_at - now[0]).total_seconds())
                # Not due before its time: nothing is sent early.
                assert (await notifier.deliver_due()).retried == 0
                now[0] = pending[0].next_at
        assert waits == [60.0, 120.0, 240.0]
        assert len(receivers.received) - seen == 2 * 4
        dead = outbox.entries("dead")
        assert [(d.channel, d.attempts) for d in dead] == [("hook", 4), ("sms", 4)]
        assert all(d.last_error == "HTTP 503" for d in dead)
        assert dead[0].notice["code"] == "CAMERA_HEALTH", "the message is kept whole"
        # Back up: the dead letters are put back and delivered.
        receivers.down = False
        assert outbox.retry_dead(now[0]) == 2
        assert (await notifier.deliver_due()).sent == 2
        assert len(outbox.entries("sent")) == 2
        # A wrong secret is refused by the receiver (the signature is really checked).
        bad = _notifier(
            receivers.base_url, Outbox(tmp_path / "other.db"), now,
            channels=[{"name": "ding", "kind": "dingtalk",
                       "url": f"{receivers.base_url}/robot/send", "secret": "wrong"}],
            rules=[{"channels": ["ding"]}], max_attempts=1,
        )  # fmt: skip
        bad.on_alert(AlertEvent(Change.RAISED, alert))
        assert (await bad.deliver_due()).dead == 1
        [entry] = bad.outbox.entries("dead")
        assert entry.last_error is not None and "310000" in entry.last_error
        await bad.close()
        bad.outbox.close()
    finally:
        await notifier.close()
        outbox.close()


def _hook(notifier: Notifier):  # type: ignore[no-untyped-def]
    async def hook(case, event) -> None:  # type: ignore[no-untyped-def]
        notifier.on_case(case, event)

    return hook


async def test_the_hub_starts_notifications_from_its_config_file(
    watch: Watch, receivers: LoopbackReceivers, tmp_path: Path
) -> None:
    import asyncio
    import json

    from hub.monitoring.alerts_notify import start_notifier
    from hub.settings import load_settings

    config = tmp_path / "notify.json"
    config.write_text(json.dumps({
        "channels": [{"name": "hook", "kind": "webhook", "url": f"{receivers.base_url}/webhook",
                      "secret": SECRET}],
        "rules": [{"channels": ["hook"], "severities": ["CRITICAL"]}],
    }), encoding="utf-8")  # fmt: skip
    settings = load_settings(
        {"HUB_DATA_DIR": str(tmp_path / "data"), "HUB_ALERTS_NOTIFY_CONFIG": str(config)}
    )

    class Runtime:  # the telemetry runtime's task starter
        def __init__(self) -> None:
            self.tasks: list[asyncio.Future[object]] = []

        def start(self, name: str, work: Coroutine[object, object, object]) -> None:
            self.tasks.append(asyncio.ensure_future(work))

    runtime = Runtime()
    notifier = start_notifier(settings, watch, runtime)
    assert notifier is not None
    try:
        await asyncio.sleep(0)  # let the feed follower subscribe
        await watch.refresh()
        await watch.check_all()
        for _ in range(1200):  # wait on the condition: the CRITICAL camera alert delivered
            if receivers.accepted("/webhook"):
                break
            await asyncio.sleep(0.05)
        [got] = receivers.accepted("/webhook")
        assert got.body["code"] == "CAMERA_HEALTH" and got.body["severity"] == "CRITICAL"
        assert (tmp_path / "data" / "notify-outbox.db").exists()
    finally:
        for task in runtime.tasks:
            task.cancel()
        await notifier.close()
        notifier.outbox.close()

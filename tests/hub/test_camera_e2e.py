"""Cameras end to end: a generated video file registered as a camera over GraphQL is polled by
the hub (``hub serve`` in this process: embedded graph, SQLite telemetry, real uvicorn), and its
camera observations come back from ``project { monitoring }``; a bad mask polygon is refused
with ``BAD_USER_INPUT``; changing the configuration over GraphQL restarts the camera's runner.
Beside it, a camera whose file is gone and one whose file is damaged: their sensor status is
OFFLINE (it follows camera health; DEGRADED for a camera that finds every picture dark), and
the frame rate and frame age of each camera are in GraphQL (``camera { live }``) and in
``/metrics``; people counts say which detector made them."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.settings import load_settings
from tests.broker import free_port
from tests.connectors.test_camera import site_video
from tests.hub.metrics_text import sample
from tests.hub.test_monitoring import A, _seed, serving
from tests.vision.footage import WALKERS

pytestmark = pytest.mark.anyio

UPSERT = """
mutation ($items: [SensorInput!]!) {
  upsertSensors(items: $items) {
    created updated rejected items { outcome errors { code field message } }
  }
}"""

MONITORING = """
query ($code: String!, $from: DateTime!, $to: DateTime!) {
  project(code: $code) {
    monitoring(from: $from, to: $to, bucket: HOUR) {
      series(metric: "active_fraction") { sensorId metric count max }
      sensors { sensorId kind status latest { metric value unit }
                camera { url fps intervalS masks persons } }
    }
  }
}"""

HEALTH = """
query ($code: String!, $from: DateTime!, $to: DateTime!) {
  project(code: $code) {
    monitoring(from: $from, to: $to, bucket: DAY) {
      series(metric: "camera_health") { sensorId max }
    }
  }
}"""

LIVE = """
query ($id: String!) {
  sensor(key: $id) { status camera { live { fps frameAgeS offline lastError } } }
}"""


# The operator's API key, made with the hand-built graph (every call here holds it).
AUTH: dict[str, str] = {}


async def gql(address: str, query: str, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=30, headers=AUTH) as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def camera_input(video: Path, sensor_id: str = "cam-e2e", **config: Any) -> dict[str, Any]:
    return {
        "id": sensor_id,
        "kind": "CAMERA",
        "projectCode": A,
        "name": "东门塔吊",
        "camera": {"url": str(video), "fps": 5, "intervalS": 1, **config},
    }


async def test_a_registered_video_file_produces_camera_observations(tmp_path: Path) -> None:
    video = site_video(tmp_path / "site.avi", idle_s=1, busy_s=3)
    AUTH["Authorization"] = "Bearer " + await _seed(tmp_path / "data" / "graph")
    settings = load_settings(
        {
            "HUB_DATA_DIR": str(tmp_path / "data"),
            "HUB_HTTP_PORT": str(free_port()),
            "HUB_MQTT_INGEST": "false",
            "HUB_CAMERA_REFRESH_S": "0.2",
        }
    )
    async with serving(settings) as hub:
        bad: dict[str, Any] = {"masks": [[[0, 0], [2, 0], [1, 1]]]}
        refused = (await gql(hub, UPSERT, items=[camera_input(video, **bad)]))["upsertSensors"]
        assert refused["rejected"] == 1
        error = refused["items"][0]["errors"][0]
        assert error["code"] == "BAD_USER_INPUT" and "outside the frame" in error["message"]

        strip = [[0.7, 0.0], [0.85, 0.0], [0.85, 1.0], [0.7, 1.0]]
        damaged = tmp_path / "damaged.mp4"  # the first 4 KiB of a real clip: no decoder opens it
        damaged.write_bytes(WALKERS.read_bytes()[:4096])
        created = await gql(hub, UPSERT, items=[
            camera_input(video, masks=[strip]),
            camera_input(tmp_path / "gone.mp4", "cam-gone", offlineS=1),
            camera_input(damaged, "cam-damaged", offlineS=1),
            # Every picture is dark to it: DARK once that held for 10 s (confirmation).
            camera_input(video, "cam-dark", fps=1, darkLuma=250, brightLuma=255),
        ])  # fmt: skip
        assert created["upsertSensors"]["created"] == 4
        now = dt.datetime.now(dt.UTC)
        window = {
            "code": A,
            "from": (now - dt.timedelta(hours=1)).isoformat(),
            "to": (now + dt.timedelta(hours=1)).isoformat(),
        }
        deadline = time.monotonic() + 300  # a ceiling; idle: a few seconds
        while True:
            monitoring = (await gql(hub, MONITORING, **window))["project"]["monitoring"]
            series = [s for s in monitoring["series"] if s["sensorId"] == "cam-e2e"]
            # The file plays in real time and loops; wait for the machines' first seconds.
            if series and series[0]["count"] >= 3 and series[0]["max"] > 0.5:
                break
            assert time.monotonic() < deadline, monitoring
            await asyncio.sleep(0.3)
        cam = next(s for s in monitoring["sensors"] if s["sensorId"] == "cam-e2e")
        assert cam["kind"] == "CAMERA" and cam["status"] == "ONLINE"
        latest = {r["metric"]: r for r in cam["latest"]}
        assert {"active_fraction", "motion_area", "moving_objects", "machinery_share",
                "camera_health"} <= set(latest)  # fmt: skip
        assert latest["camera_health"]["value"] == 0.0 and latest["motion_area"]["unit"] == "share"
        assert cam["camera"] == {
            "url": str(video), "fps": 5.0, "intervalS": 1.0, "masks": [strip], "persons": False
        }  # fmt: skip
        live = (await gql(hub, LIVE, id="cam-e2e"))["sensor"]["camera"]["live"]
        assert live["fps"] > 0 and live["frameAgeS"] is not None and live["offline"] is False

        # The cameras with no picture: OFFLINE sensors, the reason in lastError (once their
        # capture processes tried: the watchdog says offline whether they started or not).
        deadline = time.monotonic() + 300  # a ceiling; idle: a second or two
        while True:
            sensors = {
                i: (await gql(hub, LIVE, id=i))["sensor"] for i in ("cam-gone", "cam-damaged")
            }
            health = (await gql(hub, HEALTH, **window))["project"]["monitoring"]["series"]
            if (
                all(s["status"] == "OFFLINE" and s["camera"]["live"]["lastError"]
                    for s in sensors.values())
                and {"sensorId": "cam-damaged", "max": 8.0} in health  # DAMAGED, then offline
            ):  # fmt: skip
                break
            assert time.monotonic() < deadline, (sensors, health)
            await asyncio.sleep(0.3)
        for sensor in sensors.values():
            live = sensor["camera"]["live"]
            assert live["offline"] is True and live["frameAgeS"] is None and live["fps"] == 0
        assert sensors["cam-gone"]["camera"]["live"]["lastError"].startswith("CAMERA_UNREACHABLE")
        assert sensors["cam-damaged"]["camera"]["live"]["lastError"].startswith("CAMERA_DAMAGED")

        async with httpx.AsyncClient(base_url=f"http://{hub}", timeout=30) as client:
            metrics = (await client.get("/metrics")).text  # loopback: no token needed
        assert sample(metrics, "hub_camera_fps", camera="cam-e2e") > 0
        assert sample(metrics, "hub_camera_offline", camera="cam-e2e") == 0
        assert 'hub_camera_frame_age_seconds{camera="cam-e2e"}' in metrics
        for dead in ("cam-gone", "cam-damaged"):
            assert sample(metrics, "hub_camera_offline", camera=dead) == 1
            assert f'hub_camera_frame_age_seconds{{camera="{dead}"}}' not in metrics

        # Turn person counting on: the hub restarts the camera with it, and persons appear.
        await gql(hub, UPSERT, items=[camera_input(video, masks=[strip], persons=True)])
        deadline = time.monotonic() + 300  # a ceiling; idle: a few seconds
        while True:
            monitoring = (await gql(hub, MONITORING, **window))["project"]["monitoring"]
            cam = next(s for s in monitoring["sensors"] if s["sensorId"] == "cam-e2e")
            if {"persons", "persons_detector"} <= {r["metric"] for r in cam["latest"]}:
                break
            assert time.monotonic() < deadline, cam
            await asyncio.sleep(0.3)
        assert cam["camera"]["persons"] is True
        # The API says which detector counted: 1, the SSDLite CNN (2 would be HOG, the fallback).
        latest = {r["metric"]: r for r in cam["latest"]}
        assert latest["persons_detector"]["value"] == 1.0
        assert latest["persons_detector"]["unit"] == "code"

        # The operator accepts the current view: the graph records it and unknown ids are skipped.
        rebased = await gql(
            hub, "mutation ($ids: [String!]!) { rebaselineCameras(ids: $ids) }",
            ids=["cam-e2e", "cam-unknown"],
        )  # fmt: skip
        assert rebased["rebaselineCameras"] == ["cam-e2e"]

        # A picture that cannot be trusted: the sensor is DEGRADED, neither ONLINE nor OFFLINE.
        query = '{ sensor(id: "cam-dark") { status latest { metric value } } }'
        deadline = time.monotonic() + 300  # a ceiling; idle: the 10 s confirmation has passed
        while (dark := (await gql(hub, query))["sensor"])["status"] != "DEGRADED":
            assert time.monotonic() < deadline, dark
            await asyncio.sleep(0.3)
        assert {"metric": "camera_health", "value": 3.0} in dark["latest"]  # DARK

"""GraphQL shapes of a camera's configuration (``graph_schema.model.CameraConfig``): the input
``upsertSensors`` takes and the object ``Sensor.camera`` returns."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from graph_schema.errors import InvalidInput
from graph_schema.model import CameraConfig
from graph_schema.statements.monitoring import REBASELINE_CAMERAS
from hub.api.access import WRITERS, allow
from hub.api.context import Context
from hub.api.enums import CameraSource
from hub.settings import mask_url

if TYPE_CHECKING:
    from connectors.camera.runner import CameraStats

Ctx = Info[Context, None]
_MAX_IDS = 500

_POLYGONS = "Polygons as [[x, y], ...] lists, x and y shares 0..1 of the frame's width and height."


@strawberry.input(description="A camera's stream, sampling, masks, zones and thresholds.")
class CameraConfigInput:
    url: str = strawberry.field(description="File path, rtsp://, http(s):// stream or snapshot.")
    source: CameraSource | None = strawberry.field(default=None, description="Default STREAM.")
    fps: float | None = strawberry.field(default=None, description="Frames analysed per second.")
    interval_s: float | None = strawberry.field(
        default=None, description="Seconds per camera observation (default 60)."
    )
    masks: list[list[list[float]]] | None = strawberry.field(
        default=None, description="Areas to ignore (roads, trees, sky). " + _POLYGONS
    )
    zones: list[list[list[float]]] | None = strawberry.field(
        default=None, description="Site areas watched (default: the whole frame). " + _POLYGONS
    )
    persons: bool | None = strawberry.field(
        default=None, description="Count people (a CNN detector on the CPU; HOG without it)."
    )
    persons_every_s: float | None = strawberry.field(
        default=None, description="Seconds between two looks for people (default 5)."
    )
    person_tile: int | None = strawberry.field(
        default=None,
        description="Side of the square tiles (px) the people detector looks at (default 320): "
        "smaller finds smaller people and costs more.",
    )
    motion_threshold: int | None = strawberry.field(
        default=None, description="Luma change (0-255) that counts as movement."
    )
    min_object: float | None = strawberry.field(
        default=None, description="Smallest moving object, share of the watched area."
    )
    large_object: float | None = strawberry.field(
        default=None, description="Objects this large (share) count as machinery."
    )
    min_active: float | None = strawberry.field(
        default=None, description="Moving share of the watched area that makes a frame active."
    )
    motion_on_s: float | None = strawberry.field(
        default=None, description="Activity before motion turns ON, s."
    )
    motion_off_s: float | None = strawberry.field(
        default=None, description="Calm before motion turns OFF, s."
    )
    dark_luma: float | None = strawberry.field(default=None, description="Mean luma below: dark.")
    bright_luma: float | None = strawberry.field(
        default=None, description="Mean luma above: overexposed."
    )
    blur_var: float | None = strawberry.field(
        default=None, description="Variance of the Laplacian below: blurred."
    )
    offline_s: float | None = strawberry.field(
        default=None, description="No frames for this long: offline, s."
    )
    moved_shift: float | None = strawberry.field(
        default=None, description="View shifted by this share of its width: MOVED (0.075)."
    )
    moved_angle: float | None = strawberry.field(
        default=None, description="View turned by this many degrees: MOVED (5)."
    )
    moved_zoom: float | None = strawberry.field(
        default=None, description="View zoomed in or out by this share: MOVED (0.15)."
    )


@strawberry.type(description="How a camera's capture is doing, as this hub process sees it.")
class CameraLive:
    fps: float = strawberry.field(description="Frames analysed per second over the last 10 s.")
    frame_age_s: float | None = strawberry.field(
        description="Seconds since its newest frame; null before the first."
    )
    offline: bool = strawberry.field(description="Reported offline and not back yet.")
    restarts: int = strawberry.field(description="Capture processes started after the first.")
    last_error: str | None = strawberry.field(
        description="The newest failure as CODE: message (e.g. CAMERA_UNREACHABLE, "
        "CAMERA_DAMAGED, CAMERA_HUNG)."
    )

    @classmethod
    def of(cls, stats: CameraStats) -> CameraLive:
        return cls(
            fps=round(stats.fps, 3),
            frame_age_s=None if stats.frame_age_s is None else round(stats.frame_age_s, 3),
            offline=stats.offline,
            restarts=stats.restarts,
            last_error=stats.last_error,
        )


@strawberry.type(description="A camera's configuration, as stored on its sensor.")
class CameraSettings:
    masked_url: strawberry.Private[str]

    @strawberry.field(
        description="Where frames come from, with its credentials masked (user password, "
        "credential-like query parameters); operators and admins only.",
        permission_classes=[allow(WRITERS)],
    )
    def url(self) -> str:
        return self.masked_url

    source: CameraSource = strawberry.field(description="Stream or snapshot.")
    fps: float = strawberry.field(description="Frames analysed per second.")
    interval_s: float = strawberry.field(description="Seconds per camera observation.")
    masks: list[list[list[float]]] = strawberry.field(description="Ignored areas. " + _POLYGONS)
    zones: list[list[list[float]]] = strawberry.field(description="Watched areas. " + _POLYGONS)
    persons: bool = strawberry.field(description="People are counted.")
    persons_every_s: float = strawberry.field(description="Seconds between looks for people.")
    person_tile: int = strawberry.field(description="Tile side the people detector looks at, px.")
    motion_threshold: int = strawberry.field(description="Luma change that counts as movement.")
    min_object: float = strawberry.field(description="Smallest object, share.")
    large_object: float = strawberry.field(description="Machinery from this share.")
    min_active: float = strawberry.field(description="Moving share that makes a frame active.")
    motion_on_s: float = strawberry.field(description="Activity before ON, s.")
    motion_off_s: float = strawberry.field(description="Calm before OFF, s.")
    dark_luma: float = strawberry.field(description="Dark below.")
    bright_luma: float = strawberry.field(description="Overexposed above.")
    blur_var: float = strawberry.field(description="Blurred below.")
    offline_s: float = strawberry.field(description="Offline after, s.")
    moved_shift: float = strawberry.field(description="MOVED from this shift, share of width.")
    moved_angle: float = strawberry.field(description="MOVED from this turn, degrees.")
    moved_zoom: float = strawberry.field(description="MOVED from this zoom, share.")

    sensor_id: strawberry.Private[str] = ""

    @strawberry.field(
        description="Frame rate, frame age and failures, from the hub process that polls this "
        "camera (null in a process that does not: a replica, or stand-alone workers)."
    )
    def live(self, info: Ctx) -> CameraLive | None:
        telemetry = info.context.telemetry
        fleet = telemetry.cameras if telemetry is not None else None
        if fleet is None or self.sensor_id not in fleet.runners:
            return None
        return CameraLive.of(fleet.runners[self.sensor_id][1].stats())

    @classmethod
    def from_json(cls, text: str, sensor_id: str = "") -> CameraSettings:
        config = CameraConfig.model_validate(json.loads(text))
        data = config.model_dump()
        data["masked_url"] = mask_url(data.pop("url"))
        data["source"] = CameraSource(config.source.value)
        return cls(**data, sensor_id=sensor_id)


async def rebaseline(info: Ctx, ids: list[str]) -> list[str]:
    """Mark the cameras' current views as right; returns the camera ids found."""
    if not ids or len(ids) > _MAX_IDS:
        raise InvalidInput(f"ids: give 1 to {_MAX_IDS} camera sensor ids")
    at = dt.datetime.now(dt.UTC).isoformat()
    rows = await info.context.store.run(
        REBASELINE_CAMERAS, {"ids": ids, "kind": "camera", "at": at}
    )
    found = [str(row["id"]) for row in rows]
    telemetry = info.context.telemetry
    fleet = telemetry.cameras if telemetry is not None else None
    if fleet is not None:  # this process polls them: at once; others at their next refresh
        for sensor_id in found:
            if sensor_id in fleet.runners:
                fleet.runners[sensor_id][1].rebaseline(at)
                fleet.baselines[sensor_id] = at
    return found


RebaselineIds = Annotated[
    list[str], strawberry.argument(description=f"Camera sensor ids, at most {_MAX_IDS}.")
]

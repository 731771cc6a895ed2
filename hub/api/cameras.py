"""GraphQL shapes of a camera's configuration (``graph_schema.model.CameraConfig``): the input
``upsertSensors`` takes and the object ``Sensor.camera`` returns."""

from __future__ import annotations

import json
from enum import Enum

import strawberry

from graph_schema.model import CameraConfig
from hub.settings import mask_url

_POLYGONS = "Polygons as [[x, y], ...] lists, x and y shares 0..1 of the frame's width and height."


@strawberry.enum(description="How a camera is read.")
class CameraSource(Enum):
    STREAM = strawberry.enum_value(
        "stream", description="Video file, RTSP, HTTP or MJPEG stream, read continuously."
    )
    SNAPSHOT = strawberry.enum_value("snapshot", description="JPEG snapshot URL, polled at fps.")


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


@strawberry.type(description="A camera's configuration, as stored on its sensor.")
class CameraSettings:
    url: str = strawberry.field(description="Where frames come from (a password is masked).")
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

    @classmethod
    def from_json(cls, text: str) -> CameraSettings:
        config = CameraConfig.model_validate(json.loads(text))
        data = config.model_dump()
        data["url"] = mask_url(config.url)
        data["source"] = CameraSource(config.source.value)
        return cls(**data)

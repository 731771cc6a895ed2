"""Cameras: site activity and camera health from video, as ``camera`` observations.

A camera sensor carries its configuration on its Sensor node (``graph_schema.model.
CameraConfig``: URL, sampling rate, masks, zones, thresholds). ``CameraAnalyser`` turns one
camera's sampled frames into readings through the pure functions of ``vision``:

- every ``interval_s`` (aligned to the clock), one reading of each of ``active_fraction``,
  ``motion_area``, ``moving_objects``, ``machines``, ``machinery_share``,
  ``activity_confidence``, ``camera_health`` and, when person counting is on, ``persons``,
  ``persons_confidence`` and ``persons_detector`` (``vision.activity`` says how each is
  aggregated), stamped with the interval's end;
- ``motion`` 1/0 when the debounced motion state switches ON/OFF;
- ``camera_health`` with the new code whenever the (debounced) health state changes.

Readings go through ``Pipeline.commit_observations`` like any other feed, so they reach the
telemetry store, ``project { monitoring }``, sensor status and ``monitoringFeed`` unchanged.
Daily rollups are means (the store knows no other fit): the daily ``motion`` mean is the share
of switch events that were ON, and a daily ``camera_health`` mean only says "not always OK";
the raw readings keep the exact codes.

Frame sources and the polling loop are in ``connectors.camera.source`` and
``connectors.camera.runner``.
"""

from __future__ import annotations

import math

from connectors.spec import DecoderOptions, FeedSpec, FusionRole
from graph_schema.model import CameraConfig
from ingest.model import MetricSpec, Reading, Rollup
from ingest.payloads import Decoder, ReadingDecoder
from vision.activity import Interval, MotionSwitch, SwitchConfig
from vision.health import CameraHealth, HealthConfig, HealthMonitor
from vision.motion import MotionConfig, MotionDetector
from vision.people import PersonDetector, SsdConfig, SsdPersonDetector, person_detector
from vision.regions import Polygon
from vision.types import Frame
from vision.view import ViewConfig

KIND = "camera"
METRICS: dict[str, MetricSpec] = {
    "active_fraction": MetricSpec("active_fraction", "share", 0.0, 1.0, Rollup.MEAN),
    "motion_area": MetricSpec("motion_area", "share", 0.0, 1.0, Rollup.MEAN),
    "moving_objects": MetricSpec("moving_objects", "count", 0.0, 10_000.0, Rollup.MEAN),
    "machines": MetricSpec("machines", "count", 0.0, 10_000.0, Rollup.MEAN),
    "machinery_share": MetricSpec("machinery_share", "share", 0.0, 1.0, Rollup.MEAN),
    "activity_confidence": MetricSpec("activity_confidence", "share", 0.0, 1.0, Rollup.MEAN),
    "persons": MetricSpec("persons", "person", 0.0, 10_000.0, Rollup.MEAN),
    "persons_confidence": MetricSpec("persons_confidence", "share", 0.0, 1.0, Rollup.MEAN),
    "persons_detector": MetricSpec("persons_detector", "code", 1.0, 2.0, Rollup.MEAN),
    "camera_health": MetricSpec("camera_health", "code", 0.0, 8.0, Rollup.MEAN),
    "motion": MetricSpec("motion", "state", 0.0, 1.0, Rollup.MEAN),
}
# Health is measured at most this often (stream time): sharpness costs more than motion.
HEALTH_EVERY_MS = 1000


def decoder(*, future_tolerance_s: float = 300.0, max_age_s: float | None = None) -> ReadingDecoder:
    """The MQTT payload decoder for ``hub/v1/camera/<sensor_id>`` (cameras analysed elsewhere)."""
    return ReadingDecoder(KIND, METRICS, future_tolerance_s=future_tolerance_s, max_age_s=max_age_s)


def _polygons(polys: list[list[list[float]]]) -> tuple[Polygon, ...]:
    return tuple(tuple((float(x), float(y)) for x, y in poly) for poly in polys)


def motion_config(config: CameraConfig) -> MotionConfig:
    return MotionConfig(
        threshold=config.motion_threshold,
        min_object=config.min_object,
        large_object=config.large_object,
        min_active=config.min_active,
        masks=_polygons(config.masks),
        zones=_polygons(config.zones),
    )


def health_config(config: CameraConfig) -> HealthConfig:
    view = ViewConfig(shift=config.moved_shift, angle=config.moved_angle, zoom=config.moved_zoom)
    return HealthConfig(
        dark_luma=config.dark_luma,
        bright_luma=config.bright_luma,
        blur_var=config.blur_var,
        view=view,
    )


def _reading(sensor_id: str, ts_ms: int, metric: str, value: float) -> Reading:
    return Reading(sensor_id, ts_ms, metric, float(value), METRICS[metric].unit)


def _people(config: CameraConfig) -> PersonDetector | None:
    if not config.persons:
        return None
    detector = person_detector()
    if isinstance(detector, SsdPersonDetector):
        detector.config = SsdConfig(tile=config.person_tile)
    return detector


class CameraAnalyser:
    """One camera's frames in, readings out. Pure computation: no I/O, no clock of its own."""

    def __init__(self, sensor_id: str, config: CameraConfig) -> None:
        self.sensor_id = sensor_id
        self.config = config
        self.motion = MotionDetector(motion_config(config))
        self.health = HealthMonitor(health_config(config))
        self.switch = MotionSwitch(SwitchConfig(config.motion_on_s, config.motion_off_s))
        self.people = _people(config)
        self._interval_ms = round(config.interval_s * 1000)
        self._persons_ms = round(config.persons_every_s * 1000)
        self._interval = Interval()
        self._interval_end: int | None = None
        self._next_health = -math.inf
        self._next_persons = -math.inf
        self.frames = 0

    def frame(self, ts_ms: int, frame: Frame) -> list[Reading]:
        """Analyse one sampled frame taken at ``ts_ms``."""
        out = self._roll(ts_ms)
        self.frames += 1
        motion = self.motion.detect(frame)
        switched = self.switch.update(ts_ms, motion.active)
        if switched is not None:
            out.append(_reading(self.sensor_id, ts_ms, "motion", 1.0 if switched else 0.0))
        if ts_ms >= self._next_health or motion.scene_change:
            self._next_health = ts_ms + HEALTH_EVERY_MS
            _, changed = self.health.check(ts_ms, frame, motion.luma)
            if changed is not None:
                out = self._health_event(out, ts_ms, changed)
        healthy = self.health.state is CameraHealth.OK
        self._interval.add(motion, healthy=healthy)
        if self.people is not None and healthy and ts_ms >= self._next_persons:
            self._next_persons = ts_ms + self._persons_ms
            self._interval.look(self.people.detect(frame, motion.boxes), self.people.kind)
        return out

    def offline(self, ts_ms: int) -> list[Reading]:
        """The source has given no frame for ``offline_s``: an offline event (once)."""
        return self._interrupted(ts_ms, self.health.offline(ts_ms))

    def damaged(self, ts_ms: int) -> list[Reading]:
        """The file or stream is damaged: a damaged event (once)."""
        return self._interrupted(ts_ms, self.health.damaged(ts_ms))

    def rebaseline(self, ts_ms: int) -> list[Reading]:
        """An operator accepted the camera's current view: MOVED clears, a new reference."""
        changed = self.health.rebaseline()
        return self._health_event([], ts_ms, changed) if changed is not None else []

    def _interrupted(self, ts_ms: int, changed: CameraHealth | None) -> list[Reading]:
        out = self._roll(ts_ms)
        self.motion.reset()
        self._next_health = -math.inf
        if changed is not None:
            out.append(_reading(self.sensor_id, ts_ms, "camera_health", changed))
        if self.switch.on:
            self.switch = MotionSwitch(self.switch.config)
            out.append(_reading(self.sensor_id, ts_ms, "motion", 0.0))
        return out

    def _health_event(self, out: list[Reading], ts_ms: int, state: CameraHealth) -> list[Reading]:
        # On an interval's end the event replaces the interval's reading of the state: one
        # reading per sensor, metric and time is all the store keeps.
        out = [r for r in out if (r.metric, r.ts_ms) != ("camera_health", ts_ms)]
        out.append(_reading(self.sensor_id, ts_ms, "camera_health", state))
        return out

    def flush(self) -> list[Reading]:
        """Report the interval in progress now (the end of a file), stamped with its end."""
        if self._interval_end is None:
            return []
        return self._report(self._interval_end)

    def _roll(self, ts_ms: int) -> list[Reading]:
        out: list[Reading] = []
        if self._interval_end is not None and ts_ms >= self._interval_end:
            out = self._report(self._interval_end)
        if self._interval_end is None:
            self._interval_end = (ts_ms // self._interval_ms + 1) * self._interval_ms
        return out

    def _report(self, end_ms: int) -> list[Reading]:
        metrics = self._interval.metrics()
        out = [_reading(self.sensor_id, end_ms, name, value) for name, value in metrics.items()]
        interrupted = self.health.state in (CameraHealth.OFFLINE, CameraHealth.DAMAGED)
        if metrics or interrupted:
            out.append(_reading(self.sensor_id, end_ms, "camera_health", self.health.state))
        self._interval = Interval()
        self._interval_end = None
        return out


def _decoders(o: DecoderOptions) -> dict[str, Decoder]:
    return {KIND: decoder(future_tolerance_s=o.future_tolerance_s, max_age_s=o.max_age_s)}


FEED = FeedSpec(KIND, "Site video camera.", "视频", None, METRICS, _decoders, FusionRole.SITE)

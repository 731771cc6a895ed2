"""Motion ON/OFF debounce and interval metrics."""

from __future__ import annotations

import pytest

from vision.activity import Interval, MotionSwitch, SwitchConfig
from vision.motion import MotionResult
from vision.people import DetectorKind, Person

QUIET = MotionResult(0.0, 0, 0.0, (), False, False, None)  # type: ignore[arg-type]


def busy(area: float, objects: int, large: float) -> MotionResult:
    flags = (True,) + (False,) * (objects - 1)  # the first object is a machine
    return MotionResult(area, objects, large, (), True, False, None, large=flags)  # type: ignore[arg-type]


def test_on_needs_sustained_activity_and_off_needs_sustained_calm() -> None:
    switch = MotionSwitch(SwitchConfig(on_s=1.0, off_s=5.0))
    events = []
    # 500 ms frames: one active blip at 0 (no ON); activity from 1.5 s to 4 s (ON at 2.5 s);
    # calm with one blip at 7.5 s, which holds it ON: OFF 5 s after the blip, not at 9 s.
    pattern = [True, False, False] + [True] * 6 + [False] * 6 + [True] + [False] * 12
    for i, active in enumerate(pattern):
        switched = switch.update(i * 500, active)
        if switched is not None:
            events.append((i * 500, switched))
    assert events == [(2500, True), (7500 + 5000, False)]


def test_interval_metrics() -> None:
    interval = Interval()
    assert interval.metrics() == {}
    for _ in range(3):
        interval.add(QUIET)
    interval.add(busy(0.02, 2, 0.5))
    metrics = interval.metrics()
    assert metrics == {
        "active_fraction": 0.25,
        "motion_area": pytest.approx(0.005),
        "moving_objects": 0.5,
        "machines": 0.25,
        "machinery_share": pytest.approx(0.5),
        "activity_confidence": 1.0,
    }
    interval.add(QUIET, healthy=False)
    assert interval.metrics()["activity_confidence"] == 0.8
    people = [Person((0, 0, 10, 30), 0.9), Person((20, 0, 30, 30), 0.7), Person((0, 0, 1, 1), 0.5)]
    interval.look(people[:2], DetectorKind.SSDLITE)
    interval.look(people[2:], DetectorKind.SSDLITE)
    metrics = interval.metrics()
    assert metrics["persons"] == 2.0 and metrics["persons_confidence"] == pytest.approx(0.8)
    assert metrics["persons_detector"] == float(DetectorKind.SSDLITE)

"""Camera health on synthetic streams: frozen, dark, overexposed, blurred, covered and turned
cameras are flagged after the confirmation time, a healthy one never is. Real footage and its
variants (pans, rotations, zooms, covered lenses, black frames) are in test_footage.py."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vision.health import CameraHealth, HealthConfig, HealthMonitor, sharpness
from vision.motion import MotionDetector
from vision.synthetic import Mover, Scene
from vision.types import Frame

STEP_MS = 500  # 2 frames per second


def watch(frames: Callable[[int], Frame], count: int, monitor: HealthMonitor) -> list[CameraHealth]:
    """Feed ``count`` frames; return the state after each."""
    detector = MotionDetector()
    states = []
    for i in range(count):
        frame = frames(i)
        motion = detector.detect(frame)
        monitor.check(i * STEP_MS, frame, motion.luma)
        states.append(monitor.state)
    return states


def test_a_healthy_busy_camera_stays_ok() -> None:
    scene = Scene(seed=1, movers=[Mover(40, 200, 80, 60, 4, 1)])
    states = watch(lambda i: scene.frame(), 200, HealthMonitor())
    assert set(states) == {CameraHealth.OK}


def test_a_frozen_stream_is_flagged_after_confirmation() -> None:
    scene = Scene(seed=2)
    still = scene.frame()
    states = watch(lambda i: scene.frame() if i < 20 else still, 60, HealthMonitor())
    assert states[19] is CameraHealth.OK
    # Repeating since frame 20 (10 s); confirmed 10 s later.
    assert states[39] is CameraHealth.OK and states[41] is CameraHealth.FROZEN
    assert states[-1] is CameraHealth.FROZEN


def test_dark_and_overexposed() -> None:
    scene = Scene(seed=3)
    # Nightfall over 2 min: dark, not tampered, because it came slowly.
    states = watch(lambda i: scene.frame(gain=max(0.05, 1 - i / 240)), 300, HealthMonitor())
    assert states[-1] is CameraHealth.DARK and CameraHealth.TAMPERED not in states
    glare = Scene(seed=3)
    states = watch(lambda i: glare.frame(gain=1.0 if i < 10 else 3.0), 60, HealthMonitor())
    assert states[-1] is CameraHealth.OVEREXPOSED


def test_blurred_by_the_variance_of_the_laplacian() -> None:
    scene = Scene(seed=4)
    sharp, blurred = sharpness(scene.frame()), sharpness(scene.frame(blur=4))
    assert sharp > 10 * blurred
    assert blurred < HealthConfig().blur_var < sharp
    states = watch(lambda i: scene.frame(blur=0 if i < 10 else 4), 60, HealthMonitor())
    assert states[9] is CameraHealth.OK and states[-1] is CameraHealth.BLURRED


def test_a_covered_lens_is_tampering() -> None:
    scene = Scene(seed=5)
    # A hand over the lens: dark and flat, still with sensor noise.
    covered = Scene.showing(Scene(seed=5).frame(gain=0.08, blur=8), noise=1.0)

    def frames(i: int) -> Frame:
        return scene.frame() if i < 20 else covered.frame()

    states = watch(frames, 60, HealthMonitor())
    assert states[19] is CameraHealth.OK and states[-1] is CameraHealth.TAMPERED


def test_a_camera_turned_to_another_view_is_moved_until_rebaselined() -> None:
    scene, other = Scene(seed=6), Scene(seed=60)
    monitor = HealthMonitor(HealthConfig(confirm_s=5))
    # 40 s of the right view (the reference is taken from it), then another view for 40 s.
    states = watch(lambda i: scene.frame() if i < 80 else other.frame(), 160, monitor)
    assert states[79] is CameraHealth.OK and monitor.reference.ready
    assert CameraHealth.MOVED in states[80:100]
    assert set(states[states.index(CameraHealth.MOVED) :]) == {CameraHealth.MOVED}
    assert monitor.rebaseline() is CameraHealth.OK
    detector = MotionDetector()
    for i in range(160, 200):
        frame = other.frame()
        monitor.check(i * STEP_MS, frame, detector.detect(frame).luma)
    assert monitor.state is CameraHealth.OK and monitor.reference.ready


def test_black_frames_are_dark_not_frozen_and_a_lens_covered_from_the_start_is_tampering() -> None:
    black = np.zeros((360, 640, 3), np.uint8)
    assert watch(lambda i: black, 60, HealthMonitor())[-1] is CameraHealth.DARK
    bag = Scene.showing(np.full((360, 640, 3), (90, 110, 120), np.uint8), noise=1.5)
    assert watch(lambda i: bag.frame(), 60, HealthMonitor())[-1] is CameraHealth.TAMPERED


def test_offline_is_immediate_and_frames_bring_it_back() -> None:
    monitor, scene, detector = HealthMonitor(), Scene(seed=7), MotionDetector()
    assert monitor.offline(0) is CameraHealth.OFFLINE
    assert monitor.offline(500) is None  # reported once
    frame = scene.frame()
    _, changed = monitor.check(1000, frame, detector.detect(frame).luma)
    assert changed is CameraHealth.OK

"""Camera health on synthetic streams: frozen, dark, overexposed, blurred, covered and turned
cameras are flagged after the confirmation time, a healthy one never is."""

from __future__ import annotations

from collections.abc import Callable

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
        monitor.check(i * STEP_MS, frame, motion.luma, scene_change=motion.scene_change)
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


def test_a_turned_camera_is_tampering_for_a_while() -> None:
    scene, other = Scene(seed=6), Scene(seed=60)
    config = HealthConfig(tamper_hold_s=30, confirm_s=5)
    states = watch(lambda i: scene.frame() if i < 20 else other.frame(), 160, HealthMonitor(config))
    assert states[19] is CameraHealth.OK
    assert CameraHealth.TAMPERED in states[20:40]
    assert states[-1] is CameraHealth.OK  # the new view is the normal one after the hold


def test_offline_is_immediate_and_frames_bring_it_back() -> None:
    monitor, scene, detector = HealthMonitor(), Scene(seed=7), MotionDetector()
    assert monitor.offline(0) is CameraHealth.OFFLINE
    assert monitor.offline(500) is None  # reported once
    frame = scene.frame()
    _, changed = monitor.check(1000, frame, detector.detect(frame).luma)
    assert changed is CameraHealth.OK

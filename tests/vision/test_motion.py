"""Motion on synthetic frames with known ground truth: objects counted once they persist, masks
and zones obeyed, slow light changes ignored, a sudden whole-scene change recalibrates instead
of moving, one-frame flashes and thin streaks are not objects. Real footage and its weather,
light and lens variants are in test_footage.py."""

from __future__ import annotations

import cv2

from vision.motion import MotionConfig, MotionDetector, MotionResult
from vision.synthetic import Mover, Scene


def settle(scene: Scene, detector: MotionDetector, frames: int = 30) -> None:
    for _ in range(frames):
        assert not detector.detect(scene.frame()).active  # a still scene is still


def run(scene: Scene, detector: MotionDetector, frames: int) -> list[MotionResult]:
    return [detector.detect(scene.frame()) for _ in range(frames)]


def test_two_moving_objects_are_detected_and_counted() -> None:
    scene, detector = Scene(seed=1), MotionDetector()
    settle(scene, detector)
    scene.movers = [Mover(40, 250, 50, 40, 4, 0), Mover(420, 40, 30, 30, -3, 2)]
    counts = []
    for i in range(60):
        centres = [(m.x + m.w / 2, m.y + m.h / 2) for m in scene.movers]  # as drawn next
        result = detector.detect(scene.frame())
        assert result.active == (i >= 2), i  # an object once seen in three frames running
        if i < 2:
            continue
        counts.append(result.objects)
        # Boxes are in the original frame's pixels, around each mover.
        for cx, cy in centres:
            assert any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in result.boxes)
    assert counts.count(2) >= 53, counts


def test_large_objects_count_as_machinery_small_ones_do_not() -> None:
    scene, detector = Scene(seed=2), MotionDetector()
    settle(scene, detector)
    scene.movers = [Mover(20, 200, 160, 100, 5, 0)]  # an excavator-sized mover
    big = run(scene, detector, 30)
    assert min(r.large_area for r in big[5:]) > 0.8  # its leading edge may show apart
    scene2, detector2 = Scene(seed=2), MotionDetector()
    settle(scene2, detector2)
    scene2.movers = [Mover(20, 200, 12, 30, 3, 0)]  # a worker
    small = run(scene2, detector2, 30)
    assert all(r.objects == 1 and r.large_area == 0.0 for r in small[5:])


def test_motion_inside_a_mask_is_ignored() -> None:
    left_half = ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0))
    scene, detector = Scene(seed=3), MotionDetector(MotionConfig(masks=(left_half,)))
    settle(scene, detector)
    scene.movers = [Mover(30, 150, 60, 50, 0, 3)]  # moves up and down in the left half only
    assert not any(r.active or r.objects for r in run(scene, detector, 60))
    scene.movers.append(Mover(450, 150, 60, 50, 0, -3))  # right half: seen
    assert all(r.objects == 1 for r in run(scene, detector, 30)[2:])


def test_motion_outside_the_zones_is_ignored_and_shares_are_of_the_zone() -> None:
    right_half = ((0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0))
    zoned = MotionDetector(MotionConfig(zones=(right_half,)))
    whole = MotionDetector()
    scene = Scene(seed=4)
    for _ in range(30):
        frame = scene.frame()
        zoned.detect(frame)
        whole.detect(frame)
    scene.movers = [Mover(450, 150, 60, 50, 0, 3), Mover(30, 150, 60, 50, 0, 3)]
    areas = []
    for i in range(30):
        frame = scene.frame()
        z, w = zoned.detect(frame), whole.detect(frame)
        if i < 2:
            continue  # not confirmed yet
        assert z.objects == 1 and w.objects == 2
        areas.append((z.area, w.area))
    # The zone is half the frame and holds half the moving area: the same share.
    for z_area, w_area in areas[5:]:
        assert 0.7 < z_area / w_area < 1.4


def test_a_slow_brightness_ramp_does_not_trigger() -> None:
    scene, detector = Scene(seed=5), MotionDetector()
    settle(scene, detector, 10)
    # Dusk and dawn: brightness falls to 40 % and rises to 160 % over 10 minutes at 2 fps.
    for i in range(1200):
        gain = 1.0 - 0.6 * i / 1200 if i < 600 else 0.4 + 1.2 * (i - 600) / 600
        assert not detector.detect(scene.frame(gain=gain)).active, i


def test_a_sudden_whole_scene_change_recalibrates() -> None:
    scene, detector = Scene(seed=6), MotionDetector()
    settle(scene, detector)
    other = Scene(seed=99)  # the camera was turned to look elsewhere
    first = detector.detect(other.frame())
    assert first.scene_change and not first.active
    assert not any(r.active for r in run(other, detector, 20))


def test_what_flashes_for_one_frame_or_is_a_thin_line_is_not_an_object() -> None:
    scene, detector = Scene(seed=7), MotionDetector()
    settle(scene, detector)
    scene.movers = [Mover(300, 100, 40, 40, 0, 0)]  # a lamp that blinks on every third frame
    for i in range(30):
        frame = scene.frame() if i % 3 == 0 else Scene(seed=7).background()
        assert not detector.detect(frame).active, i
    # A thin line (a swaying wire, a streak) sweeping across: no substance, no object.
    scene.movers = []
    for i in range(30):
        frame = scene.frame()
        cv2.line(frame, (100 + 6 * i, 0), (110 + 6 * i, 300), (250, 250, 250), 2)
        assert not detector.detect(frame).objects, i

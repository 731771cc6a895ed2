"""People counted on real footage: the SSDLite detector against hand counts of 10 frames of a
real clip (tests/footage/people/counts.json), HOG as the fallback, tiles that cover any frame."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from vision import people
from vision.motion import MotionDetector
from vision.people import (
    DetectorKind,
    HogPersonDetector,
    ModelUnavailable,
    Person,
    SsdPersonDetector,
    person_detector,
    tiles,
)
from vision.synthetic import Mover, Scene

DATA = Path(__file__).parent.parent / "footage" / "people"


def score(found: list[Person], truth: list[list[int]], ignore: list[list[int]]) -> tuple[int, int]:
    """(hits, false alarms): a detection hits the first uncounted person whose point it holds;
    one that holds an ignored person and nobody uncounted is neither; any other is a false
    alarm, a second box on someone counted already too (it would count them twice)."""
    used: set[int] = set()
    hits = false = 0
    for p in sorted(found, key=lambda p: -p.score):
        x0, y0, x1, y1 = p.box
        inside = [i for i, (x, y) in enumerate(truth) if x0 <= x <= x1 and y0 <= y <= y1]
        free = [i for i in inside if i not in used]
        if free:
            used.add(free[0])
            hits += 1
        elif not any(x0 <= x <= x1 and y0 <= y <= y1 for x, y in ignore):
            false += 1
    return hits, false


def test_people_on_hand_counted_real_frames_recall_70_at_precision_90() -> None:
    counts = json.loads((DATA / "counts.json").read_text())["frames"]
    detector = SsdPersonDetector()
    hits = false = total = 0
    per_frame = {}
    for name, truth in counts.items():
        frame = cv2.imread(str(DATA / name))
        assert frame is not None, name
        found = detector.detect(frame)
        h, f = score(found, truth["people"], truth["ignore"])
        hits, false, total = hits + h, false + f, total + truth["count"]
        per_frame[name] = (truth["count"], len(found))
    assert total == 60
    recall, precision = hits / total, hits / (hits + false)
    assert recall >= 0.7 and precision >= 0.9, (recall, precision, per_frame)


def test_hog_finds_few_of_the_same_people() -> None:
    # The fallback, on the regions that moved: what the detector replaced, kept for scale.
    clip = cv2.VideoCapture(str(DATA.parent / "video" / "vtest_walkers.mp4"))
    motion, hog = MotionDetector(), HogPersonDetector()
    counts = []
    for _ in range(60):
        ok, frame = clip.read()
        assert ok
        boxes = motion.detect(frame).boxes
        counts.append(len(hog.detect(frame, boxes)))
    clip.release()
    assert max(counts[20:]) <= 4  # 5-7 people walk through these frames


def test_hog_counts_people_in_motion_regions_and_not_machinery() -> None:
    scene, motion, hog = Scene(seed=1), MotionDetector(), HogPersonDetector()
    for _ in range(20):
        motion.detect(scene.frame())
    scene.movers = [
        Mover(100, 120, 60, 160, 3, 0, colour=(20, 20, 20), person=True),
        Mover(420, 110, 60, 160, -3, 0, colour=(40, 30, 30), person=True),
        Mover(230, 10, 140, 70, 2, 0, colour=(0, 200, 250)),  # a machine
    ]
    counts = []
    for _ in range(20):
        frame = scene.frame()
        counts.append(len(hog.detect(frame, motion.detect(frame).boxes)))
    assert max(counts) == 2 and counts.count(2) >= 15, counts
    assert hog.detect(scene.frame(), []) == []  # nothing moved: HOG does not look


def test_the_detector_falls_back_to_hog_without_its_model(monkeypatch: pytest.MonkeyPatch) -> None:
    assert person_detector().kind is DetectorKind.SSDLITE
    monkeypatch.setattr(people, "model_path", lambda: None)
    with pytest.raises(ModelUnavailable):
        SsdPersonDetector()
    assert person_detector().kind is DetectorKind.HOG
    with pytest.raises(ModelUnavailable):
        person_detector(DetectorKind.SSDLITE)


@pytest.mark.parametrize(("width", "height"), [(768, 576), (1280, 720), (640, 360), (200, 120)])
def test_tiles_cover_the_frame_with_overlap(width: int, height: int) -> None:
    grid = tiles(width, height, 320, 0.15)
    covered = set()
    for x, y, w, h in grid:
        assert x >= 0 and x + w <= width and y >= 0 and y + h <= height
        covered |= {(cx, cy) for cx in range(x, x + w, 8) for cy in range(y, y + h, 8)}
    points = [(cx, cy) for cx in range(0, width - 8, 8) for cy in range(0, height - 8, 8)]
    assert all(p in covered for p in points)
    expected = {(768, 576): 6, (1280, 720): 15, (640, 360): 2, (200, 120): 2}
    assert len(grid) == expected[(width, height)]

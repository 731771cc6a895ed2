"""People counted with OpenCV's HOG detector, only where something moved."""

from __future__ import annotations

from vision.motion import MotionDetector
from vision.people import PeopleDetector
from vision.synthetic import Mover, Scene


def test_two_walking_people_are_counted_and_machinery_is_not_a_person() -> None:
    scene, motion, people = Scene(seed=1), MotionDetector(), PeopleDetector()
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
        result = motion.detect(frame)
        assert result.objects >= 3  # a machine may show as more than one blob
        counts.append(people.count(frame, result.boxes))
    assert max(counts) == 2 and counts.count(2) >= 15, counts


def test_no_motion_no_detection() -> None:
    scene = Scene(seed=2, movers=[Mover(100, 120, 60, 160, 0, 0, colour=(20, 20, 20), person=True)])
    frame = scene.frame()
    assert PeopleDetector().count(frame, []) == 0  # a standing person with no motion box

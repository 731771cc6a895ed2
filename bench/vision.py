"""Camera analysis speed: frames analysed per second per core at 640x360, decoding excluded
(``python -m bench vision``).

Frames come from ``vision.synthetic`` (a textured site with two machines and two walking
people, sensor noise), generated before timing. OpenCV runs single-threaded
(``cv2.setNumThreads(1)``) so the figure is per core: frames / CPU seconds of this process.
Paths: the motion detector alone (Frigate's figure of merit); the whole per-camera analyser
(motion, debounce, interval metrics, health once a second of stream time at 5 fps); motion
plus HOG people counting on the motion regions of every frame; the analyser with person
counting on, as it runs (HOG on motion regions once a second of stream time); and HOG over the
whole frame, for scale.
The share of the machine's CPU that other processes used while timing is reported, as in
``bench.ingest``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import cv2

from bench.ingest import TICK, _machine_ticks, _proc_ticks
from bench.registry import Figures, benchmark
from connectors.camera import CameraAnalyser
from graph_schema.model import CameraConfig
from vision.motion import MotionDetector
from vision.people import HogConfig, HogPersonDetector
from vision.synthetic import Mover, Scene
from vision.types import Frame

FRAMES = 400
STEP_MS = 200  # 5 fps


def _frames() -> list[Frame]:
    scene = Scene(seed=7)
    for _ in range(5):
        scene.frame()
    scene.movers = [
        Mover(20, 220, 150, 90, 4, 0),
        Mover(500, 30, 90, 60, -2, 1, colour=(60, 200, 240)),
        Mover(120, 100, 50, 130, 2, 0, colour=(20, 20, 20), person=True),
        Mover(400, 150, 50, 130, -2, 0, colour=(40, 30, 30), person=True),
    ]
    return [scene.frame() for _ in range(FRAMES)]


def _timed(name: str, frames: list[Frame], work: Callable[[int, Frame], object]) -> Figures:
    for i, frame in enumerate(frames[:20]):  # warm caches and the background
        work(i * STEP_MS, frame)
    me0, machine0, t0 = _proc_ticks(os.getpid()), _machine_ticks(), time.monotonic()
    cpu0 = time.process_time()
    rounds = 0
    while time.process_time() - cpu0 < 3.0:
        for i, frame in enumerate(frames):
            work((rounds * len(frames) + i) * STEP_MS, frame)
        rounds += 1
    cpu = time.process_time() - cpu0
    span = time.monotonic() - t0
    me1, machine1 = _proc_ticks(os.getpid()), _machine_ticks()
    other = max(0.0, (machine1 - machine0) - (me1 - me0)) / TICK / span / (os.cpu_count() or 1)
    count = rounds * len(frames)
    return {
        f"{name}: frames/s per core": round(count / cpu),
        f"{name}: ms per frame": round(cpu / count * 1000, 3),
        f"{name}: CPU other processes (share of the machine)": f"{other:.1%}",
    }


@benchmark("vision", "camera frames analysed per second per core at 640x360, decoding excluded")
async def run() -> Figures:
    cv2.setNumThreads(1)
    frames = _frames()
    figures: Figures = {"frames": f"{len(frames)} synthetic 640x360 BGR, 2 machines, 2 people"}
    detector = MotionDetector()
    figures |= _timed("motion", frames, lambda ts, f: detector.detect(f))
    plain = CameraAnalyser("bench", CameraConfig(url="bench.avi", fps=5))
    figures |= _timed("analyser", frames, plain.frame)
    hog = HogPersonDetector()

    def every_frame(ts: int, frame: Frame) -> int:
        return len(hog.detect(frame, detector.detect(frame).boxes))

    figures |= _timed("motion + HOG on motion regions, every frame", frames, every_frame)
    people = CameraAnalyser("bench", CameraConfig(url="bench.avi", fps=5, persons=True))
    figures |= _timed("analyser with persons (HOG once a second)", frames, people.frame)
    hog = HogPersonDetector(HogConfig(max_height=360))
    whole = [(0, 0, 640, 360)]
    figures |= _timed("HOG on the whole frame", frames[:40], lambda t, f: len(hog.detect(f, whole)))
    return figures

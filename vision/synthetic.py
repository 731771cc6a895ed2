"""Synthetic site scenes with known ground truth, for tests, benchmarks and the demo.

A ``Scene`` is a textured static background (ground, sheds, a crane mast) plus movers that
travel in straight lines and bounce off the frame's edges. Frames carry a little sensor noise,
as real ones do, so a still scene is not a frozen one. Nothing here reads or writes files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from vision.types import Frame

_POOL = 16


@dataclass(slots=True)
class Mover:
    """A filled rectangle (machinery) or a person silhouette moving at (vx, vy) px/frame."""

    x: float
    y: float
    w: int
    h: int
    vx: float
    vy: float
    colour: tuple[int, int, int] = (30, 160, 230)
    person: bool = False


@dataclass(slots=True)
class Scene:
    width: int = 640
    height: int = 360
    seed: int = 0
    noise: float = 2.0
    movers: list[Mover] = field(default_factory=list)
    _background: Frame | None = None
    _rng: np.random.Generator | None = None
    _noise_pool: list[np.ndarray] = field(default_factory=lambda: [np.zeros(0)])
    _noise_at: int = 0

    @classmethod
    def showing(cls, picture: Frame, *, noise: float = 2.0, seed: int = 0) -> Scene:
        """A scene whose background is ``picture`` (e.g. a covered lens), with sensor noise."""
        scene = cls(picture.shape[1], picture.shape[0], seed=seed, noise=noise)
        scene._background = picture
        return scene

    def background(self) -> Frame:
        if self._background is None:
            rng = np.random.default_rng(self.seed)
            img: Frame = np.full((self.height, self.width, 3), (96, 110, 120), np.uint8)
            # Ground texture: fine grain (detail to lose when blurred) over coarse patches of
            # soil, gravel and shade (so two sites differ everywhere, as real ones do).
            fine = rng.integers(0, 60, (self.height, self.width), dtype=np.uint8)
            coarse = rng.integers(0, 100, (self.height // 24 + 1, self.width // 24 + 1), np.uint8)
            patches = cv2.resize(coarse, (self.width, self.height), interpolation=cv2.INTER_CUBIC)
            tex = cv2.add(cv2.GaussianBlur(fine, (3, 3), 0), patches)
            img = cv2.add(img, cv2.merge([tex, tex, tex]))
            for _ in range(8):
                x, y = int(rng.integers(0, self.width - 80)), int(rng.integers(0, self.height - 60))
                w, h = int(rng.integers(30, 120)), int(rng.integers(20, 90))
                shade = tuple(int(v) for v in rng.integers(40, 220, 3))
                cv2.rectangle(img, (x, y), (x + w, y + h), shade, -1)
            cv2.line(img, (self.width // 5, 0), (self.width // 5, self.height), (20, 20, 20), 3)
            self._background = img
        return self._background

    def frame(self, *, gain: float = 1.0, blur: int = 0) -> Frame:
        """The next frame: movers drawn, then advanced; ``gain`` scales brightness."""
        img = self.background().copy()
        for m in self.movers:
            _draw(img, m)
            m.x += m.vx
            m.y += m.vy
            if not 0 <= m.x <= self.width - m.w:
                m.vx = -m.vx
                m.x = min(max(m.x, 0), self.width - m.w)
            if not 0 <= m.y <= self.height - m.h:
                m.vy = -m.vy
                m.y = min(max(m.y, 0), self.height - m.h)
        if gain != 1.0:
            img = cv2.convertScaleAbs(img, alpha=gain)
        if blur:
            img = cv2.GaussianBlur(img, (0, 0), blur)
        if self.noise:
            img = cv2.add(img, self._jitter(img.shape), dtype=cv2.CV_8U)
        return img

    def _jitter(self, shape: tuple[int, ...]) -> np.ndarray:
        # Sensor noise from a pool of fields, never the same twice in a row: drawing a fresh
        # Gaussian field per frame would cost more than the analysis under test.
        if self._rng is None or self._noise_pool[0].shape != shape:
            self._rng = np.random.default_rng(self.seed + 1)
            self._noise_pool = [
                np.asarray(self._rng.normal(0, self.noise, shape)).astype(np.int16)
                for _ in range(_POOL)
            ]
        self._noise_at = (self._noise_at + int(self._rng.integers(1, _POOL))) % _POOL
        return self._noise_pool[self._noise_at]


def _draw(img: Frame, m: Mover) -> None:
    x, y = round(m.x), round(m.y)
    if not m.person:
        # A machine: a body with darker bands (cab, tracks), so its inside shows movement too.
        cv2.rectangle(img, (x, y), (x + m.w, y + m.h), m.colour, -1)
        dark = tuple(c // 3 for c in m.colour)
        for i in range(1, 4):
            cv2.rectangle(img, (x + i * m.w // 4 - 2, y), (x + i * m.w // 4 + 2, y + m.h), dark, -1)
        cv2.rectangle(img, (x, y + m.h * 3 // 4), (x + m.w, y + m.h), dark, -1)
        return
    # A standing person: head, torso, arms and legs in proportion to the box.
    w, h, c = m.w, m.h, m.colour
    cx = x + w // 2
    cv2.circle(img, (cx, y + h // 10), max(2, h // 12), c, -1)
    cv2.rectangle(img, (cx - w // 5, y + h // 5), (cx + w // 5, y + h * 11 // 20), c, -1)
    cv2.line(img, (cx - w // 5, y + h // 4), (x + w // 10, y + h // 2), c, max(2, w // 10))
    cv2.line(img, (cx + w // 5, y + h // 4), (x + w - w // 10, y + h // 2), c, max(2, w // 10))
    cv2.line(img, (cx - w // 10, y + h * 11 // 20), (cx - w // 4, y + h), c, max(2, w // 8))
    cv2.line(img, (cx + w // 10, y + h * 11 // 20), (cx + w // 4, y + h), c, max(2, w // 8))


# The demo's camera scenes: what a monitoring centre should see on each.
CLIPS = ("busy", "idle", "night", "frozen")


def clip(kind: str, *, seconds: float = 20.0, fps: float = 5.0, seed: int = 0) -> list[Frame]:
    """A 320x180 clip: ``busy`` (two machines and two workers), ``idle`` (a still site),
    ``night`` (an idle site after dark) or ``frozen`` (one picture repeated)."""
    if kind not in CLIPS:
        raise ValueError(f"clip kind {kind!r} is not one of {', '.join(CLIPS)}")
    scene = Scene(320, 180, seed=seed)
    if kind == "busy":
        scene.movers = [
            Mover(10, 110, 70, 45, 2.5, 0),
            Mover(240, 20, 40, 30, 0, 1.5, colour=(40, 200, 240)),
            Mover(120, 60, 18, 48, 1.0, 0, colour=(20, 20, 20), person=True),
            Mover(200, 80, 18, 48, -1.2, 0, colour=(40, 30, 30), person=True),
        ]
    count = max(1, round(seconds * fps))
    if kind == "frozen":
        return [scene.frame()] * count
    gain = 0.12 if kind == "night" else 1.0
    return [scene.frame(gain=gain) for _ in range(count)]

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

    def background(self) -> Frame:
        if self._background is None:
            rng = np.random.default_rng(self.seed)
            img: Frame = np.full((self.height, self.width, 3), (96, 110, 120), np.uint8)
            # Ground texture: smoothed noise, so the scene has detail to lose when blurred.
            tex = rng.integers(0, 80, (self.height, self.width), dtype=np.uint8)
            tex = cv2.GaussianBlur(tex, (3, 3), 0)
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
            if self._rng is None:
                self._rng = np.random.default_rng(self.seed + 1)
            jitter = np.asarray(self._rng.normal(0, self.noise, img.shape)).astype(np.int16)
            img = np.clip(img.astype(np.int16) + jitter, 0, 255).astype(np.uint8)
        return img


def _draw(img: Frame, m: Mover) -> None:
    x, y = round(m.x), round(m.y)
    if not m.person:
        cv2.rectangle(img, (x, y), (x + m.w, y + m.h), m.colour, -1)
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

"""What weather, light, lenses and people do to a camera's picture, applied to real frames.

Each function takes a frame (BGR uint8) and returns a new one; randomness comes from the
``numpy.random.Generator`` passed in, so a variant is reproducible from its seed. Tests and
benchmarks build the hard cases from real footage with these: rain and snow, mains flicker and
rolling-shutter banding, low light and sensor noise, a defocused or covered lens, and a camera
panned, rotated or zoomed. Nothing here reads or writes files.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from vision.types import Frame

Rng = np.random.Generator


def rain(frame: Frame, rng: Rng, streaks: int = 25, *, length: float = 0.15) -> Frame:
    """Rain: ``streaks`` bright streaks (drops near the lens, blurred by the exposure) at random
    places, 1-3 px wide, slanted a little, up to ``length`` of the frame's height long, and a
    faint haze."""
    height, width = frame.shape[:2]
    layer = np.zeros((height, width), np.float32)
    slant = rng.uniform(-0.3, 0.3)
    for _ in range(streaks):
        x, y = rng.uniform(0, width), rng.uniform(-0.1 * height, height)
        span = rng.uniform(0.3, 1.0) * length * height
        x1, y1 = x + slant * span, y + span
        cv2.line(layer, (round(x), round(y)), (round(x1), round(y1)), rng.uniform(60, 150),
                 int(rng.integers(1, 4)), cv2.LINE_AA)  # fmt: skip
    out = frame.astype(np.float32) * 0.93 + 12  # haze: a little less contrast
    out += layer[..., None] if frame.ndim == 3 else layer
    return _u8(out)


def snow(frame: Frame, rng: Rng, flakes: int = 150, *, size: float = 2.5) -> Frame:
    """Snow: ``flakes`` soft white dots of about ``size`` px radius at random places."""
    height, width = frame.shape[:2]
    layer = np.zeros((height, width), np.float32)
    for _ in range(flakes):
        x, y = round(rng.uniform(0, width)), round(rng.uniform(0, height))
        cv2.circle(layer, (x, y), max(1, round(rng.uniform(0.5, 1.5) * size)),
                   rng.uniform(80, 170), -1, cv2.LINE_AA)  # fmt: skip
    layer = cv2.GaussianBlur(layer, (0, 0), 0.8)
    out = frame.astype(np.float32) + (layer[..., None] if frame.ndim == 3 else layer)
    return _u8(out)


def gain(frame: Frame, factor: float) -> Frame:
    """Brightness times ``factor`` (flicker: a factor drawn per frame)."""
    return cv2.convertScaleAbs(frame, alpha=factor)


def banding(frame: Frame, amplitude: float, *, period: float = 0.2, phase: float = 0.0) -> Frame:
    """Rolling-shutter banding: horizontal bands of brightness ``1 ± amplitude``, ``period``
    of the frame's height apart, drifting with ``phase`` (0..1) from frame to frame, as a
    rolling shutter under mains-powered lights makes them."""
    height = frame.shape[0]
    rows = np.arange(height, dtype=np.float32) / height
    profile = 1.0 + amplitude * np.sin(2 * math.pi * (rows / period + phase))
    shape = (height, 1, 1) if frame.ndim == 3 else (height, 1)
    out = frame.astype(np.float32) * profile.reshape(shape)
    return _u8(out)


def noise(frame: Frame, rng: Rng, sigma: float) -> Frame:
    """Gaussian sensor noise of standard deviation ``sigma`` (luma levels)."""
    out = frame.astype(np.float32) + np.asarray(rng.normal(0, sigma, frame.shape), np.float32)
    return _u8(out)


def low_light(frame: Frame, rng: Rng, *, level: float = 0.18, sigma: float = 4.0) -> Frame:
    """Dusk: brightness down to ``level``, and the noise a sensor adds when it amplifies."""
    return noise(gain(frame, level), rng, sigma)


def defocus(frame: Frame, radius: float = 4.0) -> Frame:
    """A defocused (or fogged) lens: a Gaussian blur of ``radius`` px."""
    return cv2.GaussianBlur(frame, (0, 0), radius)


def covered(frame: Frame, rng: Rng, *, tint: tuple[int, int, int] = (70, 90, 110)) -> Frame:
    """A bag or tape over the lens: the light that gets through, flat and tinted, and noise."""
    return covering(frame, tint=tint)(rng)


def covering(frame: Frame, *, tint: tuple[int, int, int] = (70, 90, 110)) -> Callable[[Rng], Frame]:
    """``covered`` for many frames of one view: the light through the cover (a wide blur, the
    costly part) is computed once, and every call adds fresh noise, so
    ``covering(f)(rng)`` is ``covered(f, rng)`` pixel for pixel."""
    flat = np.empty_like(frame)
    flat[...] = tint if frame.ndim == 3 else int(np.mean(tint))
    shade = cv2.GaussianBlur(frame, (0, 0), 40).astype(np.float32) / 255.0
    lens = _u8(flat.astype(np.float32) * (0.85 + 0.3 * shade))
    return lambda rng: noise(lens, rng, 1.5)


def black(frame: Frame) -> Frame:
    """No picture: the encoder sends black frames."""
    return np.zeros_like(frame)


def moved(frame: Frame, *, pan: float = 0.0, tilt: float = 0.0, angle: float = 0.0,
          zoom: float = 1.0) -> Frame:  # fmt: skip
    """The view after the camera was turned: shifted by ``pan`` and ``tilt`` (shares of the
    width and height), rotated by ``angle`` degrees and zoomed by ``zoom`` about the centre.
    What comes into view from outside the frame is the frame's edge, mirrored."""
    height, width = frame.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, zoom)
    matrix[0, 2] -= pan * width
    matrix[1, 2] -= tilt * height
    return cv2.warpAffine(frame, matrix, (width, height), borderMode=cv2.BORDER_REFLECT_101)


def _u8(values: np.ndarray) -> Frame:
    out: Frame = np.clip(values, 0, 255).astype(np.uint8)
    return out


__all__ = [
    "banding",
    "black",
    "covered",
    "covering",
    "defocus",
    "gain",
    "low_light",
    "moved",
    "noise",
    "rain",
    "snow",
]

"""Camera health from the frames themselves: frozen, dark, overexposed, blurred, tampered.

``HealthMonitor.check`` looks at one frame (its downscaled luma from the motion detector, and
the frame itself for sharpness) and proposes a state; the state changes only once the proposal
has held for ``confirm_s``, so a passing headlight or one bad frame is not an event. Offline is
decided by the frame source (no frames at all) and set directly with ``offline``.

- frozen: consecutive frames identical (mean absolute difference below ``frozen_diff``) — a
  stuck encoder or a frozen stream repeats the last picture; real sensors always add noise, and
  site cameras usually burn in a clock;
- tampered: the picture went flat (lens covered, sprayed) suddenly — within ``sudden_s`` of a
  normal picture — and stays flat; or most of the scene changed at once (camera turned), which
  holds for ``tamper_hold_s``. "Normal" is a spread of luma of at least 3 × ``flat_std``; a
  picture that goes dark slowly (nightfall) is dark, not tampered;
- dark / overexposed: mean luma below ``dark_luma`` / above ``bright_luma``;
- blurred: variance of the Laplacian of the frame at ``sharp_height`` rows below ``blur_var``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import cv2

from vision.motion import luma
from vision.types import Frame, Gray


class CameraHealth(IntEnum):
    """Health codes as stored in the ``camera_health`` metric."""

    OK = 0
    OFFLINE = 1
    FROZEN = 2
    DARK = 3
    OVEREXPOSED = 4
    BLURRED = 5
    TAMPERED = 6


@dataclass(frozen=True, slots=True)
class HealthConfig:
    dark_luma: float = 35.0
    bright_luma: float = 225.0
    blur_var: float = 30.0
    sharp_height: int = 180
    frozen_diff: float = 0.05
    flat_std: float = 6.0
    sudden_s: float = 5.0
    tamper_hold_s: float = 30.0
    confirm_s: float = 10.0


@dataclass(frozen=True, slots=True)
class FrameHealth:
    """What one check measured, and the state it proposes."""

    mean: float
    std: float
    sharpness: float
    still: bool
    proposed: CameraHealth


def sharpness(frame: Frame, height: int = 180) -> float:
    """Variance of the Laplacian of the luma plane at ``height`` rows (higher is sharper)."""
    grey = luma(frame)
    if grey.shape[0] > height:
        width = max(1, round(grey.shape[1] * height / grey.shape[0]))
        grey = cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA)
    _, std = cv2.meanStdDev(cv2.Laplacian(grey, cv2.CV_64F))
    return float(std[0, 0]) ** 2


class HealthMonitor:
    """One camera's health state, debounced."""

    def __init__(self, config: HealthConfig | None = None) -> None:
        self.config = config or HealthConfig()
        self.state = CameraHealth.OK
        self._previous: Gray | None = None
        self._last_ms: int | None = None
        self._last_flat = False
        self._last_textured: int | None = None
        self._covered = False
        self._tampered_until = -1
        self._proposed = CameraHealth.OK
        self._since_ms = 0
        self._still_since: int | None = None

    def offline(self, ts_ms: int) -> CameraHealth | None:
        """No frames: the source gave up. Returns the new state when it changed."""
        self._previous, self._last_ms, self._still_since = None, None, None
        self._proposed, self._since_ms = CameraHealth.OFFLINE, ts_ms
        return self._set(CameraHealth.OFFLINE)

    def check(
        self, ts_ms: int, frame: Frame, small: Gray, *, scene_change: bool = False
    ) -> tuple[FrameHealth, CameraHealth | None]:
        """Measure one frame; return the measurement and the new state when it changed."""
        c = self.config
        mean_a, std_a = cv2.meanStdDev(small)
        mean, std = float(mean_a[0, 0]), float(std_a[0, 0])
        still = False
        if self._previous is not None and self._previous.shape == small.shape:
            still = float(cv2.norm(small, self._previous, cv2.NORM_L1)) / small.size < c.frozen_diff
        self._previous = small.copy()
        if still:
            self._still_since = self._still_since if self._still_since is not None else ts_ms
        else:
            self._still_since = None
        flat = std < c.flat_std
        if std >= 3 * c.flat_std:
            self._last_textured = ts_ms
        textured = self._last_textured
        sudden = textured is not None and ts_ms - textured <= c.sudden_s * 1000
        if flat and not self._last_flat and sudden:
            self._covered = True
        elif not flat:
            self._covered = False
        self._last_flat, self._last_ms = flat, ts_ms
        if scene_change:
            self._tampered_until = ts_ms + round(c.tamper_hold_s * 1000)
        sharp = sharpness(frame, c.sharp_height) if not flat else 0.0
        if still and self._still_since is not None:
            proposed = CameraHealth.FROZEN
        elif self._covered or ts_ms < self._tampered_until:
            proposed = CameraHealth.TAMPERED
        elif mean < c.dark_luma:
            proposed = CameraHealth.DARK
        elif mean > c.bright_luma:
            proposed = CameraHealth.OVEREXPOSED
        elif sharp < c.blur_var:
            proposed = CameraHealth.BLURRED
        else:
            proposed = CameraHealth.OK
        measured = FrameHealth(mean, std, sharp, still, proposed)
        if proposed != self._proposed:
            self._proposed, self._since_ms = proposed, ts_ms
        # Frozen is only known once frames have repeated for a while, so it is confirmed from
        # the first repeated frame; the others from when they were first proposed.
        since = self._still_since if proposed is CameraHealth.FROZEN else self._since_ms
        assert since is not None
        if proposed != self.state and ts_ms - since >= c.confirm_s * 1000:
            return measured, self._set(proposed)
        if self.state is CameraHealth.OFFLINE and proposed != self.state:
            return measured, self._set(proposed)  # frames again: no need to wait
        return measured, None

    def _set(self, state: CameraHealth) -> CameraHealth | None:
        if state == self.state:
            return None
        self.state = state
        return state


__all__ = ["CameraHealth", "FrameHealth", "HealthConfig", "HealthMonitor", "sharpness"]

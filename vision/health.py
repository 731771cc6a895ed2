"""Camera health from the frames themselves: frozen, dark, overexposed, blurred, tampered, moved.

``HealthMonitor.check`` looks at one frame (its downscaled luma from the motion detector, and
the frame itself for sharpness and the view) and proposes a state; the state changes only once
the proposal has held for ``confirm_s``, so a passing headlight or one bad frame is not an
event. Offline and damaged are decided by the frame source (no frames; a file or stream that
breaks) and set directly with ``offline`` and ``damaged``.

- dark: mean luma below ``dark_luma``: night, or black frames from an encoder with no picture
  (a black picture repeats exactly, but it is dark, not frozen);
- frozen: consecutive frames identical (mean absolute difference below ``frozen_diff``) — a
  stuck encoder or a frozen stream repeats the last picture; real sensors always add noise;
- tampered: the picture is flat (a spread of luma below ``flat_std``: lens covered, sprayed,
  bagged) and either went flat suddenly — within ``sudden_s`` of a textured picture, whatever
  its brightness — or has been flat and not dark since the camera started: a lens covered
  from the start, lit through the cover. A picture that goes dark slowly (nightfall) is dark;
- moved: the view no longer matches the reference view (``vision.view``: features matched,
  a shift, turn or zoom beyond the thresholds, or the reference out of view while it matched
  a minute before). Once confirmed it stays until ``rebaseline`` — an operator says the new
  view is the right one — whatever the camera shows meanwhile: it does not clear itself;
- overexposed: mean luma above ``bright_luma``;
- blurred: variance of the Laplacian of the frame at ``sharp_height`` rows below ``blur_var``.

The reference view is the median of ``reference_frames`` good frames ``reference_every_s``
apart (people walking through it are left out), taken when the camera first shows a good
picture, and renewed every ``refresh_s`` while the view still matches, so a site that changes
over the weeks keeps its reference current.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import cv2
import numpy as np

from vision.motion import luma
from vision.types import Frame, Gray
from vision.view import ViewChange, ViewConfig, ViewReference


class CameraHealth(IntEnum):
    """Health codes as stored in the ``camera_health`` metric."""

    OK = 0
    OFFLINE = 1
    FROZEN = 2
    DARK = 3
    OVEREXPOSED = 4
    BLURRED = 5
    TAMPERED = 6
    MOVED = 7
    DAMAGED = 8


@dataclass(frozen=True, slots=True)
class HealthConfig:
    dark_luma: float = 35.0
    bright_luma: float = 225.0
    blur_var: float = 30.0
    sharp_height: int = 180
    frozen_diff: float = 0.05
    flat_std: float = 6.0
    sudden_s: float = 5.0
    confirm_s: float = 10.0
    view_every_s: float = 2.0  # how often the view is compared with the reference
    reference_frames: int = 5  # good frames whose median is the reference view
    reference_every_s: float = 2.0  # apart
    refresh_s: float = 1800.0  # renew the reference this often while the view matches
    lost_within_s: float = 60.0  # reference out of view counts as moved if it matched this recently
    view: ViewConfig = field(default_factory=ViewConfig)


@dataclass(frozen=True, slots=True)
class FrameHealth:
    """What one check measured, and the state it proposes."""

    mean: float
    std: float
    sharpness: float
    still: bool
    proposed: CameraHealth
    view: ViewChange | None = None


def sharpness(frame: Frame, height: int = 180) -> float:
    """Variance of the Laplacian of the luma plane at ``height`` rows (higher is sharper)."""
    grey = luma(frame)
    if grey.shape[0] > height:
        width = max(1, round(grey.shape[1] * height / grey.shape[0]))
        grey = cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA)
    _, std = cv2.meanStdDev(cv2.Laplacian(grey, cv2.CV_64F))
    return float(std[0, 0]) ** 2


@dataclass(frozen=True, slots=True)
class Baseline:
    """What a camera's health must keep across a restart: its reference view (``ViewReference``
    arrays; none while it is being taken) and whether it was found MOVED (latched)."""

    reference: dict[str, np.ndarray] | None
    moved: bool


# States that win over a latched MOVED while they hold: the picture itself is gone.
_OVER_MOVED = frozenset({CameraHealth.FROZEN, CameraHealth.TAMPERED, CameraHealth.DARK})


class HealthMonitor:
    """One camera's health state, debounced."""

    def __init__(self, config: HealthConfig | None = None) -> None:
        self.config = config or HealthConfig()
        self.state = CameraHealth.OK
        self.reference = ViewReference(self.config.view)
        self.moved = False  # latched until rebaseline()
        self.last_view: ViewChange | None = None
        self._previous: Gray | None = None
        self._last_flat = False
        self._last_textured: int | None = None
        self._covered = False
        self._proposed = CameraHealth.OK
        self._since_ms = 0
        self._still_since: int | None = None
        self._candidates: list[Frame] = []
        self._next_candidate = -1
        self._next_view = -1
        self._reference_ms: int | None = 0  # when the reference was taken (None: restored)
        self._last_match: int | None = None
        self._moved_since: int | None = None
        # Bumped whenever the baseline changes (a reference taken, renewed or dropped, MOVED
        # latched or cleared): the owner saves it when this moves.
        self.revision = 0

    def baseline(self) -> Baseline:
        return Baseline(self.reference.export(), self.moved)

    def restore(self, baseline: Baseline) -> bool:
        """Take up a saved baseline (at start); ``False`` when its reference does not fit."""
        if baseline.reference is not None and not self.reference.restore(baseline.reference):
            return False
        self.moved = baseline.moved
        self._candidates, self._next_candidate = [], -1
        self._reference_ms = None  # its age counts from the first look
        return True

    def offline(self, ts_ms: int) -> CameraHealth | None:
        """No frames: the source gave up. Returns the new state when it changed."""
        return self._interrupted(ts_ms, CameraHealth.OFFLINE)

    def damaged(self, ts_ms: int) -> CameraHealth | None:
        """The file or stream is damaged (truncated, undecodable). Returns the new state."""
        return self._interrupted(ts_ms, CameraHealth.DAMAGED)

    def rebaseline(self) -> CameraHealth | None:
        """An operator says the view now is the right one: forget the reference and MOVED."""
        self.moved, self._moved_since, self._last_match = False, None, None
        self.reference.clear()
        self._candidates, self._next_candidate = [], -1
        self.revision += 1
        if self.state is CameraHealth.MOVED:
            self._proposed = CameraHealth.OK
            return self._set(CameraHealth.OK)
        return None

    def _interrupted(self, ts_ms: int, state: CameraHealth) -> CameraHealth | None:
        self._previous, self._still_since = None, None
        self._proposed, self._since_ms = state, ts_ms
        return self._set(state)

    def check(
        self, ts_ms: int, frame: Frame, small: Gray
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
        self._last_flat = flat
        dark = mean < c.dark_luma
        # Covered from the start: flat, lit through the cover, never a textured picture yet.
        covered_from_start = flat and not dark and textured is None
        sharp = sharpness(frame, c.sharp_height) if not flat else 0.0
        good = not (flat or dark or mean > c.bright_luma or sharp < c.blur_var or still)
        view = self._view(ts_ms, frame) if good else None
        # A flat picture shows no noise to tell frozen from live: covered or dark decides.
        if dark and not self._covered:
            proposed = CameraHealth.DARK
        elif self._covered or covered_from_start:
            proposed = CameraHealth.TAMPERED
        elif still and self._still_since is not None:
            proposed = CameraHealth.FROZEN
        elif self.moved or (view is not None and self._is_moved(ts_ms, view)):
            proposed = CameraHealth.MOVED
        elif mean > c.bright_luma:
            proposed = CameraHealth.OVEREXPOSED
        elif sharp < c.blur_var:
            proposed = CameraHealth.BLURRED
        else:
            proposed = CameraHealth.OK
        measured = FrameHealth(mean, std, sharp, still, proposed, view)
        if proposed != self._proposed:
            self._proposed, self._since_ms = proposed, ts_ms
        # Frozen is only known once frames have repeated for a while, so it is confirmed from
        # the first repeated frame; moved from the first check that saw it; the others from
        # when they were first proposed.
        since = self._since_ms
        if proposed is CameraHealth.FROZEN and self._still_since is not None:
            since = self._still_since
        elif proposed is CameraHealth.MOVED and self._moved_since is not None:
            since = min(since, self._moved_since)
        held = ts_ms - since >= c.confirm_s * 1000
        if proposed is CameraHealth.MOVED and held and not self.moved:
            self.moved = True  # latched: only rebaseline() clears it
            self.revision += 1
        if self.moved and proposed not in _OVER_MOVED and proposed is not CameraHealth.MOVED:
            proposed = CameraHealth.MOVED
        if proposed != self.state and (held or (self.moved and proposed is CameraHealth.MOVED)):
            return measured, self._set(proposed)
        if self.state in (CameraHealth.OFFLINE, CameraHealth.DAMAGED) and proposed != self.state:
            return measured, self._set(proposed)  # frames again: no need to wait
        return measured, None

    def _view(self, ts_ms: int, frame: Frame) -> ViewChange | None:
        """Collect the reference while there is none; compare with it every view_every_s."""
        c = self.config
        if not self.reference.ready:
            if ts_ms >= self._next_candidate:
                self._candidates.append(frame.copy())
                self._next_candidate = ts_ms + round(c.reference_every_s * 1000)
                if len(self._candidates) >= c.reference_frames:
                    if self.reference.set(self._candidates):
                        self._reference_ms, self._last_match = ts_ms, ts_ms
                        self.revision += 1
                    self._candidates = []
            return None
        if ts_ms < self._next_view:
            return self.last_view
        self._next_view = ts_ms + round(c.view_every_s * 1000)
        view = self.reference.compare(frame)
        self.last_view = view
        if self._reference_ms is None:
            self._reference_ms = ts_ms
        if view is not None and not view.moved(c.view):
            self._last_match = ts_ms
            self._moved_since = None
            if not self.moved and ts_ms - self._reference_ms >= c.refresh_s * 1000:
                self.reference.clear()  # renewed from the next good frames
        elif view is not None and self._is_moved(ts_ms, view) and self._moved_since is None:
            self._moved_since = ts_ms
        return view

    def _is_moved(self, ts_ms: int, view: ViewChange) -> bool:
        if not view.moved(self.config.view):
            return False
        if not view.lost:
            return True
        # Out of view altogether: a large turn if it matched a moment ago; a slow loss (dusk,
        # the infrared switching on) is not a turn.
        last = self._last_match
        return last is not None and ts_ms - last <= self.config.lost_within_s * 1000

    def _set(self, state: CameraHealth) -> CameraHealth | None:
        if state == self.state:
            return None
        self.state = state
        return state


__all__ = ["Baseline", "CameraHealth", "FrameHealth", "HealthConfig", "HealthMonitor", "sharpness"]

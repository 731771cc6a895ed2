"""From per-frame motion to what ingest stores: motion ON/OFF with a debounce, and per-interval
metrics (``connectors.camera.METRICS`` names them).

- ``active_fraction``: share of the analysed frames that were active;
- ``motion_area``: mean share of the watched area moving, over all analysed frames;
- ``moving_objects``: mean number of moving objects per analysed frame (a time-weighted count:
  two workers present half the interval read 1.0);
- ``machinery_share``: share of all moving area, over the interval, that was in large objects;
- ``machines``: mean number of large moving objects (machinery) per analysed frame;
- ``activity_confidence``: share of the analysed frames taken while the camera was healthy
  (a covered, dark or moved camera's activity says little);
- ``persons``: the most people the detector saw in one look (the detector misses people more
  often than it invents them, so the peak is the better estimate), with
  ``persons_confidence``, the mean detection score of that look, and ``persons_detector``,
  which detector counted (``vision.people.DetectorKind``); only when it ran.

Motion is already gated by ``vision.motion`` (objects tracked over several frames, light and
weather taken out), so ``active_fraction`` means people or machines moving.
"""

from __future__ import annotations

from dataclasses import dataclass

from vision.motion import MotionResult
from vision.people import DetectorKind, Person


@dataclass(frozen=True, slots=True)
class SwitchConfig:
    on_s: float = 1.0  # continuous activity before motion turns ON
    off_s: float = 30.0  # no activity for this long before it turns OFF


class MotionSwitch:
    """Motion ON/OFF for one camera: ON after ``on_s`` of activity, OFF after ``off_s`` without."""

    def __init__(self, config: SwitchConfig | None = None) -> None:
        self.config = config or SwitchConfig()
        self.on = False
        self._active_since: int | None = None
        self._last_active: int | None = None

    def update(self, ts_ms: int, active: bool) -> bool | None:
        """Feed one analysed frame; return the new state when it switched."""
        c = self.config
        if active:
            self._last_active = ts_ms
            if self._active_since is None:
                self._active_since = ts_ms
            if not self.on and ts_ms - self._active_since >= c.on_s * 1000:
                self.on = True
                return True
            return None
        self._active_since = None
        if (
            self.on
            and self._last_active is not None
            and ts_ms - self._last_active >= c.off_s * 1000
        ):
            self.on = False
            return False
        return None


class Interval:
    """Accumulates one camera's frames until the interval is reported."""

    def __init__(self) -> None:
        self.frames = 0
        self._active = 0
        self._healthy = 0
        self._area = 0.0
        self._objects = 0
        self._machines = 0
        self._large = 0.0
        self._persons: tuple[int, float] | None = None
        self._detector: DetectorKind | None = None

    def add(self, motion: MotionResult, *, healthy: bool = True) -> None:
        self.frames += 1
        self._active += motion.active
        self._healthy += healthy
        self._area += motion.area
        self._objects += motion.objects
        self._machines += sum(motion.large)
        self._large += motion.large_area * motion.area

    def look(self, people: list[Person], detector: DetectorKind) -> None:
        """One look of the person detector."""
        score = sum(p.score for p in people) / len(people) if people else 0.0
        if self._persons is None or len(people) > self._persons[0]:
            self._persons = (len(people), score)
        self._detector = detector

    def metrics(self) -> dict[str, float]:
        """The interval's metrics; empty when no frame was analysed."""
        if not self.frames:
            return {}
        out = {
            "active_fraction": self._active / self.frames,
            "motion_area": self._area / self.frames,
            "moving_objects": self._objects / self.frames,
            "machines": self._machines / self.frames,
            "machinery_share": self._large / self._area if self._area else 0.0,
            "activity_confidence": self._healthy / self.frames,
        }
        if self._persons is not None and self._detector is not None:
            out["persons"] = float(self._persons[0])
            out["persons_confidence"] = self._persons[1]
            out["persons_detector"] = float(self._detector)
        return out

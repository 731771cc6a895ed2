"""From per-frame motion to what ingest stores: motion ON/OFF with a debounce, and per-interval
metrics (``connectors.camera.METRICS`` names them).

- ``active_fraction``: share of the analysed frames that were active;
- ``motion_area``: mean share of the watched area moving, over all analysed frames;
- ``moving_objects``: mean number of moving objects per analysed frame (a time-weighted count:
  two workers present half the interval read 1.0);
- ``machinery_share``: share of all moving area, over the interval, that was in large objects;
- ``persons``: the most people the HOG detector saw in one frame (it misses people far more
  often than it invents them, so the peak is the better estimate); only when it ran.
"""

from __future__ import annotations

from dataclasses import dataclass

from vision.motion import MotionResult


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
        self._area = 0.0
        self._objects = 0
        self._large = 0.0
        self._persons: int | None = None

    def add(self, motion: MotionResult, persons: int | None = None) -> None:
        self.frames += 1
        self._active += motion.active
        self._area += motion.area
        self._objects += motion.objects
        self._large += motion.large_area * motion.area
        if persons is not None:
            self._persons = max(self._persons or 0, persons)

    def metrics(self) -> dict[str, float]:
        """The interval's metrics; empty when no frame was analysed."""
        if not self.frames:
            return {}
        out = {
            "active_fraction": self._active / self.frames,
            "motion_area": self._area / self.frames,
            "moving_objects": self._objects / self.frames,
            "machinery_share": self._large / self._area if self._area else 0.0,
        }
        if self._persons is not None:
            out["persons"] = float(self._persons)
        return out

"""Moving regions followed from frame to frame: what persists is an object, what flashes once
(a raindrop, a snowflake, a noise speckle) is not.

``Tracker.update`` takes one frame's regions (boxes in the analysed plane's pixels, with their
areas) and matches each to the track it continues: the nearest track whose last box, grown by
``reach`` of its size plus ``slack`` pixels, holds the region's centre, and whose area is within
``grow`` of the region's. A track is *confirmed* once it has been seen in ``confirm`` frames out of
the last ``confirm + 1`` along a path: its centre either stays about where it was, or gets at least
half as far as its steps add up to while its step per frame changes by at most ``steady`` of its
size (plus ``slack``) from one frame to the next. It ends after ``max_misses`` frames unseen. Only
confirmed tracks count as motion. At 2 frames a second a walking person moves about a body width per
frame, which ``reach`` allows for; drops of rain at random places rarely land near each other three
times running, and then zigzag or lurch: a long step, then a short one.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from vision.types import Box


@dataclass(frozen=True, slots=True)
class TrackConfig:
    confirm: int = 3  # frames a track must be seen in (of the last confirm + 1)
    max_misses: int = 2  # frames unseen before a track ends
    reach: float = 1.0  # how far (share of the box's size) a region may move per frame
    slack: float = 2.0  # ... plus this many pixels
    grow: float = 2.0  # a region continues a track only within this factor of its area
    # How much a moving track's step per frame may change from one step to the next, as a share
    # of its size (plus slack): a body keeps its pace and heading over a second or two.
    steady: float = 0.5


@dataclass(slots=True)
class Track:
    id: int
    box: Box
    area: float
    seen: list[bool] = field(default_factory=list)  # the last frames: seen or not
    hits: int = 0
    misses: int = 0
    confirmed: bool = False
    moved: float = 0.0  # how far its centre travelled, px
    path: list[tuple[int, float, float]] = field(default_factory=list)  # (frame, centre)

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


@dataclass(frozen=True, slots=True)
class Region:
    box: Box  # x0, y0, x1, y1 in the analysed plane
    area: float  # moving pixels in it


class Tracker:
    def __init__(self, config: TrackConfig | None = None) -> None:
        self.config = config or TrackConfig()
        self.tracks: list[Track] = []
        self._next = 1
        self._frame = 0

    def reset(self) -> None:
        self.tracks = []

    def update(self, regions: list[Region]) -> list[tuple[Track, Region]]:
        """Match this frame's regions; return the confirmed tracks seen now with their regions."""
        c = self.config
        self._frame += 1
        # Larger regions choose first: a person is matched before the speckle beside them.
        order = sorted(range(len(regions)), key=lambda i: -regions[i].area)
        taken: set[int] = set()
        matched: dict[int, Region] = {}
        for i in order:
            region = regions[i]
            cx, cy = (region.box[0] + region.box[2]) / 2, (region.box[1] + region.box[3]) / 2
            best, best_d = None, float("inf")
            for t in self.tracks:
                if t.id in taken or not t.area / c.grow <= region.area <= t.area * c.grow:
                    continue
                x0, y0, x1, y1 = t.box
                gx = (x1 - x0) * c.reach + c.slack
                gy = (y1 - y0) * c.reach + c.slack
                if x0 - gx <= cx <= x1 + gx and y0 - gy <= cy <= y1 + gy:
                    tx, ty = t.centre
                    d = (tx - cx) ** 2 + (ty - cy) ** 2
                    if d < best_d:
                        best, best_d = t, d
            if best is None:
                best = Track(self._next, region.box, region.area)
                self._next += 1
                self.tracks.append(best)
            else:
                best.moved += best_d**0.5
            taken.add(best.id)
            matched[best.id] = region
        out: list[tuple[Track, Region]] = []
        alive: list[Track] = []
        for t in self.tracks:
            region_now = matched.get(t.id)
            t.seen.append(region_now is not None)
            del t.seen[: -(c.confirm + 1)]
            if region_now is not None:
                t.box, t.area = region_now.box, region_now.area
                t.path.append((self._frame, *t.centre))
                del t.path[: -(c.confirm + 1)]
                t.hits += 1
                t.misses = 0
                if not t.confirmed and sum(t.seen) >= c.confirm and _coherent(t, c):
                    t.confirmed = True
                if t.confirmed:
                    out.append((t, region_now))
            else:
                t.misses += 1
            if t.misses <= c.max_misses:
                alive.append(t)
        self.tracks = alive
        return out


def _coherent(track: Track, c: TrackConfig) -> bool:
    """A body moves on a path at a steady pace (or stays about where it is); chance matches of
    drops that land near each other zigzag, or jump ahead and then crawl: their steps add up to
    far more than where they got, or change from one frame to the next by more than a body's
    pace does."""
    points = track.path
    steps = sum(
        math.hypot(x1 - x0, y1 - y0) for (_, x0, y0), (_, x1, y1) in itertools.pairwise(points)
    )
    x0, y0, x1, y1 = track.box
    size = max(x1 - x0, y1 - y0, 1)
    if steps <= 0.5 * size:
        return True  # in place: working, not walking
    (_, ax, ay), (_, bx, by) = points[0], points[-1]
    if math.hypot(bx - ax, by - ay) < 0.5 * steps:
        return False
    # Velocities per frame (a step over a missed frame is halved).
    pace = [((x1 - x0) / (f1 - f0), (y1 - y0) / (f1 - f0))
            for (f0, x0, y0), (f1, x1, y1) in itertools.pairwise(points)]  # fmt: skip
    limit = c.steady * size + c.slack
    return all(
        math.hypot(u1 - u0, v1 - v0) <= limit for (u0, v0), (u1, v1) in itertools.pairwise(pace)
    )


__all__ = ["Region", "Track", "TrackConfig", "Tracker"]

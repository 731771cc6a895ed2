"""Race scores, composites and ranks against hand-computed figures, ties included."""

from __future__ import annotations

import pytest

from hub.promotion.sensing.race import Entry, Normalisation, competition_ranks, race, scores

# Four cities, three indicators; investment growth (%, weight 0.5), new-start rate (%, 0.3),
# unsold-housing months (lower is better, 0.2).
VALUES = {
    "330100": {"fai": 10.0, "start": 90.0, "stock": 12.0},
    "330200": {"fai": 6.0, "start": 100.0, "stock": 20.0},
    "330300": {"fai": 8.0, "start": 80.0, "stock": 16.0},
    "330400": {"fai": 6.0, "start": 100.0, "stock": 20.0},  # the same as Ningbo
}
WEIGHTS = {"fai": 0.5, "start": 0.3, "stock": 0.2}
HIGHER = {"fai": True, "start": True, "stock": False}


def _rows(entries: list[Entry]) -> list[tuple[str, float | None, int | None, bool]]:
    return [
        (e.region, None if e.composite is None else round(e.composite, 9), e.rank, e.leader)
        for e in entries
    ]


def test_min_max_composites_and_ranks_match_the_hand_computation() -> None:
    entries = race(VALUES, WEIGHTS, HIGHER, leaders=1)
    # fai: min 6 max 10 → 100, 0, 50, 0
    # start: min 80 max 100 → 50, 100, 0, 100
    # stock (mirrored): min 12 max 20 → 100, 0, 50, 0
    # composites: 330100 .5×100 + .3×50 + .2×100 = 85
    #             330200 .5×0 + .3×100 + .2×0 = 30 (330400 the same)
    #             330300 .5×50 + .3×0 + .2×50 = 35
    assert _rows(entries) == [
        ("330100", 85.0, 1, True),
        ("330300", 35.0, 2, False),
        ("330200", 30.0, 3, False),
        ("330400", 30.0, 3, False),  # tied: same rank, the next would be 5
    ]
    assert entries[0].scores == {"fai": 100.0, "start": 50.0, "stock": 100.0}


def test_z_scores_and_a_tie_at_the_top() -> None:
    values = {"a": {"x": 1.0}, "b": {"x": 3.0}, "c": {"x": 3.0}, "d": {"x": 1.0}}
    entries = race(values, {"x": 1.0}, {}, normalisation=Normalisation.Z_SCORE, leaders=1)
    # mean 2, population sd 1 → z = -1, 1, 1, -1; b and c share rank 1, both lead
    assert _rows(entries) == [
        ("b", 1.0, 1, True),
        ("c", 1.0, 1, True),
        ("a", -1.0, 3, False),
        ("d", -1.0, 3, False),
    ]


def test_missing_values_score_lowest_and_empty_regions_are_unranked() -> None:
    values = {
        "a": {"x": 10.0, "y": 4.0},
        "b": {"x": 20.0},  # y not reported → the lowest y score (0)
        "c": {"x": 30.0, "y": 2.0},
        "d": {},  # nothing → no composite, no rank
    }
    entries = race(values, {"x": 1.0, "y": 1.0, "z": 1.0}, {}, leaders=2)
    # x: 0, 50, 100; y: a 100, c 0, b gets 0; z: nobody → dropped, weights renormalised to x, y
    # a (0 + 100)/2 = 50, b (50 + 0)/2 = 25, c (100 + 0)/2 = 50 → a and c tie for first
    assert _rows(entries) == [
        ("a", 50.0, 1, True),
        ("c", 50.0, 1, True),
        ("b", 25.0, 3, False),
        ("d", None, None, False),
    ]
    assert next(e for e in entries if e.region == "b").scores == {"x": 50.0, "y": 0.0, "z": None}


def test_equal_values_everywhere_score_full_marks() -> None:
    assert scores({"a": 5.0, "b": 5.0}, True, Normalisation.MIN_MAX) == {"a": 100.0, "b": 100.0}
    assert scores({"a": 5.0, "b": 5.0}, False, Normalisation.MIN_MAX) == {"a": 100.0, "b": 100.0}
    assert scores({"a": 5.0, "b": 5.0}, True, Normalisation.Z_SCORE) == {"a": 0.0, "b": 0.0}


def test_competition_ranks_tolerate_float_noise() -> None:
    assert competition_ranks([0.1 + 0.2, 0.3, None, 0.5, 0.1]) == [2, 2, None, 1, 4]


def test_weights_must_be_usable() -> None:
    with pytest.raises(ValueError, match="weights"):
        race(VALUES, {"fai": -1.0}, HIGHER)
    with pytest.raises(ValueError, match="weights"):
        race(VALUES, {"fai": 0.0}, HIGHER)

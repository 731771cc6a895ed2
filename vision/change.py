"""Construction on a parcel from its spectral series, judged against the parcel's own seasons.
Pure functions; no I/O.

Farmland changes every few weeks on its own (harvests, ploughing, flooded paddies), so a pass is
compared, as OPERA DIST-ALERT does, with the *same calendar window* (± ``window_days``) of the
prior years (up to ``years_back``), never with the last few passes. Per clear pass (valid-pixel
share at least ``min_valid_share``):

- *loss*: the NDVI fell below a low quantile (``ref_quantile``) of the prior years' NDVI in the
  window, by at least ``min_ndvi_loss``. The low quantile, not the median, so that a harvest a
  week or two off last year's date, or a cloud-dimmed look, is not read as loss;
- *bare or built*: BSI or NDBI rose above a high quantile of the window's values by at least
  ``min_soil_gain``, and the NDVI is at most ``bare_ndvi`` or the pass is *patchy* (below).
  Paddy water and floods lower NDVI too, but they lower BSI and NDBI: they are not flagged.

A pass is flagged when both hold (``score`` ≥ 1). Two more kinds of pass are flagged where the
window itself was bare (winter stubble, a ploughed paddy), so loss cannot show:

- *patchiness*: the Statistical API's per-parcel ``stDev`` of NDBI rose above a low quantile
  (``texture_floor_quantile``) of the parcel's own past clear passes by ``min_texture_gain``
  (NDVI's spread is not used: a thin cloud edge the mask leaves clear, a flat brightening,
  spreads NDVI two to three times as much as NDBI, and made harvests and droughts patchy). A
  ploughed, harvested or silted field is as uniform as the field ever is; a site's dust nets,
  huts, graded patches and uncleared corners are not. A patchy bare pass
  (NDVI at most ``bare_ndvi``, BSI above ``site_bsi``) is flagged when it is no greener and at
  least ``bare_season_gain`` barer or more built than the window, or at any soil level not
  ``min_soil_gain`` below the window when the rise reaches ``strong_texture_gain``;
- *subsoil-bare*: NDVI at most ``site_ndvi`` with BSI above ``site_bsi``, under the same
  ``bare_season_gain`` rule: graded, compacted subsoil carries no residue or weeds and is barer
  than a ploughed topsoil.

The first flagged pass *detects*; the change is *confirmed* when the flagged passes number at
least ``min_evidence`` and have lasted ``persist_days`` if the run looks like a site (at least
``min_evidence`` patchy passes with positive BSI, or one patchy pass and ``min_evidence``
site-like ones: patchy or subsoil-bare), ``fast_persist_days`` if ``min_evidence`` of its passes
are strongly patchy (NDBI spread up by ``strong_texture_gain``, bare, positive BSI),
``subsoil_persist_days`` if it is uniformly as bare as graded subsoil (median NDVI at most
``site_ndvi`` and median BSI - NDVI at least ``subsoil_contrast``: haze lowers both indices of a
ploughed topsoil together, graded subsoil is barer for its greenness), ``mild_persist_days`` if
``min_evidence`` of its passes are mildly patchy (NDBI spread up by ``mild_texture_gain``, below
the site level, with positive BSI: haul roads, spoil heaps and compacted pads side by side; a
ploughed or levelled field is worked as one and stays as uniform as the field ever is, so the
spread must last past the shortest ploughing spell), and ``uniform_wait_days`` otherwise (a
uniform bare field: ploughing leaves one for one to two months, then the crop is sown).
Persistence is counted in days with a cap in clear passes: when clouds hide the parcel
for ``lone_gap_days`` after a strongly patchy pass (NDVI at least ``lone_min_ndvi``: a paddy
partly under water is patchy too), that pass confirms alone, on the clouded step (Zhejiang's
plum rains and winter leave 40-60 days between clear passes). A run has no unflagged clear pass
between
(clouded passes neither confirm nor break the run; a pass with no prior-year pass in its window,
even widened to ``max_widening`` times the width, is not judged and does not break it either),
and the latest is not greener than the run's median by ``regrow_margin`` (a bare signature that
does not regrow). Nor does a *held* pass break it (off by default, as is a third widening of
the window: see ``ChangeParams``): unflagged, but bare and dry (NDVI at most
``hold_ndvi``, BSI above ``site_bsi``) and no greener than the run, in a run with a flagged
Sentinel-2 pass. Such a pass falls where the past years' fields were bare too (a ploughing or
stubble window), so it neither shows a site nor refutes one; what refutes a site is regrowth or
water, and the rules below still wait for them. A held pass is not evidence, but the subsoil
rule's medians read it: how bare the run is counts all its bare looks.
A harvest is followed within weeks by the next crop or a flooded paddy, a flood's silt by
regrowth: they break the run first. A run that begins within ``after_water_days`` of a pass that
looked like standing water (NDVI at most ``water_ndvi`` and BSI at most ``water_bsi``; or, at
an NDVI of at most ``bare_ndvi``, NDVI lost against the window with no BSI or NDBI gained, or
NDVI lower and NDBI below the window's low quantile by ``min_soil_gain``, as water absorbs the
short-wave infrared; a hazy look at a green canopy is not water) must last
``flood_wait_days``: silt left by a flood is bare until the crop is re-sown. A confirmed
change is *un-confirmed* (back to ``NONE``, with the day in ``recovered``) when vegetation comes
back: ``recover_passes`` consecutive clear passes at NDVI ``recover_ndvi`` or more, unflagged; a
stalled site that weeds take over, in their season.

Two optical sources (``SpectralObservation.sensor``): Sentinel-2 (10 m, the reference) and
Landsat 8/9 (30 m). Each parcel learns Landsat's bias per index from usable clear passes of the
two at most ``pair_days`` apart (their median difference, from ``min_pairs`` pairs; zero
before), and takes it off Landsat's values wherever they are read. The spread floor is kept per
sensor, and Landsat's spread is not read as patchiness (30 m pixels blur nets and huts; what
spread is left is mostly a cloud rim CFMask did not dilate over). The subsoil rule reads the
run's Sentinel-2 passes when it has ``min_evidence`` of them (a 30 m pixel mixes in uncleared
corners and the road). A Landsat pass that is not flagged but shows part of the loss (score at
least ``secondary_break_score``) and no regrowth neither confirms nor breaks a run, like a
clouded pass.

Until the series holds a year of history before a pass (``min_history_days``) there is nothing to
compare with: the state is ``INSUFFICIENT_HISTORY``, not a guess. A parcel smaller than the
sensor resolves (B11 is 20 m: about 0.5 ha) is ``TOO_SMALL`` and not judged at all.

``confidence`` (0..1) grows with the number of evidence passes and with how far past the
thresholds they are; it is a ranking aid, not a calibrated probability.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import IntEnum


class ChangeState(IntEnum):
    """The contract's ``change_state`` values."""

    INSUFFICIENT_HISTORY = -2  # less than a year of history: nothing to compare with
    TOO_SMALL = -1  # smaller than the sensor can resolve: not judged
    NONE = 0
    DETECTED = 1
    CONFIRMED = 2


@dataclass(frozen=True, slots=True)
class SpectralObservation:
    """One pass over a parcel: mean indices over its valid pixels and the valid share, and the
    indices' standard deviations over the same pixels (the Statistical API's ``stDev``; NaN when
    unknown)."""

    day: dt.date
    ndvi: float
    ndbi: float
    bsi: float
    valid_share: float
    ndvi_sd: float = math.nan
    ndbi_sd: float = math.nan
    bsi_sd: float = math.nan
    sensor: str = "sentinel-2"  # or "landsat": Landsat 8/9 Collection-2 L2, 30 m


@dataclass(frozen=True, slots=True)
class ChangeParams:
    """Thresholds of the detector (``HUB_SATELLITE_*`` settings carry the same names)."""

    min_ndvi_loss: float = 0.15
    min_soil_gain: float = 0.05
    bare_ndvi: float = 0.30
    window_days: int = 15
    years_back: int = 3
    ref_quantile: float = 0.2
    min_references: int = 2
    min_history_days: int = 350
    persist_days: int = 10
    min_evidence: int = 2
    regrow_margin: float = 0.1
    water_ndvi: float = 0.25
    water_bsi: float = -0.05
    after_water_days: int = 30
    flood_wait_days: int = 60
    recover_ndvi: float = 0.45
    recover_passes: int = 2
    min_texture_gain: float = 0.035
    uniform_wait_days: int = 75
    bare_season_gain: float = 0.03
    site_ndvi: float = 0.15
    strong_texture_gain: float = 0.05
    site_bsi: float = 0.0
    texture_floor_quantile: float = 0.1
    min_valid_share: float = 0.4
    min_area_m2: float = 5_000.0
    lone_gap_days: int = 15
    fast_persist_days: int = 5
    subsoil_persist_days: int = 10
    subsoil_contrast: float = 0.02
    lone_min_ndvi: float = 0.05
    pair_days: int = 3
    secondary_break_score: float = 0.5
    min_pairs: int = 3
    # Off by default (-1: no pass is held; 2: the window widened to ±30 days at most): with
    # them (0.2 and 3) the bench confirmed 1-3 more sites in 90 within 60 days, but rice and
    # fallow fields ploughed in spring held their runs, and two seeds of fifteen not tuned on
    # had 2 of 18 ploughing traps confirmed (11 %, over the 10 % target). BENCHMARKS.md.
    hold_ndvi: float = -1.0
    mild_texture_gain: float = 0.02
    mild_persist_days: int = 30
    max_widening: int = 2

    def __post_init__(self) -> None:
        if self.min_ndvi_loss <= 0 or self.min_soil_gain < 0:
            raise ValueError("min_ndvi_loss must be positive and min_soil_gain not negative")
        if self.min_evidence < 1 or self.recover_passes < 1 or self.min_references < 1:
            raise ValueError("min_evidence, recover_passes and min_references must be ≥ 1")
        if not 1 <= self.window_days <= 60 or not 1 <= self.years_back <= 10:
            raise ValueError("window_days must be 1..60 and years_back 1..10")
        if not 0.0 <= self.ref_quantile <= 1.0:
            raise ValueError("ref_quantile must be in [0, 1]")
        if not 0.0 < self.min_valid_share <= 1.0:
            raise ValueError("min_valid_share must be in (0, 1]")
        if not 1 <= self.max_widening <= 4:
            raise ValueError("max_widening must be 1..4")
        if self.pair_days < 0 or self.min_pairs < 1:
            raise ValueError("pair_days must not be negative and min_pairs must be ≥ 1")


@dataclass(frozen=True, slots=True)
class ChangeStep:
    """The detector's view after one observation."""

    day: dt.date
    clear: bool
    score: float  # ≥ 0; ≥ 1 means the pass was flagged; clouded: the last clear one's
    state: ChangeState


@dataclass(frozen=True, slots=True)
class ChangeResult:
    state: ChangeState
    score: float  # the latest clear observation's score
    first_detected: dt.date | None
    confirmed: dt.date | None
    steps: tuple[ChangeStep, ...]
    confidence: float = 0.0  # 0..1; 0 without a detection
    evidence: tuple[dt.date, ...] = ()  # the flagged passes of the current (or confirming) run
    recovered: dt.date | None = None  # the last un-confirmation, if any


def is_clear(obs: SpectralObservation, params: ChangeParams) -> bool:
    return obs.valid_share >= params.min_valid_share and all(
        math.isfinite(v) for v in (obs.ndvi, obs.ndbi, obs.bsi)
    )


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def _confidence(scores: Sequence[float], params: ChangeParams) -> float:
    if not scores:
        return 0.0
    margin = min(1.0, (sum(min(s, 2.0) for s in scores) / len(scores) - 1.0) + 0.5)
    return round(max(0.0, margin) * (1.0 - 0.5 ** len(scores)), 3)


def _texture_gains(
    obs: SpectralObservation, floor_n: list[float], floor_u: list[float], params: ChangeParams
) -> tuple[float, float]:
    """How much patchier the parcel is than its own floor: the rise of the within-parcel
    standard deviation of NDVI or NDBI above a low quantile of its past clear passes' (0 when
    the standard deviations are unknown). A ploughed or harvested field is as uniform as the
    field ever is; a site's nets, huts and uncleared corners are not."""
    gains = [0.0, 0.0]
    for i, (sd, ordered) in enumerate(((obs.ndvi_sd, floor_n), (obs.ndbi_sd, floor_u))):
        if math.isfinite(sd) and len(ordered) >= params.min_references:
            gains[i] = sd - ordered[int(params.texture_floor_quantile * (len(ordered) - 1))]
    return gains[0], gains[1]


def _keep_floor(obs: SpectralObservation, floor_n: list[float], floor_u: list[float]) -> None:
    if math.isfinite(obs.ndvi_sd):
        bisect.insort(floor_n, obs.ndvi_sd)
    if math.isfinite(obs.ndbi_sd):
        bisect.insort(floor_u, obs.ndbi_sd)


REFERENCE_SENSOR = "sentinel-2"


class _Harmonizer:
    """Each other sensor's bias against Sentinel-2 on this parcel, per index: the median
    difference of pairs of usable clear passes at most ``pair_days`` apart, once there are
    ``min_pairs`` of them (zero before). Band responses, view angles and atmospheric
    corrections differ by sensor and by surface, so one parcel's own pairs say more than a
    global coefficient."""

    __slots__ = ("_last", "_pairs", "_params", "offsets")

    def __init__(self, params: ChangeParams) -> None:
        self._params = params
        self._last: dict[str, tuple[int, float, float, float]] = {}
        self._pairs: dict[str, tuple[list[float], list[float], list[float]]] = {}
        self.offsets: dict[str, tuple[float, float, float]] = {REFERENCE_SENSOR: (0.0, 0.0, 0.0)}

    def offset(self, sensor: str) -> tuple[float, float, float]:
        return self.offsets.get(sensor, (0.0, 0.0, 0.0))

    def learn(self, obs: SpectralObservation, d: int) -> None:
        """Record a usable clear pass (raw values) and any pair it makes."""
        values = (d, obs.ndvi, obs.bsi, obs.ndbi)
        self._last[obs.sensor] = values
        if obs.sensor == REFERENCE_SENSOR:
            others = [(s, v, values) for s, v in self._last.items() if s != REFERENCE_SENSOR]
        else:
            ref = self._last.get(REFERENCE_SENSOR)
            others = [(obs.sensor, values, ref)] if ref is not None else []
        for sensor, other, ref in others:
            if abs(other[0] - ref[0]) > self._params.pair_days:
                continue
            pairs = self._pairs.setdefault(sensor, ([], [], []))
            for i in range(3):
                bisect.insort(pairs[i], other[i + 1] - ref[i + 1])
            if len(pairs[0]) >= self._params.min_pairs:
                mid = len(pairs[0]) // 2
                self.offsets[sensor] = (pairs[0][mid], pairs[1][mid], pairs[2][mid])


def detect(
    series: Sequence[SpectralObservation],
    *,
    area_m2: float,
    params: ChangeParams = ChangeParams(),
) -> ChangeResult:
    """Run the detector over a parcel's observations (any order; one per day)."""
    ordered = sorted(series, key=lambda o: o.day)
    if area_m2 < params.min_area_m2:
        steps = tuple(
            ChangeStep(o.day, is_clear(o, params), 0.0, ChangeState.TOO_SMALL) for o in ordered
        )
        return ChangeResult(ChangeState.TOO_SMALL, 0.0, None, None, steps)
    # Clear passes: day number, NDVI, max(BSI, NDBI); flagged ones leave the references.
    days: list[int] = []
    ndvi: list[float] = []
    bsi: list[float] = []
    ndbi: list[float] = []
    # Sorted standard deviations of the usable clear passes, per sensor (30 m pixels blur).
    floors: dict[str, tuple[list[float], list[float]]] = {}
    usable: list[bool] = []
    sensors: list[str] = []
    harmonizer = _Harmonizer(params)
    out: list[ChangeStep] = []
    state = ChangeState.INSUFFICIENT_HISTORY
    first_day = ordered[0].day.toordinal() if ordered else 0
    run: list[tuple[dt.date, float]] = []
    run_ndvi: list[float] = []
    run_contrast: list[float] = []
    ref_ndvi: list[float] = []  # the run's Sentinel-2 passes
    ref_contrast: list[float] = []
    run_textured = 0
    run_mild = 0
    run_sitelike = 0
    run_strong: list[bool] = []
    after_flood = False
    confirm_run: list[tuple[dt.date, float]] = []
    first: dt.date | None = None
    confirmed: dt.date | None = None
    recovered: dt.date | None = None
    healthy = 0
    score = 0.0
    last_water = -(10**9)  # day number of the last clear pass that looked like standing water
    w = params.window_days
    for obs in ordered:
        if not is_clear(obs, params):
            if (
                state is ChangeState.DETECTED
                and params.lone_gap_days
                and run
                and run_strong[-1]
                and not after_flood
                and (obs.day - run[-1][0]).days >= params.lone_gap_days
            ):
                state, confirmed, confirm_run = ChangeState.CONFIRMED, obs.day, list(run)
            out.append(ChangeStep(obs.day, False, score, state))
            continue
        d = obs.day.toordinal()
        raw = obs
        if obs.sensor != REFERENCE_SENSOR:
            off_n, off_b, off_u = harmonizer.offset(obs.sensor)
            obs = replace(obs, ndvi=obs.ndvi - off_n, bsi=obs.bsi - off_b, ndbi=obs.ndbi - off_u)
        floor_n, floor_u = floors.setdefault(obs.sensor, ([], []))
        ref_n: list[float] = []
        ref_b: list[float] = []
        ref_u: list[float] = []
        if d - first_day >= params.min_history_days:
            # The window, widened step by step when clouds left too few passes in it.
            for width in range(w, params.max_widening * w + 1, w):
                for k in range(1, params.years_back + 1):
                    centre = d - round(365.25 * k)
                    lo = bisect.bisect_left(days, centre - width)
                    hi = bisect.bisect_right(days, centre + width)
                    for j in range(lo, hi):
                        if usable[j]:
                            o_n, o_b, o_u = harmonizer.offset(sensors[j])
                            ref_n.append(ndvi[j] - o_n)
                            ref_b.append(bsi[j] - o_b)
                            ref_u.append(ndbi[j] - o_u)
                if len(ref_n) >= params.min_references:
                    break
                ref_n, ref_b, ref_u = [], [], []
        flagged = False
        if len(ref_n) < params.min_references:
            # Nothing to compare with: not judged, like a clouded pass (a run is not broken).
            days.append(d)
            ndvi.append(raw.ndvi)
            bsi.append(raw.bsi)
            ndbi.append(raw.ndbi)
            sensors.append(raw.sensor)
            usable.append(state is not ChangeState.CONFIRMED and state is not ChangeState.DETECTED)
            if usable[-1]:
                _keep_floor(obs, floor_n, floor_u)
                harmonizer.learn(raw, d)
            out.append(ChangeStep(obs.day, True, 0.0, state))
            continue
        if state is ChangeState.INSUFFICIENT_HISTORY:
            state = ChangeState.NONE
        loss = _quantile(ref_n, params.ref_quantile) - obs.ndvi
        gain = max(
            obs.bsi - _quantile(ref_b, 1.0 - params.ref_quantile),
            obs.ndbi - _quantile(ref_u, 1.0 - params.ref_quantile),
        )
        score = max(
            0.0,
            min(
                loss / params.min_ndvi_loss,
                gain / params.min_soil_gain if params.min_soil_gain else math.inf,
            ),
        )
        _, texture_u = _texture_gains(obs, floor_n, floor_u, params)
        if obs.sensor != REFERENCE_SENSOR:
            # 30 m pixels blur nets and huts into their neighbours; what spread is left on a
            # Landsat pass is mostly a cloud rim CFMask did not dilate over.
            texture_u = 0.0
        texture = texture_u  # a thin cloud edge left clear spreads NDVI, hardly NDBI
        textured = texture >= params.min_texture_gain
        sitelike = (textured or obs.ndvi <= params.site_ndvi) and obs.bsi > params.site_bsi
        flagged = score >= 1.0 and (obs.ndvi <= params.bare_ndvi or textured)
        if not flagged and sitelike and obs.ndvi <= params.bare_ndvi:
            # Already bare in this window of past years (winter stubble): a site shows as new
            # patchiness with more bare or built surface than the window's bare fields had.
            flagged = loss >= 0.0 and gain >= params.bare_season_gain
        if not flagged and obs.ndvi <= params.bare_ndvi and texture >= params.strong_texture_gain:
            flagged = gain >= -params.min_soil_gain and obs.bsi > params.site_bsi
        wetter = obs.ndbi <= _quantile(ref_u, params.ref_quantile) - params.min_soil_gain
        if obs.ndvi <= params.bare_ndvi and (
            (loss >= params.min_ndvi_loss and gain <= 0.0) or (loss > 0.0 and wetter)
        ):
            last_water = d  # green lost, soil not gained or SWIR absorbed: water on the field
        # A bare, dry pass in a window whose past fields were as bare: it neither shows a site
        # nor refutes one (what refutes a site is regrowth or water), so a run holds over it.
        held = (
            not flagged
            and state is ChangeState.DETECTED
            and bool(ref_ndvi)
            and obs.ndvi <= params.hold_ndvi
            and obs.bsi > params.site_bsi
            and obs.ndvi <= _quantile(run_ndvi, 0.5) + params.regrow_margin
        )
        days.append(d)
        ndvi.append(raw.ndvi)
        bsi.append(raw.bsi)
        ndbi.append(raw.ndbi)
        sensors.append(raw.sensor)
        usable.append(not flagged and not held and state is not ChangeState.CONFIRMED)
        if usable[-1]:
            _keep_floor(obs, floor_n, floor_u)
            harmonizer.learn(raw, d)
        if state is ChangeState.CONFIRMED:
            if not flagged and obs.ndvi >= params.recover_ndvi:
                healthy += 1
                if healthy >= params.recover_passes:
                    state, recovered, healthy = ChangeState.NONE, obs.day, 0
                    run, first = [], None
            else:
                healthy = 0
            out.append(ChangeStep(obs.day, True, score, state))
            continue
        if obs.ndvi <= params.water_ndvi and obs.bsi <= params.water_bsi:
            last_water = d
        if flagged:
            if not run:
                run_ndvi = []
                run_contrast = []
                ref_ndvi = []
                ref_contrast = []
                run_textured = 0
                run_mild = 0
                run_sitelike = 0
                run_strong = []
                after_flood = d - last_water <= params.after_water_days
            run.append((obs.day, max(score, 1.0)))
            run_ndvi.append(obs.ndvi)
            run_contrast.append(obs.bsi - obs.ndvi)
            if obs.sensor == REFERENCE_SENSOR:
                ref_ndvi.append(obs.ndvi)
                ref_contrast.append(obs.bsi - obs.ndvi)
            run_textured += textured and obs.bsi > params.site_bsi
            run_sitelike += sitelike
            run_mild += texture >= params.mild_texture_gain and obs.bsi > params.site_bsi
            run_strong.append(
                obs.bsi > params.site_bsi
                and obs.ndvi <= params.bare_ndvi
                and texture_u >= params.strong_texture_gain
                and obs.ndvi >= params.lone_min_ndvi
            )
            first = run[0][0]
            lasted = (obs.day - run[0][0]).days
            # A site: patchy passes, or a run mostly as bare as graded subsoil. Otherwise a
            # uniform bare field, as ploughing leaves, must stay bare past the ploughing season.
            # How bare: from Sentinel-2's 10 m looks when the run has enough of them (a 30 m
            # pixel mixes in the uncleared corners and the road, and reads greener).
            sharp = len(ref_ndvi) >= params.min_evidence
            subsoil = (
                len(run) >= params.min_evidence
                and _quantile(ref_ndvi if sharp else run_ndvi, 0.5) <= params.site_ndvi
                and obs.bsi > params.site_bsi
                and _quantile(ref_contrast if sharp else run_contrast, 0.5)
                >= params.subsoil_contrast
            )
            patchy = run_textured >= params.min_evidence or (
                run_textured >= 1 and run_sitelike >= params.min_evidence
            )
            fast = sum(run_strong) >= params.min_evidence
            wait = max(
                (params.fast_persist_days if fast else params.persist_days)
                if patchy
                else params.subsoil_persist_days
                if subsoil
                else params.mild_persist_days
                if run_mild >= params.min_evidence
                else params.uniform_wait_days,
                params.flood_wait_days if after_flood else 0,
            )
            regrowing = obs.ndvi > _quantile(run_ndvi, 0.5) + params.regrow_margin
            if lasted >= wait and len(run) >= params.min_evidence and not regrowing:
                state, confirmed, confirm_run = ChangeState.CONFIRMED, obs.day, list(run)
            else:
                state = ChangeState.DETECTED
        elif held or (
            state is ChangeState.DETECTED
            and run
            and obs.sensor != REFERENCE_SENSOR
            and score >= params.secondary_break_score
            and obs.ndvi <= _quantile(run_ndvi, 0.5) + params.regrow_margin
        ):
            if held:
                # Not evidence, but part of how bare the run is: a ploughed topsoil held over
                # its sowing window must not pass for graded subsoil on two flagged looks.
                run_ndvi.append(obs.ndvi)
                run_contrast.append(obs.bsi - obs.ndvi)
                if obs.sensor == REFERENCE_SENSOR:
                    ref_ndvi.append(obs.ndvi)
                    ref_contrast.append(obs.bsi - obs.ndvi)
            # A coarser sensor's look that shows part of the loss and no regrowth: it neither
            # confirms nor breaks the run, like a clouded pass (30 m pixels blur a site).
            if (
                params.lone_gap_days
                and run_strong[-1]
                and not after_flood
                and (obs.day - run[-1][0]).days >= params.lone_gap_days
            ):
                state, confirmed, confirm_run = ChangeState.CONFIRMED, obs.day, list(run)
        elif state is not ChangeState.INSUFFICIENT_HISTORY:
            run, first = [], None
            state = ChangeState.NONE
        out.append(ChangeStep(obs.day, True, score, state))
    current = confirm_run if state is ChangeState.CONFIRMED else run
    return ChangeResult(
        state,
        score,
        first if state is not ChangeState.CONFIRMED else confirm_run[0][0],
        confirmed if state is ChangeState.CONFIRMED else None,
        tuple(out),
        confidence=_confidence([s for _, s in current], params),
        evidence=tuple(day for day, _ in current),
        recovered=recovered,
    )


__all__ = [
    "ChangeParams",
    "ChangeResult",
    "ChangeState",
    "ChangeStep",
    "SpectralObservation",
    "detect",
    "is_clear",
]

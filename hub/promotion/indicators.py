"""Indicator series in the graph and the sensing analytics on them (issue 10).

Storage: ``(:Indicator)`` nodes (id, name, unit, frequency, polarity, barometer and race
weights), one ``(:IndicatorValue)`` per indicator, region and period and one
``(:IndicatorTarget)`` per indicator, region and year, linked ``OF_INDICATOR`` and
``FOR_REGION`` (``graph_schema.model``). They live in the graph rather than the telemetry
store: a province's whole history is tens of thousands of values (12 regions × 30
indicators × 10 years × 12 months ≈ 43,000), they join the region tree and names, they must
work on Neo4j as well as the embedded store, and as model entities they get upsert outcomes,
reference checks, import, export, deletion and unique keys from the spec table.

Imports (``hub import-indicators``) read the same CSV, JSON and JSON Lines layouts as chain
statistics (``hub.promotion.statistics``), one kind of record per run: indicator definitions,
values or targets. A value whose period is not of its indicator's frequency (a quarter for a monthly
indicator) is rejected as ``BAD_USER_INPUT``; an unknown indicator or region is ``NOT_FOUND``.

Reading an indicator at a period (``value_at``): its value for exactly that period, or else
the value of its period inside it that ends on the same day, e.g. December for a year or
March for the first quarter. Chinese statistics report year-to-date figures (累计), so the
last month of a quarter is the quarter's figure.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from graph_schema.errors import InvalidInput, NotFound, Problem
from graph_schema.model import (
    Frequency,
    Indicator,
    IndicatorValue,
    Polarity,
    Record,
    TargetBasis,
    frequency_of,
)
from graph_schema.periods import Granularity, Period, parse_period
from graph_schema.statements.indicators import (
    CHILDREN,
    INDICATORS,
    REGIONS,
    TARGETS,
    VALUES,
    VALUES_BY_KEY,
)
from graph_schema.statements.scoreboard import CITIES
from graph_schema.store import GraphStore
from hub.offload import offload
from hub.promotion.sensing import barometer as bm
from hub.promotion.sensing import forecast as fc
from hub.promotion.sensing import race as rc
from hub.promotion.sensing import targets as tg
from hub.promotion.sensing import tracking as tr
from hub.promotion.sensing.barometer import Observation
from hub.promotion.statistics import StatsReport, import_rows
from hub.settings import SensingSettings

KINDS: Final = {
    "indicators": "indicator",
    "values": "indicator_value",
    "targets": "indicator_target",
}
_GRANULARITY: Final = {
    Frequency.MONTHLY: Granularity.MONTH,
    Frequency.QUARTERLY: Granularity.QUARTER,
    Frequency.ANNUAL: Granularity.YEAR,
}
MAX_STEPS: Final = 240  # periods in one history request

Series = dict[str, list[Observation]]  # indicator → observations in period order
ValueRow = tuple[Any, Any, Any, Any]  # region, indicator, period label, value: as stored


# --- import and checks -------------------------------------------------------------------------


async def indicators(store: GraphStore) -> dict[str, Indicator]:
    """Every indicator, by id."""
    rows = await store.run(INDICATORS)
    found = (Indicator.model_validate(row["props"]) for row in rows)
    return {i.id: i for i in sorted(found, key=lambda i: i.id)}


def period_problems(known: Mapping[str, Indicator], record: Record) -> list[Problem]:
    """A value's period must be of its indicator's frequency (an unknown indicator is left to
    the writer's reference check, which reports it as NOT_FOUND)."""
    if not isinstance(record, IndicatorValue):
        return []
    indicator = known.get(record.indicator_id)
    if indicator is None:
        return []
    got = frequency_of(record.period)
    if got is indicator.frequency:
        return []
    return [
        Problem(
            "period",
            f"{record.period} is {got.value}; indicator {indicator.id} is {indicator.frequency}",
        )
    ]


async def import_files(
    store: GraphStore, kind: str, paths: Sequence[Path], *, batch_size: int = 5000
) -> StatsReport:
    """Import files of one kind (``indicators``, ``values`` or ``targets``), idempotently."""
    if kind not in KINDS:
        raise InvalidInput(f"kind: one of {', '.join(KINDS)}")
    known = await indicators(store) if kind == "values" else {}
    return await import_rows(
        store,
        KINDS[kind],
        paths,
        batch_size=batch_size,
        check=lambda record: period_problems(known, record),
    )


# --- reads ------------------------------------------------------------------------------------


async def values(
    store: GraphStore,
    regions: Sequence[str],
    names: Sequence[str],
    known: Mapping[str, Indicator] | None = None,
) -> dict[str, Series]:
    """region → indicator → observations in period order. Given the ``known`` indicators,
    values whose period is not of their indicator's frequency (stored before the frequency
    was changed) are left out."""
    return _by_region(regions, await value_rows(store, regions, names), granularities(known))


async def value_rows(
    store: GraphStore, regions: Sequence[str], names: Sequence[str]
) -> list[ValueRow]:
    """The stored values of ``names`` in ``regions``, as plain tuples: what the analytics send
    to their worker process, which parses and orders them there (``_by_region``), off the
    event loop."""
    rows = await store.run(VALUES, {"regions": list(regions), "indicators": list(names)})
    return [(r["region"], r["indicator"], r["period"], r["value"]) for r in rows]


def readings_of(period: Period) -> list[str]:
    """The period names ``value_at`` may read for ``period``: itself and its last quarter
    and month."""
    year, end = period.start.year, period.end
    names = [period.label]
    if period.granularity is Granularity.YEAR:
        names.append(f"{year}-Q4")
    if period.granularity is not Granularity.MONTH:
        names.append(f"{year}-{end.month:02d}")
    return names


async def values_for(
    store: GraphStore,
    regions: Sequence[str],
    names: Sequence[str],
    periods: Sequence[Period],
    known: Mapping[str, Indicator] | None = None,
) -> dict[str, Series]:
    """Like ``values``, but only what ``value_at`` reads for ``periods``, looked up by key."""
    rows = await value_rows_for(store, regions, names, periods)
    return _by_region(regions, rows, granularities(known))


async def value_rows_for(
    store: GraphStore, regions: Sequence[str], names: Sequence[str], periods: Sequence[Period]
) -> list[ValueRow]:
    """``values_for``'s rows, as plain tuples (see ``value_rows``)."""
    labels = sorted({label for p in periods for label in readings_of(p)})
    keys = [f"{n}/{r}/{label}" for r in regions for n in names for label in labels]
    rows = await store.run(VALUES_BY_KEY, {"keys": keys})
    keyed = ((str(row["key"]).split("/"), row["value"]) for row in rows)
    return [(r, n, label, v) for (n, r, label), v in keyed]


def granularities(known: Mapping[str, Indicator] | None) -> dict[str, Granularity] | None:
    """Each indicator's period length, by id: what ``_by_region`` needs of ``known``."""
    if known is None:
        return None
    return {name: _GRANULARITY[i.frequency] for name, i in known.items()}


def _by_region(
    regions: Sequence[str],
    rows: Iterable[ValueRow],
    granularity: Mapping[str, Granularity] | None,
) -> dict[str, Series]:
    """(region, indicator, period, value) rows → region → indicator → observations in order;
    a value whose period is not of its indicator's ``granularity`` is left out."""
    out: dict[str, Series] = {r: defaultdict(list) for r in regions}
    for region, name, label, value in rows:
        period = parse_period(label)
        wanted = granularity.get(name) if granularity is not None else None
        if wanted is not None and period.granularity is not wanted:
            continue
        out[region][name].append(Observation(period, float(value)))
    for series in out.values():
        for observations in series.values():
            observations.sort(key=lambda o: o.period)
    return out


async def require_region(store: GraphStore, code: str) -> str:
    rows = await store.run(REGIONS, {"codes": [code]})
    if not rows:
        raise NotFound(f"region {code} not found")
    return str(rows[0]["name"])


def period_arg(name: str, text: str) -> Period:
    try:
        return parse_period(text)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {exc}") from None


def steps(first: Period, last: Period, limit: int | None = MAX_STEPS) -> list[Period]:
    """The periods of ``first``'s length from ``first`` to ``last``, both included."""
    if first.granularity is not last.granularity:
        raise InvalidInput("from and to must be periods of the same length")
    if last < first:
        raise InvalidInput("to is before from")
    out = [first]
    while out[-1] < last:
        if limit is not None and len(out) >= limit:
            raise InvalidInput(f"at most {limit} periods per request")
        out.append(next_period(out[-1]))
    return out


def next_period(period: Period) -> Period:
    year = period.start.year
    if period.granularity is Granularity.YEAR:
        return parse_period(f"{year + 1}")
    months = 3 if period.granularity is Granularity.QUARTER else 1
    month = period.start.month + months
    if month > 12:
        year, month = year + 1, month - 12
    if period.granularity is Granularity.QUARTER:
        return parse_period(f"{year}-Q{(month + 2) // 3}")
    return parse_period(f"{year}-{month:02d}")


def value_at(series: Sequence[Observation], period: Period) -> float | None:
    """The value for ``period``, or that of the sub-period ending with it (see module doc)."""
    inside = None
    for o in series:
        if o.period == period:
            return o.value
        if o.period.end == period.end and o.period.start >= period.start:
            inside = o.value if inside is None else inside
    return inside


# --- barometer --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Barometer:
    region: str
    period: Period
    reading: bm.Reading


def bands(settings: SensingSettings) -> bm.HeatBands:
    return bm.HeatBands(
        settings.heat_cool_from,
        settings.heat_normal_from,
        settings.heat_warm_from,
        settings.heat_hot_from,
    )


def gauges(
    known: Mapping[str, Indicator], weights: Mapping[str, float] | None
) -> dict[str, bm.Gauge]:
    """The barometer's indicators: the given weights, or every indicator with a
    barometer weight."""
    chosen = weights or {
        i.id: i.barometer_weight for i in known.values() if i.barometer_weight is not None
    }
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise NotFound(f"indicators not found: {', '.join(unknown)}")
    return {
        name: bm.Gauge(weight, known[name].polarity is Polarity.POSITIVE)
        for name, weight in chosen.items()
    }


def _weights(weights: Mapping[str, float] | None) -> Mapping[str, float] | None:
    if weights is not None and (
        any(w < 0 for w in weights.values()) or not any(w > 0 for w in weights.values())
    ):
        raise InvalidInput("weights: non-negative, at least one positive")
    return weights


async def barometer_history(
    store: GraphStore,
    region: str,
    first: str,
    last: str,
    settings: SensingSettings,
    weights: Mapping[str, float] | None = None,
) -> list[Barometer]:
    """The barometer of ``region`` for each period from ``first`` to ``last``."""
    periods = steps(period_arg("from", first), period_arg("to", last))
    await require_region(store, region)
    known = await indicators(store)
    chosen = gauges(known, _weights(weights))
    rows = await value_rows(store, [region], sorted(chosen))
    # Parsing the series and reading every period is pure Python: in a worker process
    # (hub.offload), off the event loop, stopped at the deadline.
    readings = await offload(
        _barometer_readings,
        rows,
        region,
        granularities(known),
        chosen,
        [p.end for p in periods],
        bands(settings),
        settings.min_history,
        settings.history_window,
    )
    return [Barometer(region, p, r) for p, r in zip(periods, readings, strict=True)]


def _barometer_readings(
    rows: Sequence[ValueRow],
    region: str,
    granularity: Mapping[str, Granularity] | None,
    chosen: Mapping[str, bm.Gauge],
    ends: Sequence[dt.date],
    heat_bands: bm.HeatBands,
    min_history: int,
    window: int,
) -> list[bm.Reading]:
    """The barometer's readings at each of ``ends`` (runs in the worker process)."""
    series = _by_region([region], rows, granularity)[region]
    return [
        bm.reading(chosen, series, end, heat_bands, min_history=min_history, window=window)
        for end in ends
    ]


async def barometer(
    store: GraphStore,
    region: str,
    period: str,
    settings: SensingSettings,
    weights: Mapping[str, float] | None = None,
) -> Barometer:
    (found,) = await barometer_history(store, region, period, period, settings, weights)
    return found


# --- forecast ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvestmentForecast:
    region: str
    indicator: Indicator
    period: Period  # forecast for
    through: Period  # the last period of the target known
    result: fc.Forecast


async def investment_forecast(
    store: GraphStore,
    region: str,
    settings: SensingSettings,
    predictors: Sequence[str] | None = None,
    through: str | None = None,
) -> InvestmentForecast:
    """Next-period investment growth of ``region`` from the barometer's indicators (or
    ``predictors``) of the target's frequency; with ``through``, as it would have been made
    with the data of periods ending by then (e.g. the 2022 outlook at the end of 2021)."""
    cutoff = period_arg("through", through).end if through else None
    await require_region(store, region)
    known = await indicators(store)
    target = known.get(settings.investment_indicator)
    if target is None:
        raise NotFound(f"indicator {settings.investment_indicator} (the forecast target)")
    names = list(predictors) if predictors is not None else list(gauges(known, None))
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise NotFound(f"indicators not found: {', '.join(unknown)}")
    names = [n for n in names if n != target.id]
    rows = await value_rows(store, [region], [target.id, *names])
    frequencies = {n: known[n].frequency for n in (target.id, *names)}
    # Parsing the series, aligning them and fitting the model are pure Python: in a worker
    # process (hub.offload), off the event loop, stopped at the deadline. It sends back the
    # period trained through and the model's result, nothing else.
    try:
        trained, result = await offload(
            _forecast,
            rows,
            region,
            target.id,
            names,
            frequencies,
            cutoff,
            max_lag=settings.forecast_max_lag,
            min_train=settings.forecast_min_train,
            confidence=settings.confidence,
        )
    except fc.NotEnoughData as exc:
        raise InvalidInput(f"region {region}: {exc}") from None
    return InvestmentForecast(region, target, next_period(trained), trained, result)


def _forecast(
    rows: Sequence[ValueRow],
    region: str,
    target: str,
    names: Sequence[str],
    frequencies: Mapping[str, Frequency],
    cutoff: dt.date | None,
    *,
    max_lag: int,
    min_train: int,
    confidence: float,
) -> tuple[Period, fc.Forecast]:
    """``investment_forecast``'s work on the rows (runs in the worker process)."""
    granularity = {n: _GRANULARITY[f] for n, f in frequencies.items()}
    series = _by_region([region], rows, granularity)[region]
    if cutoff is not None:
        series = {n: [o for o in obs if o.period.end <= cutoff] for n, obs in series.items()}
    own = series.get(target, [])
    if not own:
        raise InvalidInput(f"region {region} has no values of {target} by then")
    target_frequency = frequencies[target]
    granularity_of_target = granularity[target]
    periods = [o.period for o in own] + [
        o.period
        for n in names
        for o in series.get(n, [])
        if o.period.granularity is granularity_of_target and o.period < own[-1].period
    ]
    grid = steps(min(periods), own[-1].period, limit=None)
    position = {p.label: k for k, p in enumerate(grid)}

    def aligned(observations: Sequence[Observation]) -> list[float | None]:
        out: list[float | None] = [None] * len(grid)
        for o in observations:
            k = position.get(o.period.label)
            if k is not None:
                out[k] = o.value
        return out

    lagged: dict[str, list[float | None]] = {}
    excluded: dict[str, str] = {}
    for name in names:
        if frequencies[name] is not target_frequency:
            excluded[name] = f"{frequencies[name]}; the target is {target_frequency}"
        else:
            lagged[name] = aligned(series.get(name, []))
    result = fc.forecast(
        aligned(own), lagged, max_lag=max_lag, min_train=min_train, confidence=confidence
    )
    return grid[-1], dataclasses.replace(result, excluded={**result.excluded, **excluded})


# --- target derivation ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetDerivation:
    region: str
    derivation: tg.Derivation
    pairs: list[tuple[Period, float, float]]  # period, investment growth, GDP growth


async def derive_investment_target(
    store: GraphStore,
    region: str,
    gdp_target: float,
    settings: SensingSettings,
    confidence: float | None = None,
) -> TargetDerivation:
    """The investment growth ``region`` needs for ``gdp_target`` (%), from its history."""
    await require_region(store, region)
    gdp, inv = settings.gdp_indicator, settings.investment_indicator
    known = await indicators(store)
    for name in (gdp, inv):
        if name not in known:
            raise NotFound(f"indicator {name} not found")
    rows = await value_rows(store, [region], [gdp, inv])
    # In a worker process (hub.offload), like the other analytics: off the event loop.
    derivation, pairs = await offload(
        _derive,
        rows,
        region,
        gdp,
        inv,
        granularities(known),
        gdp_target,
        confidence or settings.confidence,
    )
    return TargetDerivation(region, derivation, pairs)


def _derive(
    rows: Sequence[ValueRow],
    region: str,
    gdp: str,
    inv: str,
    granularity: Mapping[str, Granularity] | None,
    gdp_target: float,
    confidence: float,
) -> tuple[tg.Derivation, list[tuple[Period, float, float]]]:
    """``derive_investment_target``'s work on the rows (runs in the worker process)."""
    series = _by_region([region], rows, granularity)[region]
    pairs = []
    for o in series.get(gdp, []):
        i = value_at(series.get(inv, []), o.period)
        if i is not None:
            pairs.append((o.period, i, o.value))
    try:
        relation = tg.fit([p[1] for p in pairs], [p[2] for p in pairs])
        derivation = tg.derive(relation, gdp_target, confidence=confidence)
    except tg.NoRelation as exc:
        raise InvalidInput(f"region {region}: {exc}") from None
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return derivation, pairs


# --- tracking ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tracked:
    indicator: Indicator
    region: str
    year: int
    target: float
    basis: TargetBasis
    progress: tr.Progress


async def tracking(
    store: GraphStore,
    year: int,
    settings: SensingSettings,
    region: str | None = None,
    as_of: dt.date | None = None,
) -> list[Tracked]:
    """Every target of ``year`` (in ``region`` when given) with its progress."""
    if region is not None:
        await require_region(store, region)
    rows = await store.run(TARGETS, {"year": year, "region": region})
    known = await indicators(store)
    regions = sorted({str(r["region"]) for r in rows})
    names = sorted({str(r["indicator"]) for r in rows})
    if not rows:
        return []
    values_found = await value_rows(store, regions, names)
    thresholds = tr.Thresholds(settings.tracking_red, settings.tracking_yellow)
    targets = sorted(
        (
            (
                str(row["region"]),
                known[row["indicator"]],
                float(row["target"]),
                TargetBasis(row["basis"]),
            )
            for row in rows
        ),
        key=lambda t: (t[0], t[1].id),
    )
    # Parsing the series and each target's progress in a worker process (hub.offload).
    progress = await offload(
        _progress,
        values_found,
        regions,
        granularities(known),
        [
            (region_, i.id, target, tr.Basis(basis.value), i.polarity is Polarity.POSITIVE)
            for region_, i, target, basis in targets
        ],
        year,
        thresholds,
        as_of,
    )
    return [
        Tracked(indicator, region_, year, target, basis, found)
        for (region_, indicator, target, basis), found in zip(targets, progress, strict=True)
    ]


def _progress(
    rows: Sequence[ValueRow],
    regions: Sequence[str],
    granularity: Mapping[str, Granularity] | None,
    targets: Sequence[tuple[str, str, float, tr.Basis, bool]],
    year: int,
    thresholds: tr.Thresholds,
    as_of: dt.date | None,
) -> list[tr.Progress]:
    """Each target's progress (runs in the worker process)."""
    series = _by_region(regions, rows, granularity)
    return [
        tr.progress(
            target,
            basis,
            year,
            series[region].get(name, []),
            thresholds,
            higher_is_better=higher,
            as_of=as_of,
        )
        for region, name, target, basis, higher in targets
    ]


# --- race -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Race:
    period: Period
    normalisation: rc.Normalisation
    weights: dict[str, float]
    indicators: dict[str, Indicator]
    entries: list[rc.Entry]


async def race_field(store: GraphStore, within: str | None) -> list[str]:
    """The regions in the race: the children of ``within``, or every city."""
    if within is None:
        rows = await store.run(CITIES, {"level": "city"})
    else:
        await require_region(store, within)
        rows = await store.run(CHILDREN, {"within": within})
    return sorted(str(r["code"]) for r in rows)


async def race_history(
    store: GraphStore,
    first: str,
    last: str,
    settings: SensingSettings,
    *,
    within: str | None = None,
    weights: Mapping[str, float] | None = None,
    normalisation: rc.Normalisation | None = None,
    leaders: int | None = None,
) -> list[Race]:
    """The race for each period from ``first`` to ``last`` (quarters, as a rule)."""
    periods = steps(period_arg("from", first), period_arg("to", last))
    known = await indicators(store)
    chosen = dict(
        _weights(weights)
        or {i.id: i.race_weight for i in known.values() if i.race_weight is not None}
    )
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise NotFound(f"indicators not found: {', '.join(unknown)}")
    if not any(w > 0 for w in chosen.values()):
        raise InvalidInput("no race indicators: give weights or set race weights on indicators")
    regions = await race_field(store, within)
    rows = await value_rows_for(store, regions, sorted(chosen), periods)
    how = normalisation or rc.Normalisation(settings.race_normalisation)
    higher = {name: known[name].polarity is Polarity.POSITIVE for name in chosen}
    # Parsing the values, normalising and ranking every region on every indicator, per period,
    # is pure Python: in a worker process (hub.offload), off the event loop, stopped at the
    # deadline.
    tables = await offload(
        _race_periods,
        periods,
        regions,
        rows,
        granularities(known),
        chosen,
        higher,
        how,
        leaders or settings.race_leaders,
    )
    return [
        Race(p, how, chosen, {n: known[n] for n in chosen}, entries)
        for p, entries in zip(periods, tables, strict=True)
    ]


def _race_periods(
    periods: Sequence[Period],
    regions: Sequence[str],
    rows: Sequence[ValueRow],
    granularity: Mapping[str, Granularity] | None,
    chosen: Mapping[str, float],
    higher: Mapping[str, bool],
    how: rc.Normalisation,
    leaders: int,
) -> list[Any]:
    """The race's entries for each period (runs in the worker process)."""
    series = _by_region(regions, rows, granularity)
    out = []
    for p in periods:
        table = {r: {n: value_at(series[r].get(n, []), p) for n in chosen} for r in regions}
        out.append(rc.race(table, chosen, higher, normalisation=how, leaders=leaders))
    return out


async def race(
    store: GraphStore,
    period: str,
    settings: SensingSettings,
    *,
    within: str | None = None,
    weights: Mapping[str, float] | None = None,
    normalisation: rc.Normalisation | None = None,
    leaders: int | None = None,
) -> Race:
    (found,) = await race_history(
        store,
        period,
        period,
        settings,
        within=within,
        weights=weights,
        normalisation=normalisation,
        leaders=leaders,
    )
    return found

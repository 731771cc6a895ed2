"""GraphQL for investment sensing and evaluation (issue 10): the barometer, the forecast,
target derivation, indicator tracking and the regional race (indicators themselves, their
series and mutations are in ``hub.api.indicators``).

The rules behind each figure are stated once, in ``hub.promotion.sensing`` (pure functions) and
``hub.promotion.indicators`` (how series are read from the graph); descriptions here point to them.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graph_schema.errors import InvalidInput
from hub.api import lists
from hub.api.context import Context
from hub.api.entities.region import Region
from hub.api.enums import TargetBasis, WarningLevel
from hub.api.indicators import Indicator
from hub.api.paging import key_of
from hub.api.scalars import Period
from hub.promotion import indicators as ind
from hub.promotion.sensing import race as rc
from hub.promotion.sensing.barometer import IndicatorHeat, Reading

Ctx = Info[Context, None]


def _arg(description: str) -> Any:
    return strawberry.argument(description=description)


# --- enums ------------------------------------------------------------------------------------


@strawberry.enum(description="Heat of investment, by percentile bands (HUB_SENSING_HEAT_*).")
class HeatLevel(Enum):
    COLD = strawberry.enum_value("cold", description="Below the cool band.")
    COOL = strawberry.enum_value("cool", description="From HUB_SENSING_HEAT_COOL_FROM.")
    NORMAL = strawberry.enum_value("normal", description="From HUB_SENSING_HEAT_NORMAL_FROM.")
    WARM = strawberry.enum_value("warm", description="From HUB_SENSING_HEAT_WARM_FROM.")
    HOT = strawberry.enum_value("hot", description="From HUB_SENSING_HEAT_HOT_FROM.")


# One warning enum for the whole API (issue 27); this module's name for it stays for callers.
TrackingWarning = WarningLevel


@strawberry.enum(description="How race values become comparable scores.")
class RaceNormalisation(Enum):
    MIN_MAX = strawberry.enum_value(
        "min_max", description="100 × (x − min) / (max − min) across the regions: 0 to 100."
    )
    Z_SCORE = strawberry.enum_value(
        "z_score", description="(x − mean) / sd across the regions (population sd)."
    )


# --- indicators and series --------------------------------------------------------------------


@strawberry.input(description="An indicator and its weight, overriding the stored weights.")
class IndicatorWeightInput:
    indicator_id: str | None = strawberry.field(
        default=None, description="Indicator id (or global id); required (or the old name)."
    )
    weight: float = strawberry.field(description="Non-negative weight.")
    indicator: str | None = strawberry.field(
        default=None, description="Indicator id.", deprecation_reason="Use indicatorId."
    )


def _weights(items: list[IndicatorWeightInput] | None) -> dict[str, float] | None:
    if items is None:
        return None
    out: dict[str, float] = {}
    for item in items:
        given = [v for v in (item.indicator_id, item.indicator) if v is not None]
        if len(given) != 1:
            raise InvalidInput("weights: give each weight's indicatorId (once)")
        indicator = key_of(given[0], "Indicator")
        if indicator in out:
            raise InvalidInput(f"weights: {indicator} given twice")
        out[indicator] = item.weight
    return out


def _region_key(code: str | None) -> str | None:
    return None if code is None else key_of(code, "Region")


async def _region(info: Ctx, code: str) -> Region:
    region = await lists.by_key(info, "region", code, Region)
    assert region is not None  # checked when the figures were computed
    return region


# --- barometer --------------------------------------------------------------------------------


@strawberry.type(
    description="One indicator in the barometer (see hub/promotion/sensing/barometer.py)."
)
class IndicatorHeatReading:
    indicator: Indicator = strawberry.field(description="The indicator.")
    weight: float = strawberry.field(description="Its weight in the composite.")
    period: Period | None = strawberry.field(
        description="Period of the current value: the latest ending by the barometer's period."
    )
    value: float | None = strawberry.field(description="The current value.")
    history: int = strawberry.field(description="Values up to and including the current one.")
    percentile: float | None = strawberry.field(
        description="Mid-rank percentile of the current value in that history, 0 (lowest) to "
        "100 (highest); null below HUB_SENSING_MIN_HISTORY values."
    )
    heat_percentile: float | None = strawberry.field(
        description="The percentile, or 100 − percentile for a negative-polarity indicator."
    )
    heat: HeatLevel | None = strawberry.field(description="Heat band of heatPercentile.")

    @classmethod
    def of(cls, h: IndicatorHeat, indicator: Any) -> IndicatorHeatReading:
        return cls(
            indicator=Indicator.of(indicator),
            weight=h.weight,
            period=Period(h.period.label) if h.period else None,
            value=h.value,
            history=h.history,
            percentile=h.percentile,
            heat_percentile=h.heat_percentile,
            heat=HeatLevel(h.heat.value) if h.heat else None,
        )


@strawberry.type(description="The investment barometer of one region for one period.")
class Barometer:
    period: Period = strawberry.field(description="The period, as given.")
    to: dt.date = strawberry.field(description="Values of periods ending by this day count.")
    composite: float | None = strawberry.field(
        description="Weighted mean heat percentile of the indicators that have one (weights "
        "renormalised over them); null when none has."
    )
    heat: HeatLevel | None = strawberry.field(description="Heat band of the composite.")
    coverage: float = strawberry.field(
        description="Share of the total weight whose indicators took part (0 to 1)."
    )
    indicators: list[IndicatorHeatReading] = strawberry.field(description="By indicator id.")
    code: strawberry.Private[str]

    @strawberry.field(description="The region's code.")
    def region_code(self) -> str:
        return self.code

    @strawberry.field(description="The region.")
    async def region(self, info: Ctx) -> Region:
        return await _region(info, self.code)

    @classmethod
    def of(cls, b: ind.Barometer, known: dict[str, Any]) -> Barometer:
        r: Reading = b.reading
        return cls(
            period=Period(b.period.label),
            to=r.end,
            composite=r.composite,
            heat=HeatLevel(r.heat.value) if r.heat else None,
            coverage=r.coverage,
            indicators=[IndicatorHeatReading.of(h, known[h.indicator]) for h in r.indicators],
            code=b.region,
        )


# --- forecast ---------------------------------------------------------------------------------


@strawberry.type(description="One-step-ahead errors of a rolling-origin backtest.")
class BacktestErrors:
    mae: float = strawberry.field(description="Mean absolute error, in the target's unit.")
    rmse: float = strawberry.field(description="Root mean squared error.")
    points: int = strawberry.field(description="Backtest forecasts the errors are over.")


@strawberry.type(description="One leading indicator in the forecast model.")
class ForecastTerm:
    indicator: Indicator = strawberry.field(description="The indicator.")
    lag: int = strawberry.field(description="Periods it leads the target by.")
    coefficient: float = strawberry.field(
        description="Target units per unit of the indicator, lag periods earlier."
    )


@strawberry.type(description="An indicator left out of the model, and why.")
class ForecastExclusion:
    indicator: str = strawberry.field(
        description="Indicator id.", deprecation_reason="Use indicatorId (the same value)."
    )
    reason: str = strawberry.field(description="Why.")

    @strawberry.field(description="The indicator's id (indicatorId).")
    def indicator_id(self) -> str:
        return self.indicator


@strawberry.type(
    description="Next-period investment growth from lagged leading indicators: a ridge "
    "regression whose lags and penalty were chosen by rolling-origin backtest (see "
    "hub/promotion/sensing/forecast.py). The backtest also chose the model, so compare with "
    "`naive`."
)
class InvestmentForecast:
    indicator: Indicator = strawberry.field(description="The target (HUB_SENSING_INVESTMENT_*).")
    period: Period = strawberry.field(description="The period forecast.")
    trained_through: Period = strawberry.field(description="The last period of the target known.")
    value: float = strawberry.field(description="The forecast, in the target's unit.")
    low: float = strawberry.field(description="Lower bound: value − z × backtest RMSE.")
    high: float = strawberry.field(description="Upper bound: value + z × backtest RMSE.")
    confidence: float = strawberry.field(description="Level of the bounds.")
    intercept: float = strawberry.field(description="The model's intercept.")
    penalty: float = strawberry.field(
        description="Ridge penalty per training row on standardised coefficients."
    )
    terms: list[ForecastTerm] = strawberry.field(description="Chosen indicators and lags.")
    backtest: BacktestErrors = strawberry.field(description="The chosen model's errors.")
    naive: BacktestErrors = strawberry.field(
        description="A no-change forecast's errors over the same points."
    )
    observations: int = strawberry.field(description="Periods the final model was fitted on.")
    excluded: list[ForecastExclusion] = strawberry.field(description="Indicators left out.")
    code: strawberry.Private[str]

    @strawberry.field(description="The region's code.")
    def region_code(self) -> str:
        return self.code

    @strawberry.field(description="The region.")
    async def region(self, info: Ctx) -> Region:
        return await _region(info, self.code)


# --- target derivation ------------------------------------------------------------------------


@strawberry.type(description="One period of the investment–GDP relation.")
class RelationPoint:
    period: Period = strawberry.field(description="The GDP indicator's period.")
    investment_growth: float = strawberry.field(description="Investment growth, %.")
    gdp_growth: float = strawberry.field(description="GDP growth, %.")


@strawberry.type(
    description="The investment growth a GDP growth target needs, from the least-squares line "
    "of GDP growth on investment growth, with its inverse prediction interval (see "
    "hub/promotion/sensing/targets.py)."
)
class InvestmentTarget:
    gdp_growth_target: float = strawberry.field(description="The GDP growth target, %.")
    required_investment_growth: float = strawberry.field(description="(target − a) / b, %.")
    low: float | None = strawberry.field(
        description="Lower bound; null when the slope is not clearly non-zero."
    )
    high: float | None = strawberry.field(description="Upper bound; null likewise.")
    confidence: float = strawberry.field(description="Level of the interval.")
    elasticity: float = strawberry.field(
        description="b: points of GDP growth per point of investment growth."
    )
    intercept: float = strawberry.field(description="a: GDP growth at zero investment growth.")
    r_squared: float = strawberry.field(description="Share of GDP growth's variance explained.")
    residual_sd: float = strawberry.field(description="s, the residual standard deviation.")
    observations: int = strawberry.field(description="Periods in the fit.")
    history: list[RelationPoint] = strawberry.field(description="The periods fitted.")
    code: strawberry.Private[str]

    @strawberry.field(description="The region's code.")
    def region_code(self) -> str:
        return self.code

    @strawberry.field(description="The region.")
    async def region(self, info: Ctx) -> Region:
        return await _region(info, self.code)


# --- tracking ---------------------------------------------------------------------------------


@strawberry.type(description="A key indicator's yearly target and progress (see tracking.py).")
class IndicatorTracking:
    indicator: Indicator = strawberry.field(description="The indicator.")
    year: int = strawberry.field(description="The target year.")
    target: float = strawberry.field(description="The target, in the indicator's unit.")
    basis: TargetBasis = strawberry.field(description="Level or total.")
    actual: float | None = strawberry.field(
        description="Latest value (level) or the year's sum so far (total); null: none yet."
    )
    reported: int = strawberry.field(description="Values of the year counted.")
    through: dt.date | None = strawberry.field(description="End of the latest period counted.")
    attainment: float | None = strawberry.field(
        description="actual ÷ target (target ÷ actual where lower is better)."
    )
    schedule_share: float | None = strawberry.field(
        description="Share of the year elapsed at `through` (序时进度); totals only."
    )
    ratio: float | None = strawberry.field(
        description="What the warning reads: attainment, or attainment ÷ scheduleShare."
    )
    met: bool | None = strawberry.field(description="Whether the target is reached already.")
    warning: WarningLevel | None = strawberry.field(
        description="Against HUB_SENSING_TRACKING_*: GREEN on track, YELLOW below the yellow "
        "threshold, RED below the red one."
    )
    code: strawberry.Private[str]

    @strawberry.field(description="The region's code.")
    def region_code(self) -> str:
        return self.code

    @strawberry.field(description="The region.")
    async def region(self, info: Ctx) -> Region:
        return await _region(info, self.code)


# --- race -------------------------------------------------------------------------------------


@strawberry.type(description="One indicator's part in a region's race composite.")
class RaceScore:
    indicator: Indicator = strawberry.field(description="The indicator.")
    weight: float = strawberry.field(description="Its weight.")
    value: float | None = strawberry.field(description="The region's value; null: not reported.")
    score: float | None = strawberry.field(
        description="Normalised score (the lowest in the field when not reported); null when "
        "no region reported the indicator."
    )


@strawberry.type(description="One region's place in the race.")
class RaceEntry:
    composite: float | None = strawberry.field(
        description="Σ weight × score ÷ Σ weight; null when the region reported nothing."
    )
    rank: int | None = strawberry.field(
        description="Standard competition rank, 1 highest: ties share a rank and the next is "
        "skipped (1, 2, 2, 4)."
    )
    leader: bool = strawberry.field(description="Ranked within the leading places.")
    scores: list[RaceScore] = strawberry.field(description="By indicator id.")
    code: strawberry.Private[str]

    @strawberry.field(description="The region's code.")
    def region_code(self) -> str:
        return self.code

    @strawberry.field(description="The region.")
    async def region(self, info: Ctx) -> Region:
        return await _region(info, self.code)


@strawberry.type(
    description="The regional race (投资赛马) for one period: normalised scores, a weighted "
    "composite, competition ranks and the leaders (see hub/promotion/sensing/race.py)."
)
class RegionalRace:
    period: Period = strawberry.field(description="The period, as given.")
    from_: dt.date = strawberry.field(name="from", description="First day of the period.")
    to: dt.date = strawberry.field(description="Last day of the period.")
    normalisation: RaceNormalisation = strawberry.field(description="How scores were made.")
    entries: list[RaceEntry] = strawberry.field(
        description="Every region in rank order (unranked last)."
    )
    leaders: list[RaceEntry] = strawberry.field(description="The leading regions.")


def _race(r: ind.Race) -> RegionalRace:
    entries = [
        RaceEntry(
            composite=e.composite,
            rank=e.rank,
            leader=e.leader,
            scores=[
                RaceScore(
                    indicator=Indicator.of(r.indicators[name]),
                    weight=r.weights[name],
                    value=e.values[name],
                    score=e.scores[name],
                )
                for name in sorted(r.weights)
            ],
            code=e.region,
        )
        for e in r.entries
    ]
    return RegionalRace(
        period=Period(r.period.label),
        from_=r.period.start,
        to=r.period.end,
        normalisation=RaceNormalisation(r.normalisation.value),
        entries=entries,
        leaders=[e for e in entries if e.leader],
    )


def _normalisation(value: RaceNormalisation | None) -> rc.Normalisation | None:
    return None if value is None else rc.Normalisation(str(value.value))


# --- queries ----------------------------------------------------------------------------------


WeightsArg = Annotated[
    list[IndicatorWeightInput] | None,
    strawberry.argument(description="Indicators and weights to use instead of the stored ones."),
]


@strawberry.type(description="Investment sensing and evaluation.")
class SensingQuery:
    @strawberry.field(
        description="The investment barometer (投资晴雨表) of a region for a period: each "
        "indicator's percentile in its own history, its heat, and the weighted composite."
    )
    async def barometer(
        self,
        info: Ctx,
        region: Annotated[str, _arg("Region code (or global id).")],
        period: Annotated[
            Period, _arg("A month, quarter or year (not a half-month): values ending by its end.")
        ],
        weights: WeightsArg = None,
    ) -> Barometer:
        ctx = info.context
        code = key_of(region, "Region")
        found = await ind.barometer(ctx.store, code, period, ctx.sensing, _weights(weights))
        return Barometer.of(found, await ind.indicators(ctx.store))

    @strawberry.field(description="The barometer for each period from `from` to `to`.")
    async def barometer_history(
        self,
        info: Ctx,
        region: Annotated[str, _arg("Region code (or global id).")],
        from_: Annotated[
            Period, strawberry.argument(name="from", description="First period, e.g. 2024-01.")
        ],
        to: Annotated[Period, _arg("Last period, of the same length as from.")],
        weights: WeightsArg = None,
    ) -> list[Barometer]:
        ctx = info.context
        found = await ind.barometer_history(
            ctx.store, key_of(region, "Region"), from_, to, ctx.sensing, _weights(weights)
        )
        known = await ind.indicators(ctx.store)
        return [Barometer.of(b, known) for b in found]

    @strawberry.field(
        description="Next-period fixed-asset investment growth of a region, with the model "
        "and its backtest errors."
    )
    async def investment_forecast(
        self,
        info: Ctx,
        region: Annotated[str, _arg("Region code (or global id).")],
        indicators: Annotated[
            list[str] | None,
            _arg("Leading indicators to use, ids or global ids (default: the barometer's)."),
        ] = None,
        through: Annotated[
            Period | None,
            _arg("Use only periods ending by this one: the forecast as made then (default: all)."),
        ] = None,
    ) -> InvestmentForecast:
        ctx = info.context
        code = key_of(region, "Region")
        chosen = None if indicators is None else [key_of(i, "Indicator") for i in indicators]
        f = await ind.investment_forecast(ctx.store, code, ctx.sensing, chosen, through)
        known = await ind.indicators(ctx.store)
        r = f.result
        return InvestmentForecast(
            indicator=Indicator.of(f.indicator),
            period=Period(f.period.label),
            trained_through=Period(f.through.label),
            value=r.value,
            low=r.low,
            high=r.high,
            confidence=r.confidence,
            intercept=r.intercept,
            penalty=r.alpha,
            terms=[
                ForecastTerm(
                    indicator=Indicator.of(known[name]),
                    lag=lag,
                    coefficient=r.coefficients[name],
                )
                for name, lag in r.lags.items()
            ],
            backtest=BacktestErrors(
                mae=r.backtest.mae, rmse=r.backtest.rmse, points=r.backtest.points
            ),
            naive=BacktestErrors(mae=r.naive.mae, rmse=r.naive.rmse, points=r.naive.points),
            observations=r.observations,
            excluded=[
                ForecastExclusion(indicator=k, reason=v) for k, v in sorted(r.excluded.items())
            ],
            code=f.region,
        )

    @strawberry.field(
        description="The fixed-asset investment growth a GDP growth target needs in a region, "
        "from its history of both (HUB_SENSING_GDP_INDICATOR, HUB_SENSING_INVESTMENT_INDICATOR)."
    )
    async def investment_target(
        self,
        info: Ctx,
        region: Annotated[str, _arg("Region code (or global id).")],
        gdp_growth_target: Annotated[float, _arg("GDP growth target, %.")],
        confidence: Annotated[
            float | None, _arg("Interval level (default HUB_SENSING_CONFIDENCE).")
        ] = None,
    ) -> InvestmentTarget:
        ctx = info.context
        t = await ind.derive_investment_target(
            ctx.store, key_of(region, "Region"), gdp_growth_target, ctx.sensing, confidence
        )
        d, rel = t.derivation, t.derivation.relation
        return InvestmentTarget(
            gdp_growth_target=d.gdp_target,
            required_investment_growth=d.required_investment,
            low=d.low,
            high=d.high,
            confidence=d.confidence,
            elasticity=rel.elasticity,
            intercept=rel.intercept,
            r_squared=rel.r_squared,
            residual_sd=rel.residual_sd,
            observations=rel.observations,
            history=[
                RelationPoint(period=Period(p.label), investment_growth=i, gdp_growth=g)
                for p, i, g in t.pairs
            ],
            code=t.region,
        )

    @strawberry.field(
        description="Key indicators against their targets for a year: progress and warnings "
        "(HUB_SENSING_TRACKING_*), by region then indicator."
    )
    async def indicator_tracking(
        self,
        info: Ctx,
        year: Annotated[int, _arg("Target year.")],
        region: Annotated[
            str | None, _arg("Only this region's targets (code or global id).")
        ] = None,
        as_of: Annotated[dt.date | None, _arg("Count values of periods ending by then.")] = None,
    ) -> list[IndicatorTracking]:
        ctx = info.context
        rows = await ind.tracking(ctx.store, year, ctx.sensing, _region_key(region), as_of)
        return [
            IndicatorTracking(
                indicator=Indicator.of(t.indicator),
                year=t.year,
                target=t.target,
                basis=TargetBasis(t.basis.value),
                actual=t.progress.actual,
                reported=t.progress.reported,
                through=t.progress.through,
                attainment=t.progress.attainment,
                schedule_share=t.progress.schedule_share,
                ratio=t.progress.ratio,
                met=t.progress.met,
                warning=WarningLevel(t.progress.warning.value) if t.progress.warning else None,
                code=t.region,
            )
            for t in rows
        ]

    @strawberry.field(
        description="The regional race for a period (a quarter, as a rule): the cities, or the "
        "regions directly within `within`, on the race indicators."
    )
    async def regional_race(
        self,
        info: Ctx,
        period: Annotated[Period, _arg("A quarter (or a month or year; not a half-month).")],
        within: Annotated[
            str | None, _arg("Race the regions directly within this one (code or global id).")
        ] = None,
        weights: WeightsArg = None,
        normalisation: Annotated[
            RaceNormalisation | None, _arg("Default HUB_SENSING_RACE_NORMALISATION.")
        ] = None,
        leaders: Annotated[
            int | None, _arg("Leading places (default HUB_SENSING_RACE_LEADERS).")
        ] = None,
    ) -> RegionalRace:
        ctx = info.context
        found = await ind.race(
            ctx.store,
            period,
            ctx.sensing,
            within=_region_key(within),
            weights=_weights(weights),
            normalisation=_normalisation(normalisation),
            leaders=_leaders(leaders),
        )
        return _race(found)

    @strawberry.field(description="The race for each period from `from` to `to`.")
    async def race_history(
        self,
        info: Ctx,
        from_: Annotated[
            Period, strawberry.argument(name="from", description="First period, e.g. 2025-Q1.")
        ],
        to: Annotated[Period, _arg("Last period, of the same length as from.")],
        within: Annotated[
            str | None, _arg("Race the regions directly within this one (code or global id).")
        ] = None,
        weights: WeightsArg = None,
        normalisation: Annotated[
            RaceNormalisation | None, _arg("Default HUB_SENSING_RACE_NORMALISATION.")
        ] = None,
        leaders: Annotated[
            int | None, _arg("Leading places (default HUB_SENSING_RACE_LEADERS).")
        ] = None,
    ) -> list[RegionalRace]:
        ctx = info.context
        found = await ind.race_history(
            ctx.store,
            from_,
            to,
            ctx.sensing,
            within=_region_key(within),
            weights=_weights(weights),
            normalisation=_normalisation(normalisation),
            leaders=_leaders(leaders),
        )
        return [_race(r) for r in found]


def _leaders(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise InvalidInput("leaders: at least 1")
    return value

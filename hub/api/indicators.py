"""GraphQL for indicators (issue 10): definitions, series, values and targets, and their
upsert mutations. The figures computed on them are in ``hub.api.sensing``."""

from __future__ import annotations

import datetime as dt
from contextlib import suppress
from typing import Annotated, Any, Final

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from graph_schema.errors import InvalidInput, InvalidRecord
from graph_schema.model import validate
from hub.api import partial
from hub.api.access import WRITERS, allow
from hub.api.context import Context
from hub.api.enums import IndicatorFrequency, IndicatorPolarity, TargetBasis
from hub.api.mutations import (
    MAX_ITEMS,
    UpsertItem,
    UpsertResult,
    WriteOutcome,
    _errors,
    _record_data,
    _upsert,
)
from hub.api.paging import key_of
from hub.api.relay import Node, NodeLookup
from hub.api.scalars import Period
from hub.promotion import indicators as ind

Ctx = Info[Context, None]


def _arg(description: str) -> Any:
    return strawberry.argument(description=description)


# --- indicators and series -------------------------------------------------------------------


@strawberry.type(description="A statistical indicator tracked per region.")
class Indicator(Node):
    indicator_id: str = strawberry.field(
        description="The indicator's own key, e.g. loan_balance_growth (indicator arguments take "
        "it, or the global id)."
    )
    name: str = strawberry.field(description="Chinese name.")
    name_en: str | None = strawberry.field(description="English name.")
    unit: str = strawberry.field(description="Unit, e.g. %, 亿元, 点.")
    frequency: IndicatorFrequency = strawberry.field(description="How often it is reported.")
    polarity: IndicatorPolarity = strawberry.field(description="Which way it reads.")
    barometer_weight: float | None = strawberry.field(
        description="Weight in the barometer; null: not a barometer indicator."
    )
    race_weight: float | None = strawberry.field(
        description="Default weight in the regional race; null: not raced."
    )
    description: str | None = strawberry.field(description="Notes.")

    def node_key(self) -> str:
        return self.indicator_id

    @classmethod
    def of(cls, i: Any) -> Indicator:
        return cls(
            indicator_id=i.id,
            name=i.name,
            name_en=i.name_en,
            unit=i.unit,
            frequency=IndicatorFrequency(i.frequency.value),
            polarity=IndicatorPolarity(i.polarity.value),
            barometer_weight=i.barometer_weight,
            race_weight=i.race_weight,
            description=i.description,
        )


@strawberry.type(description="One reported value.")
class IndicatorPoint:
    period: Period = strawberry.field(description="A year, quarter or month.")
    from_: dt.date = strawberry.field(name="from", description="First day of the period.")
    to: dt.date = strawberry.field(description="Last day of the period.")
    value: float = strawberry.field(description="In the indicator's unit.")


@strawberry.type(description="Indicators and their series.")
class IndicatorQuery:
    @strawberry.field(description="Every indicator, by id.")
    async def indicators(self, info: Ctx) -> list[Indicator]:
        return [Indicator.of(i) for i in (await ind.indicators(info.context.store)).values()]

    @strawberry.field(description="An indicator's values in a region, in period order.")
    async def indicator_series(
        self,
        info: Ctx,
        indicator: Annotated[str, _arg("Indicator id (or global id).")],
        region: Annotated[str, _arg("Region code (or global id).")],
        from_: Annotated[
            Period | None,
            strawberry.argument(name="from", description="Earliest period (year to month)."),
        ] = None,
        to: Annotated[Period | None, _arg("Latest period (year to month).")] = None,
    ) -> list[IndicatorPoint]:
        low = ind.period_arg("from", from_) if from_ else None
        high = ind.period_arg("to", to) if to else None
        region, indicator = key_of(region, "Region"), key_of(indicator, "Indicator")
        series = await ind.values(info.context.store, [region], [indicator])
        return [
            IndicatorPoint(
                period=Period(o.period.label), from_=o.period.start, to=o.period.end, value=o.value
            )
            for o in series[region].get(indicator, [])
            if (low is None or o.period.start >= low.start)
            and (high is None or o.period.end <= high.end)
        ]


# --- mutations -------------------------------------------------------------------------------


@strawberry.input(description="An indicator to create or update." + partial.INPUT)
class IndicatorInput:
    id: str = strawberry.field(
        description="Stable id: lower case, digits, underscores (or, to update, the global id)."
    )
    name: str | None = strawberry.field(
        default=UNSET, description="Chinese name." + partial.REQUIRED
    )
    unit: str | None = strawberry.field(
        default=UNSET, description="Unit, e.g. %, 亿元." + partial.REQUIRED
    )
    frequency: IndicatorFrequency | None = strawberry.field(
        default=UNSET, description="How often it is reported." + partial.REQUIRED
    )
    name_en: str | None = strawberry.field(default=UNSET, description="English name.")
    polarity: IndicatorPolarity | None = strawberry.field(
        default=UNSET, description="Default POSITIVE."
    )
    barometer_weight: float | None = strawberry.field(
        default=UNSET, description="Weight in the barometer; null: not in it."
    )
    race_weight: float | None = strawberry.field(
        default=UNSET, description="Weight in the race; null: not in it."
    )
    description: str | None = strawberry.field(default=UNSET, description="Notes.")


@strawberry.input(description="An indicator's value in a region for a period." + partial.INPUT)
class IndicatorValueInput:
    indicator_id: str = strawberry.field(description="Indicator id (or global id).")
    region_code: str = strawberry.field(description="GB/T 2260 region code (or global id).")
    period: Period = strawberry.field(
        description="A period of the indicator's frequency (a year, quarter or month)."
    )
    value: float | None = strawberry.field(
        default=UNSET, description="In the indicator's unit." + partial.REQUIRED
    )
    id: str | None = strawberry.field(
        default=UNSET, description="Derived (indicator/region/period); may be left out."
    )


@strawberry.input(description="A yearly target for an indicator in a region." + partial.INPUT)
class IndicatorTargetInput:
    indicator_id: str = strawberry.field(description="Indicator id (or global id).")
    region_code: str = strawberry.field(description="GB/T 2260 region code (or global id).")
    year: int = strawberry.field(description="Target year.")
    target: float | None = strawberry.field(
        default=UNSET, description="In the indicator's unit." + partial.REQUIRED
    )
    basis: TargetBasis | None = strawberry.field(default=UNSET, description="Default LEVEL.")
    id: str | None = strawberry.field(
        default=UNSET, description="Derived (indicator/region/year); may be left out."
    )


INPUTS: dict[str, type] = {
    "indicator": IndicatorInput,
    "indicator_value": IndicatorValueInput,
    "indicator_target": IndicatorTargetInput,
}


def _keys(items: list[Any]) -> None:
    """Global ids in an item's indicatorId and regionCode become keys. A wrong one is kept as
    given: the item is rejected as naming nothing that exists, the others go on."""
    for item in items:
        with suppress(InvalidInput):
            item.indicator_id = key_of(item.indicator_id, "Indicator")
        with suppress(InvalidInput):
            item.region_code = key_of(item.region_code, "Region")


async def _upsert_values(info: Ctx, items: list[IndicatorValueInput]) -> UpsertResult:
    """Upsert values, first rejecting those whose period is not of the indicator's frequency."""
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"items: at most {MAX_ITEMS} per request")
    _keys(items)
    known = await ind.indicators(info.context.store)
    kept: list[int] = []
    wrong: dict[int, UpsertItem] = {}
    for i, item in enumerate(items):
        try:
            record = validate("indicator_value", _record_data(item))
        except InvalidRecord:
            kept.append(i)  # _upsert reports it like any invalid item
            continue
        problems = ind.period_problems(known, record)
        if problems:
            wrong[i] = UpsertItem(
                index=i,
                key=record.key(),
                outcome=WriteOutcome.REJECTED,
                errors=_errors("BAD_USER_INPUT", problems),
                entity="indicator_value",
            )
        else:
            kept.append(i)
    result = await _upsert(info, "indicator_value", [items[i] for i in kept])
    for done in result.items:
        done.index = kept[done.index]
    merged = sorted([*result.items, *wrong.values()], key=lambda x: x.index)
    return UpsertResult(
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        rejected=result.rejected + len(wrong),
        items=merged,
    )


@strawberry.type(description="Changes to indicators, their values and targets.")
class IndicatorMutation:
    @strawberry.mutation(
        description="Create or update indicators (definitions, barometer and race weights)."
        + partial.MUTATION,
        permission_classes=[allow(WRITERS)],
    )
    async def upsert_indicators(
        self,
        info: Ctx,
        items: Annotated[list[IndicatorInput], _arg("Indicators (at most 1000).")],
    ) -> UpsertResult:
        for item in items:
            with suppress(InvalidInput):  # kept as given: rejected as an id, the others go on
                item.id = key_of(item.id, "Indicator")
        return await _upsert(info, "indicator", items)

    @strawberry.mutation(
        description="Create or update indicator values, keyed by indicator, region and period; "
        "a period not of the indicator's frequency is rejected (BAD_USER_INPUT)."
        + partial.MUTATION,
        permission_classes=[allow(WRITERS)],
    )
    async def upsert_indicator_values(
        self,
        info: Ctx,
        items: Annotated[list[IndicatorValueInput], _arg("Values (at most 1000).")],
    ) -> UpsertResult:
        return await _upsert_values(info, items)

    @strawberry.mutation(
        description="Create or update yearly targets, keyed by indicator, region and year."
        + partial.MUTATION,
        permission_classes=[allow(WRITERS)],
    )
    async def upsert_indicator_targets(
        self,
        info: Ctx,
        items: Annotated[list[IndicatorTargetInput], _arg("Targets (at most 1000).")],
    ) -> UpsertResult:
        _keys(items)
        return await _upsert(info, "indicator_target", items)


async def _indicator_node(info: Ctx, key: str) -> Indicator | None:
    found = (await ind.indicators(info.context.store)).get(key)
    return Indicator.of(found) if found else None


# Every role that reaches the indicator fields reads these (the bank role reaches none).
NODES: Final = (NodeLookup("Indicator", _indicator_node),)

"""A seeded, reproducible province: every record of the graph model, validated.

``generate(Scale.DEMO)`` is Zhejiang's 924 provincial major projects (368 followed by provincial
leaders) with about 2,000 enterprises; ``Scale.HUBEI`` is a database the size of Hubei's 2022 one,
11,287 projects of at least 1亿元, with 50,000 enterprises, on the same map. Everything is drawn
from ``random.Random`` streams seeded from ``seed`` and dated as of 2026-11-15, so the same seed
gives the same records on any machine.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Final

from graph_schema.model import (
    LOAD_ORDER,
    Bank,
    ChainSegment,
    ChainStat,
    Enterprise,
    Indicator,
    IndicatorTarget,
    IndicatorValue,
    IndustryChain,
    LandParcel,
    Product,
    Project,
    ProjectList,
    Record,
    Region,
    Sensor,
    Supply,
    validate,
)
from hub.demo.banks import bank_dicts
from hub.demo.chains import chain_dicts, product_dicts, segment_dicts, supply_dicts
from hub.demo.enterprises import draft_firms
from hub.demo.indicators import indicator_dicts, target_dicts, value_dicts
from hub.demo.names import Namer
from hub.demo.parcels import ParcelPlanner
from hub.demo.projects import ProjectMix, draft_projects
from hub.demo.regions import region_dicts
from hub.demo.sensors import sensor_dicts
from hub.demo.statistics import chain_stat_dicts, project_list_dicts


class Scale(StrEnum):
    DEMO = "demo"
    HUBEI = "hubei"


@dataclass(frozen=True, slots=True)
class _Size:
    enterprises: int
    projects: ProjectMix


_SIZES: Final = {
    Scale.DEMO: _Size(2_000, ProjectMix(count=924, provincial=924, leaders=368, city_share=0.0)),
    # Hubei: 584 provincial key projects; leaders follow the same share as Zhejiang's 368/924.
    Scale.HUBEI: _Size(
        50_000, ProjectMix(count=11_287, provincial=584, leaders=233, city_share=0.35)
    ),
}


@dataclass(frozen=True, slots=True)
class DemoData:
    """The generated records, one tuple per entity of ``graph_schema.model.LOAD_ORDER``."""

    region: tuple[Region, ...]
    chain: tuple[IndustryChain, ...]
    segment: tuple[ChainSegment, ...]
    supply: tuple[Supply, ...]
    product: tuple[Product, ...]
    enterprise: tuple[Enterprise, ...]
    parcel: tuple[LandParcel, ...]
    project: tuple[Project, ...]
    bank: tuple[Bank, ...]
    sensor: tuple[Sensor, ...]
    project_list: tuple[ProjectList, ...]
    chain_stat: tuple[ChainStat, ...]
    indicator: tuple[Indicator, ...]
    indicator_value: tuple[IndicatorValue, ...]
    indicator_target: tuple[IndicatorTarget, ...]

    def records(self, entity: str) -> tuple[Record, ...]:
        """The records of one entity, by its name in ``LOAD_ORDER``."""
        if entity not in LOAD_ORDER:
            raise KeyError(entity)
        records: tuple[Record, ...] = getattr(self, entity)
        return records

    def counts(self) -> dict[str, int]:
        """How many records of each entity, in load order."""
        return {entity: len(records) for entity, records in self}

    def __iter__(self) -> Iterator[tuple[str, tuple[Record, ...]]]:
        """``(entity, records)`` pairs in load order: every link points at an earlier entity."""
        for entity in LOAD_ORDER:
            yield entity, self.records(entity)


# The dataclass is the load order; a new entity in the model must be added here too.
assert tuple(f.name for f in fields(DemoData)) == LOAD_ORDER


def generate(scale: Scale, *, seed: int = 2026) -> DemoData:
    """Generate a whole province at ``scale``; the same ``seed`` gives equal data."""
    size = _SIZES[Scale(scale)]
    # One stream per concern, so a change in how sensors are drawn leaves enterprises as they are.
    namer = Namer(_stream(seed, "names"))
    firms = draft_firms(_stream(seed, "enterprises"), size.enterprises, namer)
    drafts, parcels = draft_projects(
        _stream(seed, "projects"),
        firms,
        size.projects,
        namer,
        ParcelPlanner(_stream(seed, "parcels")),
    )
    values = value_dicts(_stream(seed, "indicators"))
    return DemoData(
        region=_validated("region", region_dicts(), Region),
        chain=_validated("chain", chain_dicts(), IndustryChain),
        segment=_validated("segment", segment_dicts(), ChainSegment),
        supply=_validated("supply", supply_dicts(), Supply),
        product=_validated("product", product_dicts(), Product),
        enterprise=_validated("enterprise", (f.record() for f in firms), Enterprise),
        parcel=_validated("parcel", parcels, LandParcel),
        project=_validated("project", (d.record() for d in drafts), Project),
        bank=_validated("bank", bank_dicts(), Bank),
        sensor=_validated("sensor", sensor_dicts(_stream(seed, "sensors"), drafts), Sensor),
        project_list=_validated("project_list", project_list_dicts(drafts), ProjectList),
        chain_stat=_validated(
            "chain_stat", chain_stat_dicts(_stream(seed, "statistics"), firms, drafts), ChainStat
        ),
        indicator=_validated("indicator", indicator_dicts(), Indicator),
        indicator_value=_validated("indicator_value", values, IndicatorValue),
        indicator_target=_validated("indicator_target", target_dicts(values), IndicatorTarget),
    )


def _stream(seed: int, purpose: str) -> random.Random:
    # String seeds go through SHA-512, so streams are independent and stable across runs.
    return random.Random(f"e-ledger-demo:{seed}:{purpose}")


def _validated[R: Record](
    entity: str, rows: Iterable[dict[str, Any]], kind: type[R]
) -> tuple[R, ...]:
    records: list[R] = []
    for row in rows:
        # An InvalidRecord here is a bug in the generator, not bad input: let it propagate.
        record = validate(entity, row)
        if not isinstance(record, kind):
            raise TypeError(f"{entity} validated to {type(record).__name__}")
        records.append(record)
    return tuple(records)

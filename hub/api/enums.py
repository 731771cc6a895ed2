"""GraphQL enums. The model's enums (graph_schema.model, each value with its programme term)
are the GraphQL enums themselves, so a stored string such as ``"planning"`` maps straight to its
GraphQL value. SensorKind is built from the feeds' table (``connectors.feeds``); the rest are
the API's own (sort, grouping, traversal)."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Final

import strawberry
from strawberry.types.enum import EnumValue, StrawberryEnumDefinition

from connectors.feeds import FEEDS
from graph_schema.model import (
    BankKind,
    CameraSource,
    EnterpriseTag,
    Frequency,
    LandUse,
    Polarity,
    ProjectKind,
    ProjectLevel,
    ProjectStage,
    RegionLevel,
    TargetBasis,
    Term,
    Tier,
)

__all__ = [
    "MODEL_ENUMS",
    "BankKind",
    "CameraSource",
    "ChokepointRule",
    "EnterpriseGroupBy",
    "EnterpriseTag",
    "IndicatorFrequency",
    "IndicatorPolarity",
    "LandParcelGroupBy",
    "LandUse",
    "ProjectGroupBy",
    "ProjectKind",
    "ProjectLevel",
    "ProjectStage",
    "RegionLevel",
    "SensorKind",
    "SortDirection",
    "SupplyDirection",
    "TargetBasis",
    "Tier",
    "WarningLevel",
]

# Every model enum the API shows, with its GraphQL name where the API names it differently.
MODEL_ENUMS: Final[dict[type[Term], str]] = {
    RegionLevel: "RegionLevel",
    Tier: "Tier",
    EnterpriseTag: "EnterpriseTag",
    ProjectStage: "ProjectStage",
    ProjectKind: "ProjectKind",
    ProjectLevel: "ProjectLevel",
    LandUse: "LandUse",
    BankKind: "BankKind",
    CameraSource: "CameraSource",
    Frequency: "IndicatorFrequency",
    Polarity: "IndicatorPolarity",
    TargetBasis: "TargetBasis",
}
IndicatorFrequency = Frequency
IndicatorPolarity = Polarity


def _graphql_enum(term: type[Term], name: str) -> None:
    # What ``strawberry.enum`` does for a class written with ``strawberry.enum_value``, with the
    # descriptions taken from the model; the enum class stays the model's own.
    values = [EnumValue(m.name, m.value, description=m.description or None) for m in term]
    term.__strawberry_definition__ = StrawberryEnumDefinition(  # type: ignore[attr-defined]
        wrapped_cls=term, name=name, values=values, description=term.__doc__
    )


for _term, _name in MODEL_ENUMS.items():
    _graphql_enum(_term, _name)


def _sensor_kind() -> type[Enum]:
    """One value per feed of ``connectors.feeds``, in its order, described by the feed."""
    values = {f.kind.upper(): strawberry.enum_value(f.kind, description=f.description)
              for f in FEEDS}  # fmt: skip
    kinds: type[Enum] = Enum("SensorKind", values)  # type: ignore[misc]
    return strawberry.enum(kinds, description="What a sensor reports.")


# mypy cannot follow an Enum built from data: it sees a plain Enum, which is what fields need.
if TYPE_CHECKING:
    SensorKind = Enum
else:
    SensorKind = _sensor_kind()


@strawberry.enum(description="Sort direction.")
class SortDirection(Enum):
    ASC = strawberry.enum_value("asc", description="Smallest first (A-Z, oldest first).")
    DESC = strawberry.enum_value("desc", description="Largest first (Z-A, newest first).")


@strawberry.enum(
    description="A traffic-light warning: how a figure compares with its thresholds (each "
    "field that has one says which thresholds)."
)
class WarningLevel(Enum):
    GREEN = strawberry.enum_value("green", description="On track: no threshold crossed.")
    YELLOW = strawberry.enum_value("yellow", description="Past the yellow threshold only.")
    RED = strawberry.enum_value("red", description="Past the red threshold.")


@strawberry.enum(description="How to group projects.")
class ProjectGroupBy(Enum):
    REGION = strawberry.enum_value("region", description="By region at regionLevel.")
    STAGE = strawberry.enum_value("stage", description="By stage.")
    KIND = strawberry.enum_value("kind", description="New or continuing.")
    LEVEL = strawberry.enum_value("level", description="By major-project list level.")
    CHAIN = strawberry.enum_value(
        "chain", description="By industry chain (a project in two chains counts in both)."
    )


@strawberry.enum(description="How to group enterprises.")
class EnterpriseGroupBy(Enum):
    REGION = strawberry.enum_value("region", description="By region at regionLevel.")
    TAG = strawberry.enum_value("tag", description="By tag (an enterprise counts once per tag).")
    CHAIN = strawberry.enum_value("chain", description="By industry chain.")
    SEGMENT = strawberry.enum_value("segment", description="By chain segment.")


@strawberry.enum(description="How to group land parcels.")
class LandParcelGroupBy(Enum):
    REGION = strawberry.enum_value("region", description="By region at regionLevel.")
    USE = strawberry.enum_value("use", description="By planned use.")


@strawberry.enum(description="Which way along SUPPLIES relationships.")
class SupplyDirection(Enum):
    UPSTREAM = strawberry.enum_value("upstream", description="Towards raw materials.")
    DOWNSTREAM = strawberry.enum_value("downstream", description="Towards end products.")
    BOTH = strawberry.enum_value("both", description="Both ways.")


@strawberry.enum(description="The rules that make a chain segment a chokepoint in a region.")
class ChokepointRule(Enum):
    FEW_LOCAL_ENTERPRISES = strawberry.enum_value(
        "few_local_enterprises",
        description="Fewer local enterprises than the minimum, or than the peers' median allows.",
    )
    DEMAND_SUPPLIED_FROM_OUTSIDE = strawberry.enum_value(
        "demand_supplied_from_outside",
        description="Most of the region's downstream demand is supplied from outside it.",
    )
    SINGLE_LOCAL_SUPPLIER = strawberry.enum_value(
        "single_local_supplier",
        description="One local enterprise makes most of the segment's local output.",
    )

"""GraphQL enums. Values are the model's stored strings, so ``ProjectStage("planning")`` maps a
graph property straight to its GraphQL value; each value carries its Chinese programme term."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

import strawberry

from connectors.feeds import FEEDS


@strawberry.enum(description="Administrative level of a region (GB/T 2260).")
class RegionLevel(Enum):
    PROVINCE = strawberry.enum_value("province", description="省: a province.")
    CITY = strawberry.enum_value("city", description="市: a prefecture-level city.")
    COUNTY = strawberry.enum_value("county", description="区/县/县级市: a county-level region.")


@strawberry.enum(description="Position of a segment along its industry chain.")
class Tier(Enum):
    UPSTREAM = strawberry.enum_value("upstream", description="上游: materials and parts.")
    MIDSTREAM = strawberry.enum_value("midstream", description="中游: components and assembly.")
    DOWNSTREAM = strawberry.enum_value("downstream", description="下游: products and services.")


@strawberry.enum(description="Labels the programmes give enterprises.")
class EnterpriseTag(Enum):
    CHAIN_LEADER = strawberry.enum_value("chain_leader", description="链主企业: chain leader.")
    ABOVE_DESIGNATED_SIZE = strawberry.enum_value(
        "above_designated_size", description="规上企业: revenue above the statistical threshold."
    )
    LITTLE_GIANT = strawberry.enum_value(
        "little_giant", description='专精特新"小巨人": specialised little giant.'
    )
    HIGH_TECH = strawberry.enum_value(
        "high_tech", description="高新技术企业: high-tech enterprise."
    )
    LISTED = strawberry.enum_value("listed", description="上市企业: listed company.")


@strawberry.enum(description="Where a project is in its life.")
class ProjectStage(Enum):
    PLANNING = strawberry.enum_value("planning", description="谋划储备: planned, in the pool.")
    PREPARATION = strawberry.enum_value(
        "preparation", description="前期工作: approvals, land and financing under way."
    )
    CONSTRUCTION = strawberry.enum_value("construction", description="施工建设: being built.")
    COMPLETED = strawberry.enum_value("completed", description="竣工验收: completed.")
    SUSPENDED = strawberry.enum_value("suspended", description="停缓建: stopped or slowed.")


@strawberry.enum(description="New start or continuing construction this year.")
class ProjectKind(Enum):
    NEW = strawberry.enum_value("new", description="新开工: starts this year.")
    CONTINUING = strawberry.enum_value("continuing", description="续建: started before.")


@strawberry.enum(description="Which government's major-project list carries the project.")
class ProjectLevel(Enum):
    PROVINCIAL = strawberry.enum_value("provincial", description="省重大项目.")
    CITY = strawberry.enum_value("city", description="市重大项目.")
    COUNTY = strawberry.enum_value("county", description="县重大项目.")


@strawberry.enum(description="Planned use of a land parcel.")
class LandUse(Enum):
    INDUSTRIAL = strawberry.enum_value("industrial", description="工业用地.")
    WAREHOUSING = strawberry.enum_value("warehousing", description="仓储用地.")
    COMMERCIAL = strawberry.enum_value("commercial", description="商服用地.")
    INFRASTRUCTURE = strawberry.enum_value("infrastructure", description="交通与公用设施用地.")
    PUBLIC_SERVICE = strawberry.enum_value("public_service", description="公共管理与公共服务用地.")
    RESIDENTIAL = strawberry.enum_value("residential", description="住宅用地.")


@strawberry.enum(description="Kind of bank.")
class BankKind(Enum):
    POLICY = strawberry.enum_value("policy", description="政策性银行.")
    STATE_OWNED = strawberry.enum_value("state_owned", description="国有大型商业银行.")
    JOINT_STOCK = strawberry.enum_value("joint_stock", description="股份制商业银行.")
    CITY_COMMERCIAL = strawberry.enum_value("city_commercial", description="城市商业银行.")
    RURAL = strawberry.enum_value("rural", description="农村商业银行/农信社.")


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

"""Bank (银行), the API's surface of ``graph_schema.model.Bank``: its object type, where, sort,
mutation input and connection, and its part of the schema's ``lists.Surface``. See
``hub.api.entities.project`` for what adding a field takes."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Final, cast

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from hub.api import lists, partial
from hub.api.context import Context
from hub.api.enums import BankKind, SortDirection
from hub.api.inputs import _DIRECTION, _NAME, _NOT, _OR, _REGION, _REGION_CODE
from hub.api.relay import _S, _W, Connection, Node

if TYPE_CHECKING:
    from hub.api.entities.region import Region

Ctx = Info[Context, None]
RegionRef = Annotated["Region", strawberry.lazy("hub.api.entities.region")]

# --- where and sort ------------------------------------------------------------------------


@strawberry.input(description="Which banks to list.")
class BankWhere:
    region: str | None = strawberry.field(default=None, description=_REGION)
    kind: list[BankKind] | None = strawberry.field(default=None, description="Any of these kinds.")
    name_contains: str | None = strawberry.field(default=None, description=_NAME)
    or_: list[BankWhere] | None = strawberry.field(default=None, name="OR", description=_OR)
    not_: BankWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


@strawberry.enum(description="Fields banks sort on.")
class BankSortField(Enum):
    ID = strawberry.enum_value("id", description="Bank id.")
    NAME = strawberry.enum_value("name", description="Name.")


@strawberry.input(description="One sort key for bank lists.")
class BankSort:
    field: BankSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


BankWhereArg = Annotated[BankWhere | None, strawberry.argument(description=_W)]
BankSortArg = Annotated[list[BankSort] | None, strawberry.argument(description=_S)]


# --- the object type ---------------------------------------------------------------------------


@strawberry.type(description="A bank (or branch) that finances projects.")
class Bank(Node):
    id_: str = strawberry.field(name="bankId", description="Stable bank id.")
    name: str = strawberry.field(description="Name.")
    kind: BankKind = strawberry.field(description="Kind of bank.")

    def node_key(self) -> str:
        return self.id_

    @classmethod
    def from_props(cls, p: dict[str, Any]) -> Bank:
        return cls(id_=p["id"], name=p["name"], kind=BankKind(p["kind"]))

    @strawberry.field(description="Where the bank (branch) is.")
    async def region(self, info: Ctx) -> RegionRef:
        return cast("Region", await lists.required_one(info, self, object))


@strawberry.type(description="A page of banks.")
class BankConnection(Connection[Bank]):
    pass


# --- the mutation input ------------------------------------------------------------------------


@strawberry.input(description="A bank to create or update." + partial.INPUT)
class BankInput:
    id: str = strawberry.field(description="Stable bank id.")
    name: str | None = strawberry.field(default=UNSET, description="Name." + partial.REQUIRED)
    kind: BankKind | None = strawberry.field(
        default=UNSET, description="Kind of bank." + partial.REQUIRED
    )
    region_code: str | None = strawberry.field(
        default=UNSET, description=_REGION_CODE + partial.REQUIRED
    )


# --- this entity's part of the schema's lists.Surface ----------------------------------------

PART: Final = lists.Part(
    "bank", Bank, BankConnection, ("id", "name", "kind"), {"region": lists.ToOne("bank.region")}
)

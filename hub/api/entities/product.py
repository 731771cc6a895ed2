"""Product (产品), the API's surface of ``graph_schema.model.Product``: its object type, where,
sort, mutation input and connection, and its share of the schema's ``lists.Surface``. See
``hub.api.entities.project`` for what adding a field takes."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Final, cast

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from hub.api import lists, partial
from hub.api.aggregates import related_list
from hub.api.context import Context
from hub.api.enums import SortDirection
from hub.api.inputs import _DIRECTION, _NAME, _NOT, _OR
from hub.api.relay import _S, _W, Connection, Node, lazy_list_arguments

if TYPE_CHECKING:
    from hub.api.entities.enterprise import EnterpriseConnection
    from hub.api.entities.segment import ChainSegment

Ctx = Info[Context, None]
_ENTERPRISE = "hub.api.entities.enterprise"
ChainSegmentRef = Annotated["ChainSegment", strawberry.lazy("hub.api.entities.segment")]
EnterpriseConnectionRef = Annotated["EnterpriseConnection", strawberry.lazy(_ENTERPRISE)]
# Enterprises list their products with this module's where and sort, so enterprise's own are
# named lazily here.
EnterpriseWhereArg, EnterpriseSortArg = lazy_list_arguments("Enterprise", _ENTERPRISE)

# --- where and sort ------------------------------------------------------------------------


@strawberry.input(description="Which products to list.")
class ProductWhere:
    name_contains: str | None = strawberry.field(default=None, description=_NAME)
    segment: str | None = strawberry.field(default=None, description="Only this segment's.")
    chain: str | None = strawberry.field(default=None, description="Only this chain's.")
    or_: list[ProductWhere] | None = strawberry.field(default=None, name="OR", description=_OR)
    not_: ProductWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


@strawberry.enum(description="Fields products sort on.")
class ProductSortField(Enum):
    ID = strawberry.enum_value("id", description="Product id.")
    NAME = strawberry.enum_value("name", description="Chinese name.")


@strawberry.input(description="One sort key for product lists.")
class ProductSort:
    field: ProductSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


ProductWhereArg = Annotated[ProductWhere | None, strawberry.argument(description=_W)]
ProductSortArg = Annotated[list[ProductSort] | None, strawberry.argument(description=_S)]


# --- the object type ---------------------------------------------------------------------------


@strawberry.type(description="A product (产品) made in a chain segment.")
class Product(Node):
    id_: str = strawberry.field(name="productId", description="Stable product id.")
    name: str = strawberry.field(description="Chinese name.")

    def node_key(self) -> str:
        return self.id_

    @classmethod
    def from_props(cls, p: dict[str, Any]) -> Product:
        return cls(id_=p["id"], name=p["name"])

    @strawberry.field(description="The segment the product belongs to.")
    async def segment(self, info: Ctx) -> ChainSegmentRef:
        return cast("ChainSegment", await lists.required_one(info, self, object))

    enterprises = related_list(
        "Enterprises that make it.", EnterpriseConnectionRef, EnterpriseWhereArg, EnterpriseSortArg
    )


@strawberry.type(description="A page of products.")
class ProductConnection(Connection[Product]):
    pass


# --- the mutation input ------------------------------------------------------------------------


@strawberry.input(description="A product to create or update." + partial.INPUT)
class ProductInput:
    id: str = strawberry.field(description="Stable product id.")
    name: str | None = strawberry.field(
        default=UNSET, description="Chinese name." + partial.REQUIRED
    )
    segment_id: str | None = strawberry.field(
        default=UNSET, description="The segment it belongs to." + partial.REQUIRED
    )


# --- this entity's share of the schema's lists.Surface ---------------------------------------

PART: Final = lists.Part(
    "product",
    Product,
    ProductConnection,
    ("id", "name"),
    {
        "segment": lists.ToOne("product.segment"),
        "enterprises": lists.ToMany("enterprise", "product.enterprises"),
    },
)

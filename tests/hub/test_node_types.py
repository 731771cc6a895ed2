"""Every type that implements Node can be found again by ``node(id:)`` (issue 27 item 4): each is
either one of the graph's entities (the schema's surface) or has a NodeLookup. A Node type added
without either would hand clients ids that ``node(id:)`` refuses."""

from __future__ import annotations

from graphql import GraphQLInterfaceType

from hub.api.schema import NODE_LOOKUPS, SURFACE, build_schema


def test_every_node_type_has_a_way_back_from_its_global_id() -> None:
    schema = build_schema()._schema
    node = schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    implementations = {t.name for t in schema.get_possible_types(node)}
    assert {"Project", "Region", "ProjectList"} <= implementations
    unreachable = {
        name
        for name in implementations
        if name not in SURFACE.entity_of_type and name not in NODE_LOOKUPS
    }
    assert not unreachable, f"Node types node(id:) cannot find: {sorted(unreachable)}"
    # And no lookup names a type the schema does not have (a renamed type, a typo).
    assert set(NODE_LOOKUPS) <= implementations

"""GraphQL for land tracking (地项通) and red-line checks.

Overdue is judged against ``asOf`` (default: today in Asia/Shanghai, from the request's
clock). ``landOverdueNodes`` returns the findings that the alert lifecycle (issue 8) is to
turn into alerts: each has the stable code ``LAND_NODE_OVERDUE`` and a key that stays the same
while the node stays overdue.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Final, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph_schema.errors import InvalidInput
from hub.api.access import WRITERS, allow
from hub.api.context import Context
from hub.api.enums import SortDirection
from hub.api.inputs import _NOT, _OR
from hub.api.logic import check, fields, matching, within
from hub.api.pages import BatchResult, ListPage, check_batch, entity_of, linked, sort_items
from hub.api.paging import args as page_args
from hub.api.paging import key_of
from hub.api.relay import After, Before, First, Last, Node, NodeLookup
from hub.clock import clock_of
from hub.projects import land, redline
from hub.projects.financing import region_tree

if TYPE_CHECKING:
    from hub.api.entities.parcel import LandParcel
    from hub.api.entities.project import Project
    from hub.api.entities.region import Region

Ctx = Info[Context, None]
ProjectRef = Annotated["Project", strawberry.lazy("hub.api.entities.project")]
RegionRef = Annotated["Region", strawberry.lazy("hub.api.entities.region")]
ParcelRef = Annotated["LandParcel", strawberry.lazy("hub.api.entities.parcel")]
_DIRECTION = "Ascending (default) or descending."


def _arg(description: str) -> Any:
    return strawberry.argument(description=description)


def _today(info: Ctx, as_of: dt.date | None) -> dt.date:
    return as_of if as_of is not None else clock_of(info.context.extra)().date()


def _lenient(value: str, type_name: str) -> str:
    # Inside a batch a wrong id must not fail the other items: it is kept as given, and the
    # item is rejected as naming nothing that exists.
    try:
        return key_of(value, type_name)
    except InvalidInput:
        return value


@strawberry.enum(description="Which land-tracking template a project follows.")
class LandTemplateKind(Enum):
    APPROVED = strawberry.enum_value("approved", description="审批类: 8 stages, 26 nodes.")
    FILED = strawberry.enum_value("filed", description="备案类: 7 stages, 23 nodes.")


@strawberry.enum(description="How far a land stage is.")
class LandStageStatus(Enum):
    NOT_STARTED = strawberry.enum_value("not_started", description="No node done.")
    IN_PROGRESS = strawberry.enum_value("in_progress", description="Some nodes done.")
    DONE = strawberry.enum_value("done", description="Every node done.")


@strawberry.enum(description="A protected red-line layer.")
class RedLineKind(Enum):
    PERMANENT_BASIC_FARMLAND = strawberry.enum_value(
        "permanent_basic_farmland", description="永久基本农田."
    )
    ECOLOGICAL_PROTECTION = strawberry.enum_value(
        "ecological_protection", description="生态保护红线."
    )


@strawberry.type(description="A node of a land-tracking template.")
class LandTemplateNode:
    code: str = strawberry.field(description="Stable code.")
    name: str = strawberry.field(description="Name.")
    days: int = strawberry.field(description="Calendar days allowed.")


@strawberry.type(description="A stage of a land-tracking template.")
class LandTemplateStage:
    code: str = strawberry.field(description="Stable code.")
    name: str = strawberry.field(description="Name, e.g. 选址预审.")
    name_en: str = strawberry.field(description="English name.")
    nodes: list[LandTemplateNode] = strawberry.field(description="Its nodes, in order.")


@strawberry.type(description="A land-tracking template (data in hub/projects/land_templates.json).")
class LandTemplate:
    kind: LandTemplateKind = strawberry.field(description="Approved or filed projects.")
    name: str = strawberry.field(description="Name.")
    red_line_check_before: str = strawberry.field(
        description="Stage that red-line overlaps are flagged before."
    )
    node_count: int = strawberry.field(description="Nodes in all.")
    stages: list[LandTemplateStage] = strawberry.field(description="Stages, in order.")


def _template(kind: land.TemplateKind, t: land.Template) -> LandTemplate:
    return LandTemplate(
        kind=LandTemplateKind(kind.value),
        name=t.name,
        red_line_check_before=t.red_line_check_before,
        node_count=t.node_count(),
        stages=[
            LandTemplateStage(
                code=s.code,
                name=s.name,
                name_en=s.name_en,
                nodes=[LandTemplateNode(code=n.code, name=n.name, days=n.days) for n in s.nodes],
            )
            for s in t.stages
        ],
    )


@strawberry.type(description="One node of a project's land tracking (overdue judged at asOf).")
class LandNode(Node):
    code: str = strawberry.field(description="Node code.")
    name: str = strawberry.field(description="Name.")
    due_on: dt.date = strawberry.field(description="Due date.")
    completed_on: dt.date | None = strawberry.field(description="Completion date.")
    overdue_days: int = strawberry.field(description="Days past due at asOf (0: not overdue).")
    late_days: int = strawberry.field(description="Days a completed node finished late.")
    key: strawberry.Private[str]  # <project code>/<node code>

    def node_key(self) -> str:
        return self.key


def _node(n: land.Node, today: dt.date) -> LandNode:
    return LandNode(
        key=n.id,
        code=n.code,
        name=n.name,
        due_on=n.due_on,
        completed_on=n.completed_on,
        overdue_days=n.overdue_days(today),
        late_days=n.late_days(),
    )


@strawberry.type(description="One stage of a project's land tracking and its progress.")
class LandStage:
    code: str = strawberry.field(description="Stage code.")
    name: str = strawberry.field(description="Name.")
    name_en: str = strawberry.field(description="English name.")
    position: int = strawberry.field(description="Order, from 0.")
    done: int = strawberry.field(description="Nodes completed.")
    total: int = strawberry.field(description="Nodes in the stage.")
    share: float = strawberry.field(description="done ÷ total.")
    status: LandStageStatus = strawberry.field(description="Not started, in progress or done.")
    due_on: dt.date = strawberry.field(description="Due date of its last node.")
    overdue_nodes: int = strawberry.field(description="Nodes overdue at asOf.")
    nodes: list[LandNode] = strawberry.field(description="Its nodes, in order.")


@strawberry.type(description="How much of a parcel lies in a red-line layer (equal-area).")
class RedLineOverlap:
    parcel_id: str = strawberry.field(description="Parcel number.")
    layer_id: str = strawberry.field(description="The layer's layerId.")
    kind: RedLineKind = strawberry.field(description="Layer kind.")
    parcel_area_m2: float = strawberry.field(description="Area of the parcel polygon, m².")
    overlap_m2: float = strawberry.field(description="Area inside the layer, m².")
    share: float = strawberry.field(description="overlap ÷ parcel area.")

    @strawberry.field(description="The parcel.")
    async def parcel(self, info: Ctx) -> ParcelRef | None:
        return cast("LandParcel | None", await entity_of(info, "parcel", self.parcel_id))

    @strawberry.field(description="The red-line layer.")
    async def layer(self, info: Ctx) -> RedLineLayer | None:
        return await _layer_node(info, self.layer_id)


def _overlap(o: redline.Overlap) -> RedLineOverlap:
    return RedLineOverlap(
        parcel_id=o.parcel_id,
        layer_id=o.layer_id,
        kind=RedLineKind(o.kind.value),
        parcel_area_m2=o.parcel_area_m2,
        overlap_m2=o.overlap_m2,
        share=o.share,
    )


@strawberry.type(description="A parcel in a red line before the stage the check guards is done.")
class RedLineFlag:
    code: str = strawberry.field(description="RED_LINE_OVERLAP.")
    before_stage: str = strawberry.field(description="The stage it must be settled before.")
    overlap: RedLineOverlap = strawberry.field(description="The overlap.")


@strawberry.type(description="A project's land tracking: stages, progress and what is late.")
class LandProgress(Node):
    project_code: str = strawberry.field(description="The project's code.")
    template: LandTemplateKind = strawberry.field(description="Template followed.")
    as_of: dt.date = strawberry.field(description="Date overdue is judged at.")
    done: int = strawberry.field(description="Nodes completed.")
    total: int = strawberry.field(description="Nodes in all.")
    share: float = strawberry.field(description="done ÷ total.")
    current_stage: str | None = strawberry.field(description="First stage not done.")
    overdue_nodes: int = strawberry.field(description="Nodes overdue at asOf.")
    stages: list[LandStage] = strawberry.field(description="Stages, in order.")
    progress: strawberry.Private[land.Progress]

    def node_key(self) -> str:
        return self.project_code

    @strawberry.field(description="The project.")
    async def project(self, info: Ctx) -> ProjectRef:
        return cast("Project", await linked(info, "project", self.project_code))

    @strawberry.field(description="Red-line overlaps of the project's parcels still to settle.")
    async def red_line_flags(self, info: Ctx) -> list[RedLineFlag]:
        found = await land.project_overlaps(info.context.store, self.project_code)
        return [
            RedLineFlag(code=f.code, before_stage=f.before_stage, overlap=_overlap(f.overlap))
            for f in land.red_line_flags(self.progress, found)
        ]


def _progress(p: land.Progress, today: dt.date) -> LandProgress:
    current = p.current
    return LandProgress(
        project_code=p.project_code,
        template=LandTemplateKind(p.template.value),
        as_of=today,
        done=p.done,
        total=len(p.nodes),
        share=p.share,
        current_stage=current.code if current else None,
        overdue_nodes=sum(1 for n in p.nodes if n.overdue_days(today) > 0),
        stages=[
            LandStage(
                code=s.code,
                name=s.name,
                name_en=s.name_en,
                position=s.position,
                done=s.done,
                total=len(s.nodes),
                share=s.share,
                status=LandStageStatus(s.status.value),
                due_on=s.due_on,
                overdue_nodes=sum(1 for n in s.nodes if n.overdue_days(today) > 0),
                nodes=[_node(n, today) for n in s.nodes],
            )
            for s in p.stages
        ],
        progress=p,
    )


@strawberry.type(description="A page of projects' land tracking (default order: project code).")
class LandProgressConnection(ListPage[LandProgress]):
    pass


@strawberry.enum(description="Fields projects' land tracking sorts on.")
class LandProgressSortField(Enum):
    PROJECT_CODE = strawberry.enum_value("project_code", description="The project's code.")
    SHARE = strawberry.enum_value("share", description="Share of nodes done.")
    OVERDUE_NODES = strawberry.enum_value("overdue_nodes", description="Nodes overdue at asOf.")


@strawberry.input(description="One sort key for projects' land tracking.")
class LandProgressSort:
    field: LandProgressSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


_PROGRESS_FIELDS: Final = {
    LandProgressSortField.PROJECT_CODE: lambda p: p.project_code,
    LandProgressSortField.SHARE: lambda p: p.share,
    LandProgressSortField.OVERDUE_NODES: lambda p: p.overdue_nodes,
}


@strawberry.type(
    description="An overdue land node: code LAND_NODE_OVERDUE; key is stable while the node "
    "stays overdue (one alert per key, for the alert lifecycle)."
)
class LandOverdueNode:
    code: str = strawberry.field(description="LAND_NODE_OVERDUE.")
    key: str = strawberry.field(description="<project code>/<node code>@<due date>.")
    project_code: str = strawberry.field(description="The project's code.")
    project_name: str = strawberry.field(description="Project name.")
    region_code: str | None = strawberry.field(description="The project's region's code.")
    stage_code: str = strawberry.field(description="Stage.")
    stage_name: str = strawberry.field(description="Stage name.")
    node_code: str = strawberry.field(description="Node.")
    node_name: str = strawberry.field(description="Node name.")
    due_on: dt.date = strawberry.field(description="Due date.")
    days_overdue: int = strawberry.field(description="Days past due at asOf.")

    @strawberry.field(description="The project.")
    async def project(self, info: Ctx) -> ProjectRef:
        return cast("Project", await linked(info, "project", self.project_code))

    @strawberry.field(description="The project's region.")
    async def region(self, info: Ctx) -> RegionRef | None:
        return cast("Region | None", await entity_of(info, "region", self.region_code))


@strawberry.type(description="A page of overdue land nodes (default order: most overdue first).")
class LandOverdueConnection(ListPage[LandOverdueNode]):
    pass


@strawberry.enum(description="Fields overdue land nodes sort on.")
class LandOverdueSortField(Enum):
    DAYS_OVERDUE = strawberry.enum_value("days_overdue", description="Days past due.")
    DUE_ON = strawberry.enum_value("due_on", description="Due date.")
    PROJECT_CODE = strawberry.enum_value("project_code", description="The project's code.")


@strawberry.input(description="One sort key for overdue land nodes.")
class LandOverdueSort:
    field: LandOverdueSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


@strawberry.input(description="Filters on overdue land nodes; every one given must hold.")
class LandOverdueWhere:
    region: str | None = strawberry.field(
        default=None, description="Only projects in this region (code or global id)."
    )
    project_code: str | None = strawberry.field(
        default=None, description="Only this project's nodes (code or global id)."
    )
    stage_code: str | None = strawberry.field(default=None, description="Only this stage's.")
    min_days_overdue: int | None = strawberry.field(
        default=None, description="Only those at least this many days past due."
    )
    or_: list[LandOverdueWhere] | None = strawberry.field(default=None, name="OR", description=_OR)
    not_: LandOverdueWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


def _keep_overdue(tree: Any) -> Any:
    def keep(o: land.Overdue, where: LandOverdueWhere) -> bool:
        return _overdue_holds(o, where) and (
            where.region is None or within(tree, where.region, o.region_code)
        )

    return keep


def _overdue_holds(o: land.Overdue, where: LandOverdueWhere) -> bool:
    checks = (
        where.project_code is None or o.project_code == key_of(where.project_code, "Project"),
        where.stage_code is None or o.stage_code == where.stage_code,
        where.min_days_overdue is None or o.days_overdue >= where.min_days_overdue,
    )
    return all(checks)


_OVERDUE_FIELDS: Final = {
    LandOverdueSortField.DAYS_OVERDUE: lambda o: o.days_overdue,
    LandOverdueSortField.DUE_ON: lambda o: o.node.due_on,
    LandOverdueSortField.PROJECT_CODE: lambda o: o.project_code,
}


def _overdue(o: land.Overdue) -> LandOverdueNode:
    return LandOverdueNode(
        code=o.code,
        key=o.key,
        project_code=o.project_code,
        project_name=o.project_name,
        region_code=o.region_code,
        stage_code=o.stage_code,
        stage_name=o.stage_name,
        node_code=o.node.code,
        node_name=o.node.name,
        due_on=o.node.due_on,
        days_overdue=o.days_overdue,
    )


@strawberry.type(description="A red-line layer.")
class RedLineLayer(Node):
    layer_id: str = strawberry.field(description="The layer's own key, e.g. pbf-hz.")
    kind: RedLineKind = strawberry.field(description="Kind.")
    name: str = strawberry.field(description="Name.")
    features: int = strawberry.field(description="Polygons merged into it.")
    area_m2: float = strawberry.field(description="Area (equal-area), m².")

    def node_key(self) -> str:
        return self.layer_id


def _layer(layer: redline.Layer) -> RedLineLayer:
    return RedLineLayer(
        layer_id=layer.id,
        kind=RedLineKind(layer.kind.value),
        name=layer.name,
        features=layer.features,
        area_m2=redline.area_m2(layer.geometry),
    )


@strawberry.input(description="Filters on tracked projects; every one given must hold.")
class LandProgressWhere:
    region: str | None = strawberry.field(
        default=None, description="Region (code or global id), with sub-regions."
    )
    template: LandTemplateKind | None = strawberry.field(default=None, description="Template.")
    overdue: bool | None = strawberry.field(
        default=None, description="Only those with (true) or without (false) overdue nodes."
    )
    or_: list[LandProgressWhere] | None = strawberry.field(default=None, name="OR", description=_OR)
    not_: LandProgressWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


@strawberry.input(description="A land node's completion (null completedOn reopens it).")
class LandNodeCompletionInput:
    project_code: str = strawberry.field(description="The project's code (or global id).")
    node_code: str = strawberry.field(description="Node code, e.g. pre_review_opinion.")
    completed_on: dt.date | None = strawberry.field(description="Date done; null reopens.")


@strawberry.type(description="Land tracking (地项通) and red lines.")
class LandQuery:
    @strawberry.field(description="The land-tracking templates.")
    def land_templates(self) -> list[LandTemplate]:
        return [_template(k, t) for k, t in land.templates().items()]

    @strawberry.field(description="One project's land tracking; null when not tracked.")
    async def land_progress(
        self,
        info: Ctx,
        project_code: Annotated[str, _arg("The project's code (or global id).")],
        as_of: Annotated[dt.date | None, _arg("Judge overdue at (default today).")] = None,
    ) -> LandProgress | None:
        code = key_of(project_code, "Project")
        found = (await land.progress(info.context.store, [code])).get(code)
        return _progress(found, _today(info, as_of)) if found else None

    @strawberry.field(description="Tracked projects' land progress (by project code).")
    async def land_progresses(
        self,
        info: Ctx,
        where: Annotated[LandProgressWhere | None, _arg("Filters.")] = None,
        as_of: Annotated[dt.date | None, _arg("Judge overdue at (default today).")] = None,
        sort: Annotated[
            list[LandProgressSort] | None,
            _arg("Sort keys, most significant first (at most 3); ties break on project code."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> LandProgressConnection:
        today = _today(info, as_of)
        w = where or LandProgressWhere()
        check(w)
        region = key_of(w.region, "Region") if w.region is not None else None
        found = await land.tracked(info.context.store, region=region)
        tree = await region_tree(info.context.store) if "region" in fields(w) else None
        places = {t.code: t.region_code for t in found}
        if w.template is not None:
            found = [t for t in found if t.template.value == str(w.template.value)]
        progress = await land.progress(info.context.store, [t.code for t in found])
        items = [_progress(progress[t.code], today) for t in found if t.code in progress]
        if w.overdue is not None:
            items = [p for p in items if (p.overdue_nodes > 0) == w.overdue]

        def keep(p: LandProgress, x: LandProgressWhere) -> bool:
            return (
                (x.template is None or p.template == x.template)
                and (x.overdue is None or (p.overdue_nodes > 0) == x.overdue)
                and (x.region is None or within(tree, x.region, places.get(p.project_code)))
            )

        items = matching(items, w, keep)
        items, tag = sort_items(items, sort, _PROGRESS_FIELDS, "land_progresses")
        return LandProgressConnection.of(
            info.context,
            tag,
            items,
            lambda p: p.project_code,
            lambda p: p,
            page_args(first, after, last, before),
        )

    @strawberry.field(
        description="Land nodes overdue at asOf (code LAND_NODE_OVERDUE), most overdue first."
    )
    async def land_overdue_nodes(
        self,
        info: Ctx,
        as_of: Annotated[dt.date | None, _arg("Judge at (default today).")] = None,
        region: Annotated[
            str | None,
            strawberry.argument(
                description="Only projects in this region (code or global id).",
                deprecation_reason="Use where: {region: ...}.",
            ),
        ] = None,
        where: Annotated[LandOverdueWhere | None, _arg("Filters.")] = None,
        sort: Annotated[
            list[LandOverdueSort] | None,
            _arg("Sort keys, most significant first (at most 3); ties: most overdue first."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> LandOverdueConnection:
        w = where or LandOverdueWhere()
        check(w)
        region = w.region if w.region is not None else region
        code = key_of(region, "Region") if region is not None else None
        found = await land.overdue(info.context.store, _today(info, as_of), region=code)
        tree = await region_tree(info.context.store) if "region" in fields(w) else None
        found = matching(found, w, _keep_overdue(tree))
        found, tag = sort_items(found, sort, _OVERDUE_FIELDS, "land_overdue")
        return LandOverdueConnection.of(
            info.context,
            tag,
            found,
            lambda o: o.key,
            _overdue,
            page_args(first, after, last, before),
        )

    @strawberry.field(description="Red-line layers.")
    async def red_line_layers(self, info: Ctx) -> list[RedLineLayer]:
        return [_layer(layer) for layer in await land.layers(info.context.store)]

    @strawberry.field(description="Each parcel's overlap with every red-line layer.")
    async def parcel_red_line_overlaps(
        self,
        info: Ctx,
        parcel_ids: Annotated[list[str], _arg("Up to 100 parcel numbers (or global ids).")],
    ) -> list[RedLineOverlap]:
        if len(parcel_ids) > 100:
            raise InvalidInput("parcelIds: at most 100")
        parcel_ids = [key_of(p, "LandParcel") for p in parcel_ids]
        found = await land.parcel_overlaps(info.context.store, parcel_ids)
        return [_overlap(o) for pid in parcel_ids for o in found.get(pid, [])]


@strawberry.type(description="Land tracking changes (operators and admins).")
class LandMutation:
    @strawberry.mutation(
        description="Start tracking a project's land on a template from a start date.",
        permission_classes=[allow(WRITERS)],
    )
    async def track_land(
        self,
        info: Ctx,
        project_code: Annotated[str, _arg("The project's code (or global id).")],
        template: Annotated[LandTemplateKind, _arg("Approved or filed.")],
        start_on: Annotated[dt.date, _arg("Tracking start: due dates count from it.")],
    ) -> LandProgress:
        project_code = key_of(project_code, "Project")
        kind = land.TemplateKind(str(template.value))
        await land.track(info.context.store, project_code, kind, start_on)
        found = (await land.progress(info.context.store, [project_code]))[project_code]
        return _progress(found, _today(info, None))

    @strawberry.mutation(
        description="Complete (or reopen) land nodes; item by item.",
        permission_classes=[allow(WRITERS)],
    )
    async def complete_land_nodes(
        self, info: Ctx, items: Annotated[list[LandNodeCompletionInput], _arg("At most 1000.")]
    ) -> BatchResult:
        check_batch(items)
        raw = []
        for item in items:
            data = strawberry.asdict(item)
            data["project_code"] = _lenient(item.project_code, "Project")
            raw.append(data)
        outcomes = await land.complete(info.context.store, raw, _today(info, None))
        return BatchResult.of(outcomes)

    @strawberry.mutation(
        description="Import (or replace) a red-line layer from GeoJSON (lon/lat polygons).",
        permission_classes=[allow(WRITERS)],
    )
    async def import_red_line_layer(
        self,
        info: Ctx,
        id: Annotated[str, _arg("The layer's layerId (or, to replace it, its global id).")],
        kind: Annotated[RedLineKind, _arg("Layer kind.")],
        name: Annotated[str, _arg("Name.")],
        geojson: Annotated[JSON, _arg("FeatureCollection, Feature or (Multi)Polygon.")],
    ) -> RedLineLayer:
        id = key_of(id, "RedLineLayer")
        now = clock_of(info.context.extra)()
        layer = await land.import_layer(info.context.store, id, str(kind.value), name, geojson, now)
        return _layer(layer)


# --- node(id:) ----------------------------------------------------------------------------------


async def _progress_node(info: Ctx, key: str) -> LandProgress | None:
    found = (await land.progress(info.context.store, [key])).get(key)
    return _progress(found, _today(info, None)) if found else None


async def _land_node(info: Ctx, key: str) -> LandNode | None:
    project, _, code = key.partition("/")
    found = (await land.progress(info.context.store, [project])).get(project)
    today = _today(info, None)
    nodes = [n for n in found.nodes if n.code == code] if found else []
    return _node(nodes[0], today) if nodes else None


async def _layer_node(info: Ctx, key: str) -> RedLineLayer | None:
    found = [layer for layer in await land.layers(info.context.store) if layer.id == key]
    return _layer(found[0]) if found else None


# Every role that reaches the land fields reads these (the bank role reaches neither).
NODES: Final = (
    NodeLookup("LandProgress", _progress_node),
    NodeLookup("LandNode", _land_node),
    NodeLookup("RedLineLayer", _layer_node),
)

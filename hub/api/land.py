"""GraphQL for land tracking (地项通) and red-line checks.

Overdue is judged against ``asOf`` (default: today in Asia/Shanghai, from the request's
clock). ``landOverdueNodes`` returns the findings that the alert lifecycle (issue 8) is to
turn into alerts: each has the stable code ``LAND_NODE_OVERDUE`` and a key that stays the same
while the node stays overdue.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph_schema.errors import InvalidInput
from hub.api.access import WRITERS, allow
from hub.api.context import Context
from hub.api.pages import BatchResult, ListPage, check_batch
from hub.api.paging import args as page_args
from hub.api.relay import After, Before, First, Last
from hub.clock import clock_of
from hub.projects import land, redline

Ctx = Info[Context, None]


def _arg(description: str) -> Any:
    return strawberry.argument(description=description)


def _today(info: Ctx, as_of: dt.date | None) -> dt.date:
    return as_of if as_of is not None else clock_of(info.context.extra)().date()


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


@strawberry.type(description="One node of a project's land tracking.")
class LandNode:
    id: str = strawberry.field(description="<project code>/<node code>.")
    code: str = strawberry.field(description="Node code.")
    name: str = strawberry.field(description="Name.")
    due_on: dt.date = strawberry.field(description="Due date.")
    completed_on: dt.date | None = strawberry.field(description="Completion date.")
    overdue_days: int = strawberry.field(description="Days past due at asOf (0: not overdue).")
    late_days: int = strawberry.field(description="Days a completed node finished late.")


def _node(n: land.Node, today: dt.date) -> LandNode:
    return LandNode(
        id=n.id,
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
    layer_id: str = strawberry.field(description="Layer id.")
    kind: RedLineKind = strawberry.field(description="Layer kind.")
    parcel_area_m2: float = strawberry.field(description="Area of the parcel polygon, m².")
    overlap_m2: float = strawberry.field(description="Area inside the layer, m².")
    share: float = strawberry.field(description="overlap ÷ parcel area.")


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
class LandProgress:
    project_code: str = strawberry.field(description="Project.")
    template: LandTemplateKind = strawberry.field(description="Template followed.")
    as_of: dt.date = strawberry.field(description="Date overdue is judged at.")
    done: int = strawberry.field(description="Nodes completed.")
    total: int = strawberry.field(description="Nodes in all.")
    share: float = strawberry.field(description="done ÷ total.")
    current_stage: str | None = strawberry.field(description="First stage not done.")
    overdue_nodes: int = strawberry.field(description="Nodes overdue at asOf.")
    stages: list[LandStage] = strawberry.field(description="Stages, in order.")
    progress: strawberry.Private[land.Progress]

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


@strawberry.type(description="A page of projects' land tracking (by project code).")
class LandProgressConnection(ListPage[LandProgress]):
    pass


@strawberry.type(
    description="An overdue land node: code LAND_NODE_OVERDUE; key is stable while the node "
    "stays overdue (one alert per key, for the alert lifecycle)."
)
class LandOverdueNode:
    code: str = strawberry.field(description="LAND_NODE_OVERDUE.")
    key: str = strawberry.field(description="<node id>@<due date>.")
    project_code: str = strawberry.field(description="Project.")
    project_name: str = strawberry.field(description="Project name.")
    region_code: str | None = strawberry.field(description="Project's region.")
    stage_code: str = strawberry.field(description="Stage.")
    stage_name: str = strawberry.field(description="Stage name.")
    node_code: str = strawberry.field(description="Node.")
    node_name: str = strawberry.field(description="Node name.")
    due_on: dt.date = strawberry.field(description="Due date.")
    days_overdue: int = strawberry.field(description="Days past due at asOf.")


@strawberry.type(description="A page of overdue land nodes, most overdue first.")
class LandOverdueConnection(ListPage[LandOverdueNode]):
    pass


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
class RedLineLayer:
    id: str = strawberry.field(description="Layer id.")
    kind: RedLineKind = strawberry.field(description="Kind.")
    name: str = strawberry.field(description="Name.")
    features: int = strawberry.field(description="Polygons merged into it.")
    area_m2: float = strawberry.field(description="Area (equal-area), m².")


def _layer(layer: redline.Layer) -> RedLineLayer:
    return RedLineLayer(
        id=layer.id,
        kind=RedLineKind(layer.kind.value),
        name=layer.name,
        features=layer.features,
        area_m2=redline.area_m2(layer.geometry),
    )


@strawberry.input(description="Filters on tracked projects; every one given must hold.")
class LandProgressWhere:
    region: str | None = strawberry.field(default=None, description="Region, with sub-regions.")
    template: LandTemplateKind | None = strawberry.field(default=None, description="Template.")
    overdue: bool | None = strawberry.field(
        default=None, description="Only those with (true) or without (false) overdue nodes."
    )


@strawberry.input(description="A land node's completion (null completedOn reopens it).")
class LandNodeCompletionInput:
    project_code: str = strawberry.field(description="Project.")
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
        project_code: Annotated[str, _arg("Project.")],
        as_of: Annotated[dt.date | None, _arg("Judge overdue at (default today).")] = None,
    ) -> LandProgress | None:
        found = (await land.progress(info.context.store, [project_code])).get(project_code)
        return _progress(found, _today(info, as_of)) if found else None

    @strawberry.field(description="Tracked projects' land progress (by project code).")
    async def land_progresses(
        self,
        info: Ctx,
        where: Annotated[LandProgressWhere | None, _arg("Filters.")] = None,
        as_of: Annotated[dt.date | None, _arg("Judge overdue at (default today).")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> LandProgressConnection:
        today = _today(info, as_of)
        w = where or LandProgressWhere()
        found = await land.tracked(info.context.store, region=w.region)
        if w.template is not None:
            found = [t for t in found if t.template.value == str(w.template.value)]
        progress = await land.progress(info.context.store, [t.code for t in found])
        items = [_progress(progress[t.code], today) for t in found if t.code in progress]
        if w.overdue is not None:
            items = [p for p in items if (p.overdue_nodes > 0) == w.overdue]
        return LandProgressConnection.of(
            info.context,
            "land_progresses",
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
        region: Annotated[str | None, _arg("Only projects in this region.")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> LandOverdueConnection:
        found = await land.overdue(info.context.store, _today(info, as_of), region=region)
        return LandOverdueConnection.of(
            info.context,
            "land_overdue",
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
        self, info: Ctx, parcel_ids: Annotated[list[str], _arg("Up to 100 parcel numbers.")]
    ) -> list[RedLineOverlap]:
        if len(parcel_ids) > 100:
            raise InvalidInput("parcelIds: at most 100")
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
        project_code: Annotated[str, _arg("Project.")],
        template: Annotated[LandTemplateKind, _arg("Approved or filed.")],
        start_on: Annotated[dt.date, _arg("Tracking start: due dates count from it.")],
    ) -> LandProgress:
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
        raw = [strawberry.asdict(i) for i in items]
        outcomes = await land.complete(info.context.store, raw, _today(info, None))
        return BatchResult.of(outcomes)

    @strawberry.mutation(
        description="Import (or replace) a red-line layer from GeoJSON (lon/lat polygons).",
        permission_classes=[allow(WRITERS)],
    )
    async def import_red_line_layer(
        self,
        info: Ctx,
        id: Annotated[str, _arg("Layer id.")],
        kind: Annotated[RedLineKind, _arg("Layer kind.")],
        name: Annotated[str, _arg("Name.")],
        geojson: Annotated[JSON, _arg("FeatureCollection, Feature or (Multi)Polygon.")],
    ) -> RedLineLayer:
        now = clock_of(info.context.extra)()
        layer = await land.import_layer(info.context.store, id, str(kind.value), name, geojson, now)
        return _layer(layer)

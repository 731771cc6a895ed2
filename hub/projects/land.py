"""Land tracking (地项通): templates, per-project stages and nodes with due dates, completion,
stage progress, overdue nodes and red-line flags.

Templates are data (``land_templates.json``): the approved-project template has 8 stages and
26 nodes, the filed-project one 7 and 23 (no site pre-review). Tracking a project copies a
template onto it; each node's due date is the start date plus the days of every node up to
and including it.

Overdue detection takes ``today`` as an argument (the caller's clock), so it runs on a fixed
clock in tests and replays. A node is overdue when it is not completed and its due date is
before ``today``; each finding carries the stable code ``LAND_NODE_OVERDUE`` and a key
(``<node id>@<due date>``) that stays the same while the node stays overdue, so the alert
lifecycle (issue 8) can raise one alert per finding and clear it when the node completes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from graph_schema.errors import InvalidInput, NotFound
from graph_schema.statements import land as ls
from graph_schema.store import GraphStore
from hub.batch import ItemOutcome, problems_of, rejected
from hub.projects import redline
from hub.projects.financing import RegionTree, region_tree

OVERDUE_CODE: Final = "LAND_NODE_OVERDUE"
RED_LINE_CODE: Final = "RED_LINE_OVERLAP"

_Code = Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeTemplate(_Data):
    code: str = _Code
    name: str = Field(min_length=1, max_length=100)
    days: int = Field(ge=0, le=3650, description="Calendar days allowed for the node.")


class StageTemplate(_Data):
    code: str = _Code
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    nodes: tuple[NodeTemplate, ...] = Field(min_length=1)


class Template(_Data):
    name: str
    name_en: str
    red_line_check_before: str = Field(
        description="Stage that must not start while a parcel overlaps a red line."
    )
    stages: tuple[StageTemplate, ...] = Field(min_length=1)

    def node_count(self) -> int:
        return sum(len(s.nodes) for s in self.stages)


class TemplateKind(StrEnum):
    APPROVED = "approved"  # 审批类
    FILED = "filed"  # 备案类


@cache
def templates() -> dict[TemplateKind, Template]:
    """The templates shipped with the hub, validated."""
    text = (
        resources.files("hub.projects").joinpath("land_templates.json").read_text(encoding="utf-8")
    )
    raw = json.loads(text)
    out = {kind: Template.model_validate(raw[kind.value]) for kind in TemplateKind}
    for kind, template in out.items():
        codes = [n.code for s in template.stages for n in s.nodes]
        codes += [s.code for s in template.stages]
        if len(codes) != len(set(codes)):
            raise ValueError(f"land template {kind}: stage and node codes must be unique")
        if template.red_line_check_before not in {s.code for s in template.stages}:
            raise ValueError(f"land template {kind}: red_line_check_before names no stage")
    return out


def plan(project: str, kind: TemplateKind, start: dt.date) -> list[dict[str, Any]]:
    """The stage and node rows for tracking ``project`` from ``start``."""
    template = templates()[kind]
    due = start
    stages = []
    for si, stage in enumerate(template.stages):
        nodes = []
        for ni, node in enumerate(stage.nodes):
            due = due + dt.timedelta(days=node.days)
            nodes.append(
                {
                    "id": f"{project}/{node.code}",
                    "props": {
                        "project_code": project,
                        "stage_code": stage.code,
                        "code": node.code,
                        "name": node.name,
                        "position": ni,
                        "due_on": due.isoformat(),
                    },
                }
            )
        stages.append(
            {
                "id": f"{project}/{stage.code}",
                "props": {
                    "project_code": project,
                    "template": kind.value,
                    "code": stage.code,
                    "name": stage.name,
                    "name_en": stage.name_en,
                    "position": si,
                    "started_on": start.isoformat(),
                },
                "nodes": nodes,
            }
        )
    return stages


async def track(store: GraphStore, project: str, kind: TemplateKind, start: dt.date) -> int:
    """Start tracking a project's land on a template; refused if it is tracked already."""
    if await store.run(ls.TRACKED, {"projects": [project]}):
        raise InvalidInput(f"projectCode: {project} is tracked already")
    rows = await store.run(
        ls.INSTANTIATE, {"project": project, "stages": plan(project, kind, start)}
    )
    if not rows or not rows[0]["nodes"]:
        raise NotFound(f"no project {project}")
    return int(rows[0]["nodes"])


# --- progress -----------------------------------------------------------------------------------


class StageStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    project_code: str
    stage_code: str
    code: str
    name: str
    position: int
    due_on: dt.date
    completed_on: dt.date | None

    def overdue_days(self, today: dt.date) -> int:
        """Days past due (0 when done or not yet due)."""
        if self.completed_on is not None or self.due_on >= today:
            return 0
        return (today - self.due_on).days

    def late_days(self) -> int:
        """Days a completed node finished after its due date."""
        if self.completed_on is None:
            return 0
        return max(0, (self.completed_on - self.due_on).days)


@dataclass(frozen=True, slots=True)
class Stage:
    code: str
    name: str
    name_en: str
    position: int
    nodes: tuple[Node, ...]

    @property
    def done(self) -> int:
        return sum(1 for n in self.nodes if n.completed_on is not None)

    @property
    def share(self) -> float:
        return self.done / len(self.nodes) if self.nodes else 0.0

    @property
    def status(self) -> StageStatus:
        if self.done == len(self.nodes):
            return StageStatus.DONE
        return StageStatus.IN_PROGRESS if self.done else StageStatus.NOT_STARTED

    @property
    def due_on(self) -> dt.date:
        return max(n.due_on for n in self.nodes)


@dataclass(frozen=True, slots=True)
class Progress:
    project_code: str
    template: TemplateKind
    stages: tuple[Stage, ...]

    @property
    def nodes(self) -> tuple[Node, ...]:
        return tuple(n for s in self.stages for n in s.nodes)

    @property
    def done(self) -> int:
        return sum(s.done for s in self.stages)

    @property
    def share(self) -> float:
        nodes = self.nodes
        return self.done / len(nodes) if nodes else 0.0

    @property
    def current(self) -> Stage | None:
        """The first stage not done."""
        return next((s for s in self.stages if s.status is not StageStatus.DONE), None)


def _node(props: Mapping[str, Any]) -> Node:
    done = props.get("completed_on")
    return Node(
        id=str(props["id"]),
        project_code=str(props["project_code"]),
        stage_code=str(props["stage_code"]),
        code=str(props["code"]),
        name=str(props["name"]),
        position=int(props["position"]),
        due_on=dt.date.fromisoformat(str(props["due_on"])),
        completed_on=dt.date.fromisoformat(str(done)) if done else None,
    )


async def progress(store: GraphStore, projects: Sequence[str]) -> dict[str, Progress]:
    """Stage progress of each tracked project among ``projects`` (one round trip)."""
    rows = await store.run(ls.PROJECT_NODES, {"projects": list(projects)})
    stages: dict[str, dict[str, tuple[Mapping[str, Any], list[Node]]]] = {}
    for row in rows:
        per = stages.setdefault(row["code"], {})
        entry = per.setdefault(row["stage"]["code"], (row["stage"], []))
        entry[1].append(_node(row["node"]))
    out = {}
    for code, per in stages.items():
        built = [
            Stage(
                code=str(s["code"]),
                name=str(s["name"]),
                name_en=str(s.get("name_en") or ""),
                position=int(s["position"]),
                nodes=tuple(sorted(nodes, key=lambda n: n.position)),
            )
            for s, nodes in per.values()
        ]
        template = TemplateKind(next(iter(per.values()))[0]["template"])
        out[code] = Progress(code, template, tuple(sorted(built, key=lambda s: s.position)))
    return out


@dataclass(frozen=True, slots=True)
class Tracked:
    code: str
    name: str
    region_code: str | None
    template: TemplateKind


async def tracked(
    store: GraphStore, *, region: str | None = None, regions: RegionTree | None = None
) -> list[Tracked]:
    """Every tracked project (within ``region`` and its sub-regions when given), by code."""
    rows = await store.run(ls.ALL_TRACKED)
    if region is not None:
        tree = regions or await region_tree(store)
        rows = [r for r in rows if region in tree.up(r["region_code"])]
    found = {
        r["code"]: Tracked(r["code"], r["name"], r["region_code"], TemplateKind(r["template"]))
        for r in rows
    }
    return [found[c] for c in sorted(found)]


# --- overdue ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Overdue:
    """One overdue node: what issue 8's alert lifecycle will raise as an alert."""

    project_code: str
    project_name: str
    region_code: str | None
    stage_code: str
    stage_name: str
    node: Node
    days_overdue: int
    code: str = OVERDUE_CODE

    @property
    def key(self) -> str:
        """Stable while the node stays overdue: one alert per key."""
        return f"{self.node.id}@{self.node.due_on.isoformat()}"


async def overdue(store: GraphStore, today: dt.date, *, region: str | None = None) -> list[Overdue]:
    """Nodes not completed and due before ``today``, most overdue first."""
    rows = await store.run(ls.OVERDUE, {"today": today.isoformat()})
    tree = await region_tree(store) if region is not None else None
    out = []
    for row in rows:
        if tree is not None and region not in tree.up(row["region_code"]):
            continue
        node = _node(row["node"])
        out.append(
            Overdue(
                project_code=str(row["project_code"]),
                project_name=str(row["project_name"]),
                region_code=row["region_code"],
                stage_code=str(row["stage"]["code"]),
                stage_name=str(row["stage"]["name"]),
                node=node,
                days_overdue=node.overdue_days(today),
            )
        )
    return sorted(out, key=lambda o: (-o.days_overdue, o.node.id))


# --- completion ---------------------------------------------------------------------------------


class Completion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    project_code: str = Field(min_length=1, max_length=64)
    node_code: str = _Code
    completed_on: dt.date | None = Field(description="None reopens the node.")


async def complete(
    store: GraphStore, items: Sequence[Mapping[str, Any]], today: dt.date
) -> list[ItemOutcome]:
    """Mark nodes completed (or reopened with ``completed_on`` null); item by item. A
    completion date in the future is refused."""
    outcomes: list[ItemOutcome] = []
    valid: list[tuple[int, Completion]] = []
    for i, raw in enumerate(items):
        key = f"{raw.get('project_code')}/{raw.get('node_code')}"
        try:
            item = Completion.model_validate(dict(raw))
        except ValidationError as exc:
            outcomes.append(ItemOutcome(i, key, problems_of(exc)))
            continue
        if item.completed_on is not None and item.completed_on > today:
            message = f"{item.completed_on} is in the future"
            outcomes.append(rejected(i, key, "completed_on", message, "BAD_USER_INPUT"))
            continue
        valid.append((i, item))
    ids = [f"{c.project_code}/{c.node_code}" for _, c in valid]
    found = {r["id"] for r in await store.run(ls.NODES_BY_ID, {"ids": ids})} if ids else set()
    rows = []
    for (i, item), node_id in zip(valid, ids, strict=True):
        if node_id not in found:
            message = f"no land node {item.node_code} tracked for project {item.project_code}"
            outcomes.append(rejected(i, node_id, "node_code", message, "NOT_FOUND"))
            continue
        done = item.completed_on.isoformat() if item.completed_on else None
        rows.append({"id": node_id, "completed_on": done})
        outcomes.append(ItemOutcome(i, node_id))
    if rows:
        await store.run(ls.COMPLETE, {"rows": rows})
    return sorted(outcomes, key=lambda o: o.index)


# --- red lines ----------------------------------------------------------------------------------


async def import_layer(
    store: GraphStore, layer_id: str, kind: str, name: str, geojson: Any, now: dt.datetime
) -> redline.Layer:
    layer = redline.layer_from_geojson(layer_id, kind, name, geojson)
    props = {
        "kind": layer.kind.value,
        "name": name,
        "geometry": redline.dumps(layer.geometry),
        "features": layer.features,
        "imported_at": now.isoformat(timespec="seconds"),
    }
    await store.run(ls.UPSERT_LAYER, {"id": layer.id, "props": props})
    return layer


async def layers(store: GraphStore) -> list[redline.Layer]:
    rows = await store.run(ls.LAYERS)
    return sorted(
        (
            redline.Layer(
                r["id"],
                redline.LayerKind(r["kind"]),
                str(r["name"]),
                redline.loads(r["geometry"]),
                int(r["features"] or 0),
            )
            for r in rows
        ),
        key=lambda layer: layer.id,
    )


async def parcel_overlaps(
    store: GraphStore, parcel_ids: Sequence[str]
) -> dict[str, list[redline.Overlap]]:
    """Every parcel's overlap with every red-line layer."""
    found = await store.run(ls.PARCELS_BY_ID, {"ids": list(parcel_ids)})
    all_layers = await layers(store)
    return {
        r["id"]: redline.overlaps(r["id"], redline.loads(r["geometry"]), all_layers) for r in found
    }


async def project_overlaps(store: GraphStore, project: str) -> list[redline.Overlap]:
    """Overlaps of the project's parcels with every layer (zero-area ones left out)."""
    rows = await store.run(ls.PROJECT_PARCELS, {"projects": [project]})
    all_layers = await layers(store)
    out = []
    for r in rows:
        for o in redline.overlaps(r["id"], redline.loads(r["geometry"]), all_layers):
            if o.overlap_m2 > 0:
                out.append(o)
    return sorted(out, key=lambda o: (o.parcel_id, o.layer_id))


@dataclass(frozen=True, slots=True)
class RedLineFlag:
    """A parcel in a red line while the stage the check guards has not been completed."""

    overlap: redline.Overlap
    before_stage: str
    code: str = RED_LINE_CODE


def red_line_flags(prog: Progress, found: Sequence[redline.Overlap]) -> list[RedLineFlag]:
    """Flags for the overlaps, unless the guarded stage is already done (then the conflict was
    settled, e.g. by adjusting the parcel or the red line)."""
    guarded = templates()[prog.template].red_line_check_before
    stage = next((s for s in prog.stages if s.code == guarded), None)
    if stage is not None and stage.status is StageStatus.DONE:
        return []
    return [RedLineFlag(o, guarded) for o in found if o.overlap_m2 > 0]

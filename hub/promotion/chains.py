"""Industry-chain analytics for investment promotion: chain maps per region, chokepoint segments,
target enterprises, and supply neighbourhoods.

Figures come from ``graph_schema.statements.chains`` per segment and *home region* (the county
or city an enterprise or project is registered in) and are summed here up the region tree, so
one pair of statements serves a map at any level and the comparison with its peer regions.

The rules, stated once (thresholds are settings, ``HUB_CHAINS_*``):

- **Few local enterprises.** A segment is weak in a region when it has fewer than
  ``min_enterprises`` local enterprises, or fewer than ``peer_ratio`` times the median count of
  the same segment in the region's peers (the other regions under the same parent). Strength:
  how far below the bar it is (1 with none at all).
- **Downstream demand supplied from outside.** The region's downstream demand for a segment is
  the output of its local enterprises in the segments it supplies; local supply is the output of
  its local enterprises in the segment itself. The share from outside is
  ``1 - min(1, supply / demand)``; weak at or above ``external_share``. (Output stands in for
  purchases: the graph holds no input-output table.)
- **A single local supplier.** Weak when the largest local enterprise makes at least
  ``single_supplier_share`` of the segment's local output (or is the only one), while the
  region has downstream demand for it.

A segment is a chokepoint when any rule holds; its score is the mean strength of the three rules
(0 for a rule that does not hold), times 100.
"""

from __future__ import annotations

import asyncio
import math
import statistics
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from graph_schema.errors import InvalidInput, NotFound
from graph_schema.model import Tier
from graph_schema.statements import chains as st
from graph_schema.store import GraphStore, Row
from hub import texts

TIER_ORDER = {Tier.UPSTREAM: 0, Tier.MIDSTREAM: 1, Tier.DOWNSTREAM: 2}
MAX_HOPS = 6
MAX_PATHS = 200


@dataclass(frozen=True, slots=True)
class Rules:
    """Thresholds of the chokepoint and target rules (settings ``HUB_CHAINS_*``)."""

    min_enterprises: int = 3
    peer_ratio: float = 0.5
    external_share: float = 0.6
    single_supplier_share: float = 0.6


# --- figures ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Figures:
    """What a region has in one segment (or in a whole chain)."""

    enterprises: int = 0
    leaders: int = 0
    tagged: int = 0
    output: float = 0.0
    top_output: float = 0.0
    employment: int = 0
    patents: int = 0
    projects: int = 0
    planned_investment: float = 0.0
    completed_investment: float = 0.0

    def add(self, other: Figures) -> None:
        self.enterprises += other.enterprises
        self.leaders += other.leaders
        self.tagged += other.tagged
        self.output += other.output
        self.top_output = max(self.top_output, other.top_output)
        self.employment += other.employment
        self.patents += other.patents
        self.projects += other.projects
        self.planned_investment += other.planned_investment
        self.completed_investment += other.completed_investment


@dataclass(frozen=True, slots=True)
class RegionInfo:
    code: str
    name: str
    level: str
    parent: str | None


class RegionTree:
    """Every region with its parent and children, to sum figures up the tree."""

    def __init__(self, rows: Iterable[Row]) -> None:
        self.regions = {
            r["code"]: RegionInfo(r["code"], r["name"], r["level"], r["parent"]) for r in rows
        }
        self.children: dict[str, list[str]] = defaultdict(list)
        for info in self.regions.values():
            if info.parent is not None:
                self.children[info.parent].append(info.code)

    def get(self, code: str) -> RegionInfo:
        info = self.regions.get(code)
        if info is None:
            raise NotFound(f"region {code!r} does not exist")
        return info

    def within(self, code: str) -> list[str]:
        """``code`` and every region below it."""
        out, todo = [], [code]
        while todo:
            current = todo.pop()
            out.append(current)
            todo += self.children.get(current, [])
        return sorted(out)

    def peers(self, code: str) -> list[str]:
        parent = self.get(code).parent
        return sorted(c for c in self.children.get(parent, []) if c != code) if parent else []


@dataclass(slots=True)
class ByHome:
    """Figures per segment and home region."""

    cells: dict[str, dict[str, Figures]] = field(default_factory=dict)

    def figures(self, segment: str, homes: Iterable[str]) -> Figures:
        total = Figures()
        per_home = self.cells.get(segment, {})
        for home in homes:
            cell = per_home.get(home)
            if cell is not None:
                total.add(cell)
        return total


# The segments are split over this many concurrent statements: the graph database runs reads
# on a thread per core, so a province-wide map (about 24,000 enterprises for one chain at
# hubei scale) took 45 ms instead of 80 on this 2-core machine.
PARALLEL_READS = 2


async def _by_home(store: GraphStore, segments: Sequence[str]) -> ByHome:
    chunks = [list(segments[i::PARALLEL_READS]) for i in range(PARALLEL_READS)]
    chunks = [c for c in chunks if c]
    found = await asyncio.gather(
        *(store.run(st.ENTERPRISES_BY_HOME, {"segments": c}) for c in chunks),
        *(store.run(st.PROJECTS_BY_HOME, {"segments": c}) for c in chunks),
    )
    enterprises = [row for rows in found[: len(chunks)] for row in rows]
    projects = [row for rows in found[len(chunks) :] for row in rows]
    out = ByHome()
    for row in enterprises:
        cell = out.cells.setdefault(row["segment"], {}).setdefault(row["home"], Figures())
        cell.enterprises = int(row["enterprises"])
        cell.leaders = int(row["leaders"])
        cell.tagged = int(row["tagged"])
        cell.output = float(row["output"])
        cell.top_output = float(row["top_output"])
        cell.employment = int(row["employment"])
        cell.patents = int(row["patents"])
    for row in projects:
        cell = out.cells.setdefault(row["segment"], {}).setdefault(row["home"], Figures())
        cell.projects = int(row["projects"])
        cell.planned_investment = float(row["planned_investment"])
        cell.completed_investment = float(row["completed_investment"])
    return out


# --- the supply graph --------------------------------------------------------------------------


class Direction(StrEnum):
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class SupplyGraph:
    """Segment → segments it supplies, and the reverse."""

    downstream: dict[str, list[str]]
    upstream: dict[str, list[str]]

    @classmethod
    def of(cls, rows: Iterable[Row]) -> SupplyGraph:
        down: dict[str, list[str]] = defaultdict(list)
        up: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            down[row["source"]].append(row["target"])
            up[row["target"]].append(row["source"])
        return cls({k: sorted(v) for k, v in down.items()}, {k: sorted(v) for k, v in up.items()})

    def reach(self, starts: Iterable[str], hops: int, direction: Direction) -> dict[str, int]:
        """Segments within ``hops`` of ``starts`` following SUPPLIES one way, with the fewest
        hops to each (the starts themselves excluded)."""
        edges = self.downstream if direction is Direction.DOWNSTREAM else self.upstream
        seen = dict.fromkeys(starts, 0)
        queue = deque(seen)
        found: dict[str, int] = {}
        while queue:
            current = queue.popleft()
            if seen[current] == hops:
                continue
            for nxt in edges.get(current, ()):
                if nxt not in seen:
                    seen[nxt] = seen[current] + 1
                    found[nxt] = seen[nxt]
                    queue.append(nxt)
        return found

    def paths_through(self, segment: str, limit: int = MAX_PATHS) -> list[list[str]]:
        """Paths from raw material (a segment nothing supplies) to end product (a segment that
        supplies nothing) through ``segment``, shortest first, at most ``limit``."""
        heads = self._walks(segment, self.upstream, limit)
        tails = self._walks(segment, self.downstream, limit)
        paths = [[*reversed(h), *t[1:]] for h in heads for t in tails]
        paths.sort(key=lambda p: (len(p), p))
        return paths[:limit]

    @staticmethod
    def _walks(start: str, edges: dict[str, list[str]], limit: int) -> list[list[str]]:
        """Every simple walk from ``start`` until no edge continues it (``start`` first)."""
        done: list[list[str]] = []
        stack = [[start]]
        while stack and len(done) < limit:
            walk = stack.pop()
            nexts = [n for n in edges.get(walk[-1], ()) if n not in walk]
            if not nexts:
                done.append(walk)
            stack += [[*walk, n] for n in reversed(nexts)]
        return done


# --- chain map ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MapNode:
    segment: dict[str, Any]  # the segment's properties
    figures: Figures


@dataclass(frozen=True, slots=True)
class ChainMap:
    chain: str
    region: RegionInfo
    nodes: list[MapNode]
    edges: list[tuple[str, str]]
    totals: Figures


async def _chain_segments(store: GraphStore, chain: str) -> list[dict[str, Any]]:
    rows = await store.run(st.CHAIN_SEGMENTS, {"chain": chain})
    if not rows:
        raise NotFound(f"industry chain {chain!r} does not exist or has no segments")
    segments = [dict(r["props"]) for r in rows]
    segments.sort(key=lambda s: (TIER_ORDER[Tier(s["tier"])], s.get("position") or 0, s["id"]))
    return segments


async def chain_map(store: GraphStore, chain: str, region: str) -> ChainMap:
    """The chain's segments with the region's figures (sub-regions included) and the SUPPLIES
    edges between them."""
    tree_rows, segments, supply = await asyncio.gather(
        store.run(st.REGIONS, {}), _chain_segments(store, chain), store.run(st.SUPPLY_GRAPH, {})
    )
    tree = RegionTree(tree_rows)
    info = tree.get(region)
    ids = [s["id"] for s in segments]
    by_home = await _by_home(store, ids)
    within = tree.within(region)
    nodes = [MapNode(s, by_home.figures(s["id"], within)) for s in segments]
    members = set(ids)
    edges = sorted(
        (r["source"], r["target"])
        for r in supply
        if r["source"] in members and r["target"] in members
    )
    totals = Figures()
    for node in nodes:
        totals.add(node.figures)
    # An enterprise in several of the chain's segments counts once per segment on the map;
    # the totals are per-segment sums, said so in the API.
    return ChainMap(chain, info, nodes, edges, totals)


# --- chokepoints -------------------------------------------------------------------------------


class Rule(StrEnum):
    FEW_LOCAL_ENTERPRISES = "few_local_enterprises"
    DEMAND_SUPPLIED_FROM_OUTSIDE = "demand_supplied_from_outside"
    SINGLE_LOCAL_SUPPLIER = "single_local_supplier"


@dataclass(frozen=True, slots=True)
class Reason:
    rule: Rule
    code: str  # the finding as data (hub.texts CHOKEPOINT_*), rendered per language
    params: dict[str, Any]
    value: float
    threshold: float
    strength: float  # 0..1, how far past the threshold

    @property
    def message(self) -> str:
        return texts.render(self.code, self.params, texts.Lang.EN)


@dataclass(frozen=True, slots=True)
class Chokepoint:
    segment: dict[str, Any]
    figures: Figures
    score: float
    reasons: list[Reason]
    peer_median: float | None
    downstream_output: float


def judge(
    figures: Figures,
    peer_counts: Sequence[int],
    downstream_output: float,
    rules: Rules,
) -> list[Reason]:
    """The rules that hold for one segment in one region (see the module's docstring)."""
    reasons: list[Reason] = []
    count = figures.enterprises
    if count < rules.min_enterprises:
        strength = 1.0 - count / rules.min_enterprises
        reasons.append(
            Reason(
                Rule.FEW_LOCAL_ENTERPRISES,
                "CHOKEPOINT_FEW_LOCAL",
                {"count": count, "minimum": rules.min_enterprises},
                count,
                rules.min_enterprises,
                strength,
            )
        )
    elif peer_counts:
        median = statistics.median(peer_counts)
        bar = rules.peer_ratio * median
        if count < bar:
            reasons.append(
                Reason(
                    Rule.FEW_LOCAL_ENTERPRISES,
                    "CHOKEPOINT_FEW_AGAINST_PEERS",
                    {"count": count, "median": f"{median:g}", "ratio": f"{rules.peer_ratio:g}"},
                    count,
                    bar,
                    1.0 - count / bar,
                )
            )
    if downstream_output > 0:
        external = 1.0 - min(1.0, figures.output / downstream_output)
        if external >= rules.external_share:
            reasons.append(
                Reason(
                    Rule.DEMAND_SUPPLIED_FROM_OUTSIDE,
                    "CHOKEPOINT_DEMAND_OUTSIDE",
                    {"covered": round(1 - external, 4), "external": round(external, 4)},
                    external,
                    rules.external_share,
                    external,
                )
            )
        if count >= 1 and figures.output > 0:
            top = figures.top_output / figures.output
            if count == 1 or top >= rules.single_supplier_share:
                reasons.append(
                    Reason(
                        Rule.SINGLE_LOCAL_SUPPLIER,
                        "CHOKEPOINT_SINGLE_SUPPLIER",
                        {"top": round(top, 4)},
                        top,
                        rules.single_supplier_share,
                        top,
                    )
                )
    return reasons


def score(reasons: Sequence[Reason]) -> float:
    return round(100 * sum(r.strength for r in reasons) / len(Rule), 1)


async def chokepoints(store: GraphStore, chain: str, region: str, rules: Rules) -> list[Chokepoint]:
    """The chain's weak segments in ``region``, worst first."""
    tree_rows, segments, supply_rows = await asyncio.gather(
        store.run(st.REGIONS, {}), _chain_segments(store, chain), store.run(st.SUPPLY_GRAPH, {})
    )
    tree = RegionTree(tree_rows)
    tree.get(region)
    supply = SupplyGraph.of(supply_rows)
    ids = [s["id"] for s in segments]
    downstream = {s: supply.downstream.get(s, []) for s in ids}
    wanted = sorted({*ids, *(d for ds in downstream.values() for d in ds)})
    by_home = await _by_home(store, wanted)
    within = tree.within(region)
    peers = [tree.within(p) for p in tree.peers(region)]
    out = []
    for segment in segments:
        sid = segment["id"]
        figures = by_home.figures(sid, within)
        peer_counts = [by_home.figures(sid, homes).enterprises for homes in peers]
        demand = sum(by_home.figures(d, within).output for d in downstream[sid])
        reasons = judge(figures, peer_counts, demand, rules)
        if reasons:
            median = statistics.median(peer_counts) if peer_counts else None
            out.append(Chokepoint(segment, figures, score(reasons), reasons, median, demand))
    out.sort(key=lambda c: (-c.score, c.segment["id"]))
    return out


# --- targets -----------------------------------------------------------------------------------

# Weights of the target score; each signal is scaled to 0..1 among the candidates first.
TAG_POINTS = {
    "chain_leader": 1.0,
    "listed": 0.7,
    "little_giant": 0.6,
    "high_tech": 0.4,
    "above_designated_size": 0.2,
}
WEIGHTS = {"output": 0.4, "patents": 0.25, "tags": 0.2, "growth": 0.15}


@dataclass(frozen=True, slots=True)
class Target:
    props: dict[str, Any]
    region_code: str
    score: float
    reasons: list[tuple[str, dict[str, Any]]]  # (hub.texts code TARGET_*, parameters)

    def words(self, lang: texts.Lang = texts.Lang.EN) -> list[str]:
        return [texts.render(code, params, lang) for code, params in self.reasons]


def _scaled(values: Sequence[float]) -> list[float]:
    """Log-scaled to 0..1 (amounts and counts are heavy-tailed)."""
    logs = [math.log1p(max(v, 0.0)) for v in values]
    top = max(logs, default=0.0)
    return [v / top if top > 0 else 0.0 for v in logs]


def rank_targets(candidates: Sequence[tuple[dict[str, Any], str]]) -> list[Target]:
    """Candidates (properties, home region) ranked by output, patents, tags and growth."""
    props = [c[0] for c in candidates]
    output = _scaled([float(p.get("output") or 0) for p in props])
    patents = _scaled([float(p.get("patents") or 0) for p in props])
    growths = [p.get("output_growth") for p in props]
    known = [float(g) for g in growths if g is not None]
    low, high = (min(known), max(known)) if known else (0.0, 0.0)
    ranked = []
    for i, (p, home) in enumerate(candidates):
        tags = list(p.get("tags") or [])
        tag_points = min(1.0, sum(TAG_POINTS.get(t, 0.0) for t in tags))
        growth = growths[i]
        growth_points = (
            (float(growth) - low) / (high - low) if growth is not None and high > low else 0.0
        )
        value = (
            WEIGHTS["output"] * output[i]
            + WEIGHTS["patents"] * patents[i]
            + WEIGHTS["tags"] * tag_points
            + WEIGHTS["growth"] * growth_points
        )
        reasons: list[tuple[str, dict[str, Any]]] = [
            ("TARGET_OUTPUT", {"amount": f"{float(p.get('output') or 0):,.0f}"})
        ]
        if p.get("patents"):
            reasons.append(("TARGET_PATENTS", {"count": int(p["patents"])}))
        reasons += [("TARGET_TAG", {"tag": t}) for t in tags if t in TAG_POINTS]
        if growth is not None:
            reasons.append(("TARGET_GROWTH", {"growth": f"{float(growth):+.1f}"}))
        ranked.append(Target(p, home, round(100 * value, 1), reasons))
    ranked.sort(key=lambda t: (-t.score, str(t.props.get("uscc"))))
    return ranked


async def targets(store: GraphStore, segment: str, region: str) -> list[Target]:
    """Enterprises registered outside ``region`` that could fill ``segment`` there, best first;
    enterprises that already have a project in the region are left out."""
    tree = RegionTree(await store.run(st.REGIONS, {}))
    tree.get(region)
    await _segment(store, segment)
    rows = await store.run(
        st.TARGET_CANDIDATES, {"segment": segment, "within": tree.within(region)}
    )
    return rank_targets([(dict(r["props"]), r["region_code"]) for r in rows])


@dataclass(frozen=True, slots=True)
class Beneficiary:
    props: dict[str, Any]
    region_code: str
    segments: list[str]


async def beneficiaries(store: GraphStore, segment: str, region: str) -> list[Beneficiary]:
    """The region's enterprises in the segments ``segment`` supplies: who gains when it is
    filled locally. Largest output first."""
    tree_rows, supply_rows = await asyncio.gather(
        store.run(st.REGIONS, {}), store.run(st.SUPPLY_GRAPH, {})
    )
    tree = RegionTree(tree_rows)
    tree.get(region)
    await _segment(store, segment)
    downstream = SupplyGraph.of(supply_rows).downstream.get(segment, [])
    if not downstream:
        return []
    rows = await store.run(
        st.LOCAL_IN_SEGMENTS, {"segments": downstream, "within": tree.within(region)}
    )
    found = [Beneficiary(dict(r["props"]), r["region_code"], sorted(r["segments"])) for r in rows]
    found.sort(key=lambda b: (-float(b.props.get("output") or 0), str(b.props.get("uscc"))))
    return found


async def _segment(store: GraphStore, segment: str) -> dict[str, Any]:
    rows = await store.run(st.SEGMENTS_BY_ID, {"segments": [segment]})
    if not rows:
        raise NotFound(f"chain segment {segment!r} does not exist")
    return dict(rows[0]["props"])


# --- supply neighbourhood ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Neighbour:
    segment: dict[str, Any]
    direction: Direction
    hops: int


@dataclass(frozen=True, slots=True)
class Neighbourhood:
    centre: list[str]
    neighbours: list[Neighbour]
    edges: list[tuple[str, str]]
    paths: list[list[str]]
    segments: dict[str, dict[str, Any]]


async def neighbourhood(
    store: GraphStore, centre: Sequence[str], hops: int, direction: Direction
) -> Neighbourhood:
    """Segments upstream and/or downstream of ``centre`` within ``hops``, the SUPPLIES edges
    among them, and the paths from raw material to end product through each centre segment."""
    if not 1 <= hops <= MAX_HOPS:
        raise InvalidInput(f"hops: must be between 1 and {MAX_HOPS}")
    graph = SupplyGraph.of(await store.run(st.SUPPLY_GRAPH, {}))
    found: list[tuple[str, Direction, int]] = []
    for way in (Direction.UPSTREAM, Direction.DOWNSTREAM):
        if direction in (way, Direction.BOTH):
            found += [(s, way, h) for s, h in graph.reach(centre, hops, way).items()]
    involved = {*centre, *(s for s, _, _ in found)}
    edges = sorted((a, b) for a in involved for b in graph.downstream.get(a, ()) if b in involved)
    paths: list[list[str]] = []
    for segment in centre:
        paths += graph.paths_through(segment)
    paths = sorted({tuple(p): p for p in paths}.values(), key=lambda p: (len(p), p))[:MAX_PATHS]
    ids = sorted(involved | {s for p in paths for s in p})
    rows = await store.run(st.SEGMENTS_BY_ID, {"segments": ids})
    props = {r["props"]["id"]: dict(r["props"]) for r in rows}
    neighbours = [
        Neighbour(props[s], way, h)
        for s, way, h in sorted(found, key=lambda f: (f[2], f[1].value, f[0]))
        if s in props
    ]
    return Neighbourhood(list(centre), neighbours, edges, paths, props)


async def enterprise_segments(store: GraphStore, uscc: str) -> list[str]:
    rows = await store.run(st.ENTERPRISE_SEGMENTS, {"uscc": uscc})
    return sorted(r["segment"] for r in rows)

"""No import circles among the project's packages, and no module that fills another module's
registry when it is imported.

Every import counts, at module level or inside a function (a function-local import only hides
a circle), except those under ``if TYPE_CHECKING:``, which never run: that is how two GraphQL
types that refer to each other name one another (``strawberry.lazy``)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("graph_schema", "hub", "ingest", "connectors", "vision")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _type_checking_only(tree: ast.Module) -> set[int]:
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    return hidden


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = _type_checking_only(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: list[str] = []
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            targets += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([node.module] if node.module else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                targets.append(full if full in modules else base)
    edges: set[str] = set()
    for target in targets:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            edges.add(target)
    return edges


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph[nxt])))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_circles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [["a", "b", "c"]]


def test_no_import_circles() -> None:
    modules = _modules()
    assert "hub.api.entities.project" in modules and "graph_schema.model" in modules
    graph = {name: _imported(name, path, modules) for name, path in modules.items()}
    assert graph["hub.api.schema"] >= {"hub.api.entities.project", "hub.api.lists"}
    circles = _circles(graph)
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


_FILLING = frozenset({"update", "append", "extend", "add", "setdefault", "__setitem__"})


def _fills_another_module(path: Path) -> list[str]:
    """Module-level statements that change a name of an imported module (``other.X.update(...)``,
    ``other.X[k] = v``): a registry filled as a side effect of importing."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {
        (alias.asname or alias.name).split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    found: list[str] = []
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and func.attr in _FILLING:
                targets.append(func.value)
        elif isinstance(node, ast.Assign | ast.AugAssign):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Subscript | ast.Attribute):
                    targets.append(target.value if isinstance(target, ast.Subscript) else target)
        for target in targets:
            while isinstance(target, ast.Attribute | ast.Subscript):
                target = target.value
            if isinstance(target, ast.Name) and target.id in imported:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_module_fills_another_modules_registry() -> None:
    found = [hit for path in _modules().values() for hit in _fills_another_module(path)]
    assert not found, "module-level writes into another module: " + ", ".join(found)


# hub/ by audience (README, "Layout"): the services of promotion, monitoring and projects are
# called by the API and the process wiring, never the other way round. Settings sections are data
# they may read.
SERVICES = ("hub.promotion", "hub.monitoring", "hub.projects")
WIRING = (
    "hub.api",
    "hub.app",
    "hub.cli",
    "hub.lifecycle",
    "hub.ingest_app",
    "hub.console",
    "hub.demo",
    "hub.doctor",
)


def test_services_do_not_import_the_api_or_the_process_wiring() -> None:
    modules = _modules()
    assert {"hub.promotion.chains", "hub.monitoring.watch", "hub.projects.land"} <= set(modules)
    wrong = sorted(
        f"{name} -> {target}"
        for name, path in modules.items()
        if name.startswith(SERVICES)
        for target in _imported(name, path, modules)
        if target.startswith(WIRING)
    )
    assert not wrong, "services importing the API or the wiring: " + ", ".join(wrong)


# Cypher lives under graph_schema/statements/ (issue 26), besides the few statements the
# adapters, the dialect table and backup need about the store itself. A statement written
# anywhere else would escape the Neo4j lint's catalog and the review of what the hub sends.
CYPHER_OUTSIDE_STATEMENTS = frozenset(
    {
        "graph_schema/backup.py",
        "graph_schema/dialect.py",
        "graph_schema/falkordb_store.py",
        "graph_schema/neo4j_store.py",
    }
)


def test_cypher_is_written_only_under_graph_schema_statements() -> None:
    found = sorted(
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "Statement(" in path.read_text(encoding="utf-8")
        and not path.relative_to(ROOT).as_posix().startswith("graph_schema/statements/")
    )
    assert "graph_schema/statements/entities.py" not in found
    assert set(found) <= CYPHER_OUTSIDE_STATEMENTS, f"Cypher outside statements/: {found}"

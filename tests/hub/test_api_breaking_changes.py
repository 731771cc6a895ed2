"""The breaking-change policy (CHANGELOG.md, head): graphql-inspector's diff between the last
release's contract (docs/releases/<version>.graphql) and schema.graphql, which
test_http.py's test_committed_schema_matches_the_code keeps equal to the code. Every breaking
change it finds is declared by its schema coordinate in a `- Breaking:` bullet of CHANGELOG.md
(above the release's own heading) or of changelog.d/*.md; a field, argument, input field or enum
value the release had and the schema lost was deprecated in the release (a release of notice),
or is declared Breaking too."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import graphql
import pytest

from tests.clients.node import CLIENTS, ROOT, node, run

RELEASES = ROOT / "docs" / "releases"
DIFF = CLIENTS / "schema-diff.mjs"
Field = graphql.FieldDefinitionNode

# What a removal is, and where the removed element's deprecation is looked up in the release.
_REMOVALS = {"FIELD_REMOVED", "FIELD_ARGUMENT_REMOVED", "INPUT_FIELD_REMOVED", "ENUM_VALUE_REMOVED"}
_ARGUMENT_PATH = re.compile(r"^(FIELD_ARGUMENT_|DIRECTIVE_ARGUMENT_)")
_DECLARED = re.compile(r"^Breaking:\s*((?:`[^`]+`(?:\s*(?:,|and)\s*)?)+)")


@dataclass(frozen=True)
class Change:
    """One change graphql-inspector reports."""

    type: str
    level: str
    path: str
    message: str

    @property
    def coordinate(self) -> str:
        """The schema coordinate of the changed element: `Type.field(arg:)` for arguments,
        `Type.field`, `Enum.VALUE`, `Input.field`, `Type`, `@directive`."""
        path = self.path.removesuffix(".@deprecated")
        if _ARGUMENT_PATH.match(self.type):
            owner, _, argument = path.rpartition(".")
            return f"{owner}({argument}:)"
        return path


def latest_release() -> tuple[str, Path]:
    """The newest docs/releases/<version>.graphql, by version."""
    found = sorted(
        RELEASES.glob("*.graphql"),
        key=lambda p: tuple(int(n) for n in p.stem.split(".")),
    )
    assert found, f"no release contract in {RELEASES}"
    return found[-1].stem, found[-1]


def diff(*pairs: tuple[Path, Path]) -> list[list[Change]]:
    """graphql-inspector's changes for each (old, new) pair of SDL files, in one node run."""
    args = [node(), str(DIFF)]
    for old, new in pairs:
        args += [str(old), str(new)]
    found = json.loads(run(args))
    return [
        [Change(c["type"], c["level"], c["path"] or "", c["message"]) for c in p] for p in found
    ]


def _bullets(text: str) -> Iterable[str]:
    """Top-level markdown bullets ("- ..."), each with its indented continuation lines."""
    bullet: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("- "):
            if bullet is not None:
                yield " ".join(bullet)
            bullet = [line[2:].strip()]
        elif bullet is not None and line.startswith((" ", "\t")) and line.strip():
            bullet.append(line.strip())
        elif bullet is not None:
            yield " ".join(bullet)
            bullet = None
    if bullet is not None:
        yield " ".join(bullet)


def declared(changelog: Path, fragments: Path, release: str) -> set[str]:
    """The coordinates `- Breaking:` bullets name: in CHANGELOG.md above the release's heading
    (`## <release>`: what came after it), and in every changelog.d fragment but its README."""
    text = changelog.read_text(encoding="utf-8")
    heading = re.search(rf"^## {re.escape(release)}\b", text, re.MULTILINE)
    texts = [text[: heading.start()] if heading else text]
    texts += [
        p.read_text(encoding="utf-8")
        for p in sorted(fragments.glob("*.md"))
        if p.name != "README.md"
    ]
    found: set[str] = set()
    for bullet in (b for t in texts for b in _bullets(t)):
        match = _DECLARED.match(bullet)
        if match:
            found.update(re.findall(r"`([^`]+)`", match.group(1)))
    return found


def _deprecated_in(release: graphql.GraphQLSchema, change: Change) -> bool:
    """Whether the element a removal names was deprecated in the release."""
    parts = change.path.split(".")
    named = release.get_type(parts[0])
    if change.type == "FIELD_REMOVED" and isinstance(
        named, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType
    ):
        return named.fields[parts[1]].deprecation_reason is not None
    if change.type == "FIELD_ARGUMENT_REMOVED" and isinstance(
        named, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType
    ):
        return named.fields[parts[1]].args[parts[2]].deprecation_reason is not None
    if change.type == "INPUT_FIELD_REMOVED" and isinstance(named, graphql.GraphQLInputObjectType):
        return named.fields[parts[1]].deprecation_reason is not None
    if change.type == "ENUM_VALUE_REMOVED" and isinstance(named, graphql.GraphQLEnumType):
        return named.values[parts[1]].deprecation_reason is not None
    return False


@functools.cache
def _schema(sdl: str) -> graphql.GraphQLSchema:
    return graphql.build_schema(sdl)


def _field(sdl: str, type_name: str, field: str) -> graphql.GraphQLField:
    named = _schema(sdl).get_type(type_name)
    assert isinstance(named, graphql.GraphQLObjectType), type_name
    found: graphql.GraphQLField = named.fields[field]
    return found


def violations(changes: list[Change], release_sdl: str, declarations: set[str]) -> list[str]:
    """Every change the policy refuses, one line each."""
    release = _schema(release_sdl)
    refused = []
    for change in changes:
        coordinate = change.coordinate
        if coordinate in declarations:
            continue
        if change.type in _REMOVALS:
            if _deprecated_in(release, change):
                continue  # deprecated for a release: its removal was announced
            refused.append(
                f"`{coordinate}` removed without a release of deprecation ({change.message}): "
                f"keep it, deprecated with deprecation_reason= naming its replacement, for one "
                f"release, or declare it in changelog.d as `- Breaking: \\`{coordinate}\\` ...`"
            )
        elif change.level == "BREAKING":
            refused.append(
                f"`{coordinate}`: {change.message} (breaking, undeclared): declare it in "
                f"changelog.d as `- Breaking: \\`{coordinate}\\` ...why and what to do...`"
            )
    return refused


def _policy(schema: Path, changelog: Path, fragments: Path) -> tuple[list[Change], list[str]]:
    release, contract = latest_release()
    changes = diff((contract, schema))[0]
    refused = violations(
        changes, contract.read_text(encoding="utf-8"), declared(changelog, fragments, release)
    )
    return changes, refused


def test_every_breaking_change_since_the_release_is_declared() -> None:
    release, _ = latest_release()
    changes, refused = _policy(ROOT / "schema.graphql", ROOT / "CHANGELOG.md", ROOT / "changelog.d")
    breaking = [c for c in changes if c.level == "BREAKING"]
    print(f"schema.graphql against {release}: {len(changes)} changes, {len(breaking)} breaking")
    assert not refused, "\n".join(refused)


# --- the policy can fail: copies of the release's contract with a change made to them ------


def _edited(sdl: str, type_name: str, field: str, new: Callable[[Field], Field | None]) -> str:
    """``sdl`` with the definition of ``type_name.field`` replaced by ``new(it)`` (or removed,
    when that is None)."""
    definitions: list[graphql.DefinitionNode] = []
    found = 0
    for definition in graphql.parse(sdl).definitions:
        if (
            isinstance(definition, graphql.ObjectTypeDefinitionNode)
            and definition.name.value == type_name
        ):
            fields = []
            for each in definition.fields or ():
                if each.name.value == field:
                    found += 1
                    replaced = new(each)
                    if replaced is not None:
                        fields.append(replaced)
                else:
                    fields.append(each)
            definition = graphql.ObjectTypeDefinitionNode(
                name=definition.name, description=definition.description,
                interfaces=definition.interfaces, directives=definition.directives,
                fields=tuple(fields),
            )  # fmt: skip
        definitions.append(definition)
    assert found == 1, f"no {type_name}.{field} in the release"
    return graphql.print_ast(graphql.DocumentNode(definitions=tuple(definitions)))


def _removed(_: Field) -> None:
    return None


def _retyped(node: Field) -> Field:
    return graphql.FieldDefinitionNode(
        name=node.name, description=node.description, arguments=node.arguments,
        directives=node.directives, type=graphql.parse_type("Int!"),
    )  # fmt: skip


def _deprecated(node: Field) -> Field:
    reason = graphql.ConstArgumentNode(
        name=graphql.NameNode(value="reason"), value=graphql.StringValueNode(value="Use `title`.")
    )
    directive = graphql.ConstDirectiveNode(
        name=graphql.NameNode(value="deprecated"), arguments=(reason,)
    )
    return graphql.FieldDefinitionNode(
        name=node.name, description=node.description, arguments=node.arguments,
        directives=(*(node.directives or ()), directive), type=node.type,
    )  # fmt: skip


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _case(tmp_path: Path, *fragments: str) -> tuple[Path, Path]:
    """A CHANGELOG.md and a changelog.d holding ``fragments`` (and a README, never read)."""
    changelog = _write(tmp_path / "CHANGELOG.md", "# Changelog\n\n## Unreleased\n\n## 0.1.0\n")
    _write(tmp_path / "changelog.d" / "README.md", "- Breaking: `Project.name` (an example)\n")
    for i, text in enumerate(fragments):
        _write(tmp_path / "changelog.d" / f"27-case{i}.md", text)
    return changelog, tmp_path / "changelog.d"


@dataclass(frozen=True)
class Case:
    """A release's contract, and what graphql-inspector finds in a schema made from it."""

    release: str
    changes: list[Change]

    def refused(self, tmp_path: Path, *fragments: str) -> list[str]:
        """The policy's verdict with ``fragments`` as changelog.d's only fragments."""
        changelog, folder = _case(tmp_path, *fragments)
        return violations(self.changes, self.release, declared(changelog, folder, "0.1.0"))


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    """Project.name (which the release has, not deprecated) removed; retyped String! -> Int!;
    and removed after a release that deprecated it: three diffs in one node run."""
    release = latest_release()[1].read_text(encoding="utf-8")
    assert _field(release, "Project", "name").deprecation_reason is None
    deprecated = _edited(release, "Project", "name", _deprecated)
    assert _field(deprecated, "Project", "name").deprecation_reason == "Use `title`."
    removed = _edited(release, "Project", "name", _removed)
    pairs = {
        "removed": (release, removed),
        "retyped": (release, _edited(release, "Project", "name", _retyped)),
        "removed after deprecation": (deprecated, removed),
    }
    folder = tmp_path_factory.mktemp("contracts")
    files = [
        (_write(folder / f"{i}-old.graphql", old), _write(folder / f"{i}-new.graphql", new))
        for i, (old, new) in enumerate(pairs.values())
    ]
    found = diff(*files)
    return {
        name: Case(old, changes)
        for (name, (old, _)), changes in zip(pairs.items(), found, strict=True)
    }


def test_an_undeclared_removal_fails_and_a_declared_one_passes(
    cases: dict[str, Case], tmp_path: Path
) -> None:
    case = cases["removed"]
    assert [(c.type, c.level) for c in case.changes] == [("FIELD_REMOVED", "BREAKING")]
    refused = case.refused(tmp_path / "undeclared")
    assert len(refused) == 1, refused
    assert refused[0].startswith("`Project.name` removed without a release of deprecation")
    # Declared by its coordinate in a fragment (a wrapped bullet), the same removal passes;
    # the README's example bullet declared nothing.
    declaring = (
        "- Added: `Project.title`\n"
        "- Breaking: `Project.name` is gone; read\n  `Project.title` instead.\n"
    )
    assert case.refused(tmp_path / "declared", declaring) == []


def test_a_type_change_must_be_declared_by_its_coordinate(
    cases: dict[str, Case], tmp_path: Path
) -> None:
    case = cases["retyped"]
    mentioned = "- Deprecated: `Project.name` -> use `Project.title`\n"
    refused = case.refused(tmp_path / "mentioned", mentioned)
    assert [r.split(":")[0] for r in refused] == ["`Project.name`"], refused
    assert "breaking, undeclared" in refused[0]
    declaring = "- Breaking: `Project.name` is an Int now.\n"
    assert case.refused(tmp_path / "declared", declaring) == []


def test_a_field_deprecated_in_the_release_may_go_without_a_declaration(
    cases: dict[str, Case], tmp_path: Path
) -> None:
    case = cases["removed after deprecation"]
    assert [(c.type, c.level) for c in case.changes] == [("FIELD_REMOVED", "BREAKING")]
    assert case.refused(tmp_path) == []


@pytest.mark.parametrize(
    ("change", "coordinate"),
    [
        (Change("FIELD_ARGUMENT_REMOVED", "BREAKING", "Query.alerts.filter", ""),
         "Query.alerts(filter:)"),
        (Change("DIRECTIVE_ARGUMENT_REMOVED", "BREAKING", "@specifiedBy.url", ""),
         "@specifiedBy(url:)"),
        (Change("FIELD_TYPE_CHANGED", "BREAKING", "Project.stage", ""), "Project.stage"),
        (Change("ENUM_VALUE_REMOVED", "BREAKING", "Stage.PLANNED", ""), "Stage.PLANNED"),
        (Change("FIELD_DEPRECATION_ADDED", "NON_BREAKING", "Project.code.@deprecated", ""),
         "Project.code"),
        (Change("TYPE_REMOVED", "BREAKING", "Alert", ""), "Alert"),
    ],
)  # fmt: skip
def test_changes_are_named_by_schema_coordinates(change: Change, coordinate: str) -> None:
    assert change.coordinate == coordinate


def test_declarations_are_the_leading_coordinates_of_breaking_bullets(tmp_path: Path) -> None:
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(
        "# Changelog\n\n- Breaking: `A.b`, `A.c(d:)` and `E.V`: why; use `A.x` instead\n"
        "- Deprecated: `A.y` -> use `A.z`\n\n## 0.1.0\n\n- Breaking: `Old.one` (released)\n",
        encoding="utf-8",
    )
    fragments = tmp_path / "changelog.d"
    fragments.mkdir()
    (fragments / "27-x.md").write_text("- Breaking:\n  `F.g` wrapped\n- Added: `N`\n")
    (fragments / "README.md").write_text("- Breaking: `R.readme`\n")
    assert declared(changelog, fragments, "0.1.0") == {"A.b", "A.c(d:)", "E.V", "F.g"}

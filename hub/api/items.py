"""One reason a batch item was not applied (``ItemError``): the shape every batch mutation
returns per item, the entity upserts (``hub.api.mutations``) and the domain batches
(``hub.api.pages.BatchResult``) alike. Its own module, so that the domain modules need not
import the entity mutations (and, through them, every entity type)."""

from __future__ import annotations

from collections.abc import Collection

import strawberry

from graph_schema.errors import Problem
from hub.api import partial


@strawberry.type(
    description="One reason an item was not applied; an item lists every reason found."
)
class ItemError:
    code: str = strawberry.field(
        description="BAD_USER_INPUT (invalid value) or NOT_FOUND (a referenced object is missing)."
    )
    field: str | None = strawberry.field(
        description="The input field at fault, if one is, spelt as the schema spells it "
        "(plannedStart; a nested one as a dotted path, camera.darkLuma)."
    )
    message: str = strawberry.field(
        description="What is wrong, in plain words; fields are named as the schema does."
    )

    @classmethod
    def of(cls, code: str, problem: Problem, names: Collection[str] = ()) -> ItemError:
        """``problem`` with its field names spelt as the schema does (``names``: the model
        fields its message may name, besides its own)."""
        own = problem.field.rsplit(".", 1)[-1]
        return cls(
            code=problem.code or code,
            field=partial.schema_path(problem.field) if problem.field else None,
            message=partial.schema_message(problem.message, {own, *names}),
        )

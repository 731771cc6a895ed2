"""A text as data in GraphQL: a stable code, its parameters and the words in the request's
language (``Accept-Language``: zh-CN by default, en; see ``hub.texts``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from hub import texts
from hub.api.context import Context

Ctx = Info[Context, None]

MESSAGE = "In words of the request's language (Accept-Language: zh-CN by default, en)."


@strawberry.type(description="A text as data: a stable code and its parameters, and its words.")
class Text:
    code: str = strawberry.field(description="The stable code (see docs/alerts.md: texts).")
    params: JSON = strawberry.field(description="Its parameters, by name.")

    @strawberry.field(description=MESSAGE)
    def message(self, info: Ctx) -> str:
        return texts.render(self.code, cast(Mapping[str, Any], self.params), lang(info))

    @classmethod
    def of(cls, code: str, params: Mapping[str, Any]) -> Text:
        return cls(code=code, params=cast(JSON, dict(params)))


def lang(info: Ctx) -> texts.Lang:
    return info.context.language

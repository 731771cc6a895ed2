"""The web console at ``/``: the files ``hub/web`` builds into ``hub/web/dist`` (``npm run
build``, run by ``scripts/bootstrap``), served as they are. The console talks to the hub only
through ``/graphql``, like any other client.

``index.html`` names its scripts and styles by content hash, so it is served ``no-cache``
(revalidated on every load) and the hashed files under ``/assets/`` are cached for a year.
Without a build, ``/`` says how to make one (503) instead of serving a broken page.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

CONSOLE_DIR = Path(__file__).resolve().parent / "web" / "dist"
# What the API's @specifiedBy(url: "/spec/scalars#...") points at (hub.api.scalars).
SCALARS_SPEC = Path(__file__).resolve().parent / "api" / "scalars.md"
NOT_BUILT = (
    "The web console is not built. Build it with `make web` (needs Node.js and npm: it runs "
    "`npm ci && npm run build` in hub/web), or run scripts/bootstrap, then reload this page. "
    "The GraphQL API is at /graphql.\n"
)
IMMUTABLE = "public, max-age=31536000, immutable"


class _HashedAssets(StaticFiles):
    """Content-hashed files: the name changes whenever the content does."""

    async def check_config(self) -> None:
        # Starlette raises (a 500) when the directory is missing; before a build there is
        # simply nothing to serve (404), and a build made later is served without a restart.
        return None

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = IMMUTABLE
        return response


def console_routes(dist: Path = CONSOLE_DIR) -> list[BaseRoute]:
    """``/`` (the console's page), ``/assets/...`` (its hashed scripts and styles) and
    ``/spec/scalars`` (the grammar of the API's scalars, which ``@specifiedBy`` names)."""

    async def index(request: Request) -> Response:
        page = dist / "index.html"
        if not page.is_file():
            return PlainTextResponse(
                NOT_BUILT, status_code=503, headers={"Cache-Control": "no-store"}
            )
        return FileResponse(page, media_type="text/html", headers={"Cache-Control": "no-cache"})

    async def scalars(request: Request) -> Response:
        return FileResponse(
            SCALARS_SPEC,
            media_type="text/markdown; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    return [
        Route("/", index, methods=["GET", "HEAD"]),
        Route("/spec/scalars", scalars, methods=["GET", "HEAD"]),
        Mount("/assets", app=_HashedAssets(directory=dist / "assets", check_dir=False)),
    ]

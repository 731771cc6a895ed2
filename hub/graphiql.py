"""GraphiQL at ``/graphql`` in a browser (development only, ``HUB_HTTP_GRAPHIQL``), served by the
hub itself: the page and its start script from ``hub/web/graphiql``, React, ReactDOM and GraphiQL
from the npm registry's release builds vendored beside them (``vendor/``, pinned, with their
licences; ``VENDOR.md`` says how to update them). Nothing loads from a CDN, so the page works
offline and runs under the same Content-Security-Policy as the console (no inline script or
style, everything from this origin).

Only the files named here are served (not the directory): ``/graphiql/<name>``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

GRAPHIQL_DIR = Path(__file__).resolve().parent / "web" / "graphiql"
_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"
ASSETS: dict[str, str] = {
    "start.js": _JS,
    "page.css": _CSS,
    "vendor/react.production.min.js": _JS,
    "vendor/react-dom.production.min.js": _JS,
    "vendor/graphiql.min.js": _JS,
    "vendor/graphiql.min.css": _CSS,
}


@cache
def page() -> str:
    """The HTML page (read once)."""
    return (GRAPHIQL_DIR / "index.html").read_text(encoding="utf-8")


def graphiql_routes(directory: Path = GRAPHIQL_DIR) -> list[BaseRoute]:
    """``/graphiql/<asset>``: each of ``ASSETS``, revalidated on every load (``no-cache``; the
    ETag makes that a 304) so an updated vendor build is picked up without a hard reload."""

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        media_type = ASSETS.get(name)
        if media_type is None:
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(
            directory / name, media_type=media_type, headers={"Cache-Control": "no-cache"}
        )

    return [Route("/graphiql/{name:path}", asset, methods=["GET", "HEAD"])]

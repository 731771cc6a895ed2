"""Secrets stay secret: camera URLs masked whole (userinfo, credential-like query parameters,
passwords holding '@' or '/'), the camera URL readable by operators and admins only."""

from __future__ import annotations

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.model import validate
from graph_schema.writer import upsert
from hub.roles import Role
from hub.settings import mask_url
from tests.hub import handbuilt as hb

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rtsp://admin:p@ss/w@rd@10.0.0.5:554/Streaming/Channels/101",
         "rtsp://admin:***@10.0.0.5:554/Streaming/Channels/101"),
        ("http://cam.local/snap.jpg?user=admin&pwd=secret&res=hi",
         "http://cam.local/snap.jpg?user=***&pwd=***&res=hi"),
        ("rtsp://10.0.0.9/live?auth=YWRtaW46cGFzcw==", "rtsp://10.0.0.9/live?auth=***"),
        ("http://cam/cgi?loginuse=admin&loginpas=12345&Password=x",
         "http://cam/cgi?loginuse=***&loginpas=***&Password=***"),
        ("https://u:p@h/a?access_token=abc&sig=d#frag", "https://u:***@h/a?access_token=***&sig=***#frag"),
        ("http://tok3nOnly@cam/x.jpg", "http://***@cam/x.jpg"),
        ("/var/video/site.mp4", "/var/video/site.mp4"),
        ("rtsp://cam.local:554/h264", "rtsp://cam.local:554/h264"),
    ],
)  # fmt: skip
def test_camera_urls_are_masked_whole(url: str, masked: str) -> None:
    assert mask_url(url) == masked


QUERY = """{ sensor(id: "cam-secret") { id camera { url fps } } }"""


async def test_the_camera_url_is_for_operators_and_admins(store: FalkorDBStore) -> None:
    await hb.build(store)
    url = "rtsp://admin:p@ss/w@rd@10.0.0.5:554/live?token=abc"
    camera = {"id": "cam-secret", "kind": "camera", "project_code": hb.P1,
              "camera": {"url": url, "fps": 2}}  # fmt: skip
    await upsert(store, "sensor", [validate("sensor", camera)])
    for role in (Role.OPERATOR, Role.ADMIN):
        data = await hb.ok(store, QUERY, role=role)
        assert data["sensor"]["camera"]["url"] == "rtsp://admin:***@10.0.0.5:554/live?token=***"
    for role in (Role.VIEWER, Role.PROMOTER):
        refused, errors = await hb.run(store, QUERY, role=role)
        assert [e["code"] for e in errors] == ["FORBIDDEN"], errors
        assert "p@ss" not in hb.text(refused) and "abc" not in hb.text(refused)
    settings = """{ sensor(id: "cam-secret") { camera { fps } } }"""
    data = await hb.ok(store, settings, role=Role.VIEWER)  # the rest stays readable
    assert data["sensor"]["camera"]["fps"] == 2.0

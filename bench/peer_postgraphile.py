"""The PostGraphile peer of ``python -m bench api``: the same generated province in PostgreSQL,
served by PostGraphile 4 from npm (``bench/peers/postgraphile``).

``postgraphile_peer(data, root)`` starts a throwaway PostgreSQL cluster from the Debian binaries
(``tests.postgres.PostgresServer``: ``initdb`` in a temporary directory, its Unix socket there,
fsync on as a production server keeps it), creates the tables a PostgreSQL user would write for
these entities (primary keys, foreign keys with an index on each, indexes on the sort and filter
columns, smart comments naming the relations as the hub names them), loads ``data`` with
``COPY``, runs ``ANALYZE``, and serves the database with one ``node server.js`` process over the
Unix socket. It yields a ``bench.api.Server`` whose CPU is the node process (the app) and the
postmaster with every backend (the store).

``npm ci`` for the peer runs in ``scripts/build-clients`` (``make clients``), with the suite's
other npm packages; ``ensure_installed`` runs it here too when ``node_modules`` is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import psycopg

from bench.api import Server, free_port
from hub.demo.generator import DemoData

PEER_DIR = Path(__file__).resolve().parent / "peers" / "postgraphile"
DATABASE = "province"
PEER_HEADERS = {
    "content-type": "application/json",
    "accept": "application/json",
    "accept-encoding": "identity",  # as the hub's side (bench/api.py)
}

# What a PostgreSQL user would write for the five reads: keys, foreign keys each with its index,
# the city page's filter and sort, the enterprise's projects by code; the comments are
# PostGraphile's smart comments that name the relations (project.owner, enterprise.projects).
SCHEMA = """
CREATE TABLE region (
    code text PRIMARY KEY,
    name text NOT NULL,
    level text NOT NULL,
    parent_code text REFERENCES region (code)
);
CREATE INDEX region_parent_code_idx ON region (parent_code);

CREATE TABLE enterprise (
    uscc text PRIMARY KEY,
    name text NOT NULL,
    region_code text NOT NULL REFERENCES region (code)
);
CREATE INDEX enterprise_region_code_idx ON enterprise (region_code);

CREATE TABLE segment (
    segment_id text PRIMARY KEY,
    chain_id text NOT NULL,
    name text NOT NULL,
    tier text NOT NULL
);

CREATE TABLE project (
    code text PRIMARY KEY,
    name text NOT NULL,
    stage text NOT NULL,
    total_investment numeric NOT NULL,
    owner_uscc text NOT NULL REFERENCES enterprise (uscc),
    region_code text NOT NULL REFERENCES region (code)
);
CREATE INDEX project_owner_uscc_code_idx ON project (owner_uscc, code);
CREATE INDEX project_region_code_investment_idx ON project (region_code, total_investment DESC);
CREATE INDEX project_total_investment_idx ON project (total_investment DESC, code);
CREATE INDEX project_stage_idx ON project (stage);

CREATE TABLE project_segment (
    project_code text NOT NULL REFERENCES project (code),
    segment_id text NOT NULL REFERENCES segment (segment_id),
    PRIMARY KEY (project_code, segment_id)
);
CREATE INDEX project_segment_segment_id_idx ON project_segment (segment_id);

COMMENT ON CONSTRAINT region_parent_code_fkey ON region IS
    E'@fieldName parent\\n@foreignFieldName children';
COMMENT ON CONSTRAINT enterprise_region_code_fkey ON enterprise IS
    E'@fieldName region\\n@foreignFieldName enterprises';
COMMENT ON CONSTRAINT project_owner_uscc_fkey ON project IS
    E'@fieldName owner\\n@foreignFieldName projects';
COMMENT ON CONSTRAINT project_region_code_fkey ON project IS
    E'@fieldName region\\n@foreignFieldName projects';
COMMENT ON CONSTRAINT project_segment_project_code_fkey ON project_segment IS
    E'@fieldName project\\n@foreignFieldName segments';
COMMENT ON CONSTRAINT project_segment_segment_id_fkey ON project_segment IS
    E'@fieldName segment\\n@foreignFieldName projects';
"""


def _rows(data: DemoData) -> dict[str, tuple[tuple[str, ...], Iterable[tuple[Any, ...]]]]:
    """Each table's columns and rows, parents first."""
    return {
        "region": (
            ("code", "name", "level", "parent_code"),
            # parents before children: the province, its cities, their counties
            sorted(
                ((r.code, r.name, str(r.level), r.parent_code) for r in data.region),
                key=lambda row: ({"province": 0, "city": 1}.get(row[2], 2), row[0]),
            ),
        ),
        "enterprise": (
            ("uscc", "name", "region_code"),
            ((e.uscc, e.name, e.region_code) for e in data.enterprise),
        ),
        "segment": (
            ("segment_id", "chain_id", "name", "tier"),
            ((s.id, s.chain_id, s.name, str(s.tier)) for s in data.segment),
        ),
        "project": (
            ("code", "name", "stage", "total_investment", "owner_uscc", "region_code"),
            (
                (p.code, p.name, str(p.stage), p.total_investment, p.owner_uscc, p.region_code)
                for p in data.project
            ),
        ),
        "project_segment": (
            ("project_code", "segment_id"),
            ((p.code, s) for p in data.project for s in p.segment_ids),
        ),
    }


def _load(conninfo: str, data: DemoData) -> None:
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {DATABASE}")
    with psycopg.connect(conninfo.replace("dbname=postgres", f"dbname={DATABASE}")) as conn:
        conn.execute(SCHEMA)
        for table, (columns, rows) in _rows(data).items():
            with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def ensure_installed() -> None:
    """``npm ci`` in the peer's directory when its packages are missing."""
    if (PEER_DIR / "node_modules" / "postgraphile").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("the PostGraphile peer needs Node 20 and npm on PATH")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEER_DIR, check=True
    )


@contextlib.asynccontextmanager
async def postgraphile_peer(data: DemoData, log_dir: Path) -> AsyncIterator[Server]:
    """PostgreSQL with ``data`` loaded, served by PostGraphile, until the block ends; both
    stopped and the cluster removed on the way out."""
    from tests.postgres import PostgresServer

    node = shutil.which("node")
    if node is None:
        raise RuntimeError("the PostGraphile peer needs Node 20 on PATH")
    await asyncio.to_thread(ensure_installed)
    postgres = PostgresServer(durable=True)
    try:
        await asyncio.to_thread(postgres.start)
        socket_dir = postgres.directory
        conninfo = f"host={socket_dir} port={postgres.port} user=hub dbname=postgres"
        await asyncio.to_thread(_load, conninfo, data)
        postmaster = int((postgres.data / "postmaster.pid").read_text().split()[0])
        port = free_port()
        env = os.environ | {
            "DATABASE_URL": f"postgres://hub@localhost:{postgres.port}/{DATABASE}"
            f"?host={socket_dir}",
            "PORT": str(port),
            "NODE_ENV": "production",
        }
        log_path = log_dir / "postgraphile.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [node, "server.js"], cwd=PEER_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            await _wait_ready(process, log_path)
            yield Server(
                f"http://127.0.0.1:{port}",
                process,
                postmaster,
                dict(PEER_HEADERS),
                "PostgreSQL",
                counts_round_trips=False,
            )
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.to_thread(process.wait, 30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    await asyncio.to_thread(process.wait)
    finally:
        await asyncio.to_thread(postgres.stop)


async def _wait_ready(process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostGraphile exited with {process.returncode}: {tail}")
        if "peer ready" in log_path.read_text(errors="replace"):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"PostGraphile did not start within 120 s; see {log_path}")


# --- the five reads in PostGraphile's dialect ----------------------------------------------------

# The projects of a city: located in it or in one of its counties.
_IN_CITY = "region: {or: [{code: {equalTo: $city}}, {parentCode: {equalTo: $city}}]}"
PEER_READS: dict[str, str] = {
    "page": """
query Page($city: String!) {
  projects(filter: {IN_CITY}, orderBy: [TOTAL_INVESTMENT_DESC, CODE_ASC], first: 50) {
    nodes {
      code name stage totalInvestment
      owner { uscc name }
      region { code name }
      segments { nodes { segment { segmentId name } } }
    }
  }
}""".replace("IN_CITY", _IN_CITY),
    "code": """
query Code($code: String!) {
  project(code: $code) {
    code name stage totalInvestment
    owner { uscc name }
    region { code name }
  }
}""",
    "owner": """
query Owner($uscc: String!) {
  enterprise(uscc: $uscc) {
    uscc name
    projects(first: 20, orderBy: CODE_ASC) { nodes { code name stage totalInvestment } }
  }
}""",
    "stages": """
query Stages($city: String!) {
  projects(filter: {IN_CITY}) {
    groupedAggregates(groupBy: STAGE) { keys distinctCount { code } sum { totalInvestment } }
  }
}""".replace("IN_CITY", _IN_CITY),
    "deep": """
query Deep($after: Cursor) {
  projects(first: 50, after: $after, orderBy: CODE_ASC) {
    nodes { code name stage totalInvestment owner { uscc name } region { code name } }
  }
}""",
}
_CURSOR = """
query Cursor($offset: Int!) {
  projects(first: 1, offset: $offset, orderBy: CODE_ASC) { edges { cursor } }
}"""


async def peer_cursor(server: Server, row: int) -> str:
    """The peer's cursor of the ``row``-th project by code (its page starts after it)."""
    import httpx

    from bench.api import Failure, _answer

    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        body = {"query": _CURSOR, "variables": {"offset": row - 1}}
        response = await client.post(server.path, json=body, headers=server.headers)
        edges = _answer(response.status_code, response.content)["projects"]["edges"]
    if not edges:
        raise Failure(f"(deep) the peer has fewer than {row} projects")
    return str(edges[0]["cursor"])

"""A real, throwaway PostgreSQL cluster for tests and benchmarks, from the Debian binaries.

``initdb`` makes a cluster in a fresh directory under the system temp dir; ``pg_ctl`` starts it
on a free port on 127.0.0.1 with its Unix socket in the same directory, and ``stop`` removes it
all. PostgreSQL refuses to run as root, so as root every server command runs as the ``postgres``
user (created by Debian's package) through ``runuser``, and the directory belongs to that user.
A pytest temp dir is no use for that: its parents are private to root.
"""

from __future__ import annotations

import getpass
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.broker import free_port

SERVER_USER = "postgres"  # who runs the server when we are root
ROLE = "hub"  # the superuser role initdb creates, trusted on loopback only


def postgres_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<major>/bin`` that has initdb, or ``pg_config``'s."""

    def major(path: Path) -> int:
        match = re.search(r"/(\d+)/bin$", str(path))
        return int(match.group(1)) if match else 0

    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    if found:
        return max(found, key=major)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    """One cluster. ``durable=False`` turns off fsync, for tests only; benchmarks keep it on."""

    def __init__(self, *, durable: bool = False) -> None:
        bindir = postgres_bindir()
        if bindir is None:
            raise RuntimeError(
                "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): "
                "apt-get install postgresql, or set HUB_TEST_POSTGRES_URL to a server's URL"
            )
        self.bindir = bindir
        self.durable = durable
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self.directory = Path(tempfile.mkdtemp(prefix="hub-postgres-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        self.started = False
        if self.as_root:
            try:
                entry = pwd.getpwnam(SERVER_USER)
            except KeyError:
                shutil.rmtree(self.directory)
                raise RuntimeError(
                    f"running as root, and there is no {SERVER_USER!r} user to run PostgreSQL "
                    "as (the Debian package creates it)"
                ) from None
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)

    @property
    def url(self) -> str:
        """The maintenance database; tests create their own databases next to it."""
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{name}"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bindir / command[0]), *command[1:]]
        if self.as_root:
            argv = ["runuser", "-u", SERVER_USER, "--", *argv]
        result = subprocess.run(
            argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{command[0]} failed ({result.returncode}): {result.stderr or result.stdout}"
                f"\n{self.tail()}"
            )
        return result

    def start(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", ROLE, "--auth=trust", "--encoding=UTF8",
            "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-c port={self.port}",
            f"-c unix_socket_directories={self.directory}",
            "-c max_connections=100",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
            "-o", " ".join(options), "start",
        )  # fmt: skip
        self.started = True

    def stop(self) -> None:
        try:
            if self.started:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
                self.started = False
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def __repr__(self) -> str:
        who = SERVER_USER if self.as_root else getpass.getuser()
        return f"PostgresServer({self.bindir}, port {self.port}, as {who})"

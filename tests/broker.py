"""A real Mosquitto for tests and benchmarks: its own port, config and persistence directory."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

SECURE_CONF = Path(__file__).resolve().parents[1] / "deploy" / "mosquitto" / "secure.conf"


def shipped_autosave() -> tuple[str, int]:
    """The autosave lines of deploy/mosquitto/secure.conf, and its interval."""
    lines = [
        line
        for line in SECURE_CONF.read_text(encoding="utf-8").splitlines()
        if line.startswith("autosave_")
    ]
    interval = next(int(line.split()[1]) for line in lines if line.startswith("autosave_interval"))
    return "".join(f"{line}\n" for line in lines), interval


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()),
        None,
    )


class Mosquitto:
    """Mosquitto on loopback with persistence on, so it can be restarted without losing sessions."""

    def __init__(self, directory: Path, *, port: int | None = None, extra: str = "") -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError("mosquitto is not installed (apt-get install mosquitto)")
        self.binary = binary
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)
        self.config = directory / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {directory}/\n"
            # Sessions of a killed subscriber must keep everything published meanwhile.
            "max_queued_messages 0\n"
            "max_inflight_messages 0\n"
            # As root, Mosquitto would switch to the mosquitto user, who cannot write here.
            "user root\n"
            f"log_dest file {directory}/mosquitto.log\n" + extra,
            encoding="utf-8",
        )

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            time.sleep(0.02)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        # SIGTERM: Mosquitto writes its persistence file before it exits.
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: a crash; Mosquitto saves nothing more."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log(self) -> str:
        path = self.directory / "mosquitto.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

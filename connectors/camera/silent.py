"""Cameras that hang: TCP listeners that accept every connection and never send a byte (a camera
whose firmware hung, a port forwarded to nothing that answers). The fleet test and
``python -m bench camera-fleet`` point dead cameras at them, as ``sentinel_loopback`` stands in
for Sentinel Hub."""

from __future__ import annotations

import socket
import threading


class SilentListeners:
    """``count`` listeners on loopback ports; ``close`` drops them and every held connection."""

    def __init__(self, count: int) -> None:
        self.sockets = [socket.create_server(("127.0.0.1", 0)) for _ in range(count)]
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        for s in self.sockets:
            s.settimeout(0.2)
            threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    @property
    def ports(self) -> list[int]:
        return [s.getsockname()[1] for s in self.sockets]

    def _accept(self, server: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self._stop.set()
        for s in self.sockets + self.held:
            s.close()

"""CPU-bound analytics in worker processes, with a deadline that really stops them.

A forecast or a race is pure Python arithmetic: run on the event loop, fifty of them held every
other request for 24 s, and the request timeout could only fire once they were done. Here each
call goes to a worker process (a small pool, started on first use); the event loop only waits on
a pipe. A call past its deadline has its worker killed (SIGKILL: the work stops at once) and
replaced, and the caller gets ``Timeout`` (code ``TIMEOUT``). Calls beyond the pool's size wait
for a free worker, and the wait counts against their deadline.

Functions and arguments must pickle (module-level functions, plain data).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable
from typing import Any

from graph_schema.errors import HubError

log = logging.getLogger(__name__)


class Timeout(HubError):
    """The work did not finish within its deadline and was stopped."""

    code = "TIMEOUT"


_HEADER = struct.Struct(">Q")


def _serve() -> None:  # pragma: no cover - runs in the worker process
    """The worker: length-prefixed pickles of ``(fn, args, kwargs)`` on stdin, answers of
    ``(ok, value)`` on stdout. Anything the work prints goes to stderr."""
    inbox, outbox = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr
    # Below the API: with every core busy on analytics, the event loop still gets a core first.
    with contextlib.suppress(OSError):
        os.nice(10)
    while True:
        header = inbox.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        # Our own process's pipe: only the hub writes it.
        fn, args, kwargs = pickle.loads(inbox.read(_HEADER.unpack(header)[0]))  # noqa: S301
        try:
            answer = pickle.dumps((True, fn(*args, **kwargs)))
        except Exception as exc:  # noqa: BLE001 - the caller re-raises it
            answer = pickle.dumps((False, exc))
        outbox.write(_HEADER.pack(len(answer)) + answer)
        outbox.flush()


class _Worker:
    """One worker process: ``python -m hub.offload`` (a fresh interpreter, so nothing of this
    process, its threads or its ``__main__`` is inherited)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hub.offload",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def call(self, request: bytes) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(_HEADER.pack(len(request)) + request)
        await self.process.stdin.drain()
        header = await self.process.stdout.readexactly(_HEADER.size)
        body = await self.process.stdout.readexactly(_HEADER.unpack(header)[0])
        return pickle.loads(body)  # noqa: S301 - our own worker's answer

    def kill(self) -> None:
        # By pid: the process's transport may belong to an event loop that is closed by now
        # (a pool left from an earlier ``asyncio.run``). Closing the transport marks it closed
        # even then, so it does not try to close itself on that loop when it is collected.
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        transport: asyncio.BaseTransport | None = getattr(self.process, "_transport", None)
        if transport is not None:
            with contextlib.suppress(RuntimeError):
                transport.close()


class WorkerPool:
    """Up to ``size`` worker processes; ``run`` sends one call to a free one."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self._idle: list[_Worker] = []
        self._free: asyncio.Semaphore | None = None
        self.started = 0
        self.killed = 0

    def _semaphore(self) -> asyncio.Semaphore:
        if self._free is None:
            self._free = asyncio.Semaphore(self.size)
        return self._free

    async def run[T](self, deadline_s: float, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a worker; killed and ``Timeout`` after ``deadline_s``
        (or when the caller is cancelled, e.g. by the request's own timeout)."""
        request = pickle.dumps((fn, args, kwargs))
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline_s
        free = self._semaphore()
        try:
            await asyncio.wait_for(free.acquire(), deadline_s)
        except TimeoutError:
            raise Timeout(f"no analytics worker was free within {deadline_s:g} s") from None
        try:
            if self._idle:
                worker = self._idle.pop()
            else:
                worker = await _Worker.start()
                self.started += 1
            done = False
            try:
                ok, value = await asyncio.wait_for(
                    worker.call(request), max(0.0, end - loop.time())
                )
                done = True
            except TimeoutError:
                raise Timeout(
                    f"the analytics ran longer than {deadline_s:g} s and were stopped"
                ) from None
            except (EOFError, asyncio.IncompleteReadError, ConnectionError) as exc:
                raise HubError(f"an analytics worker died: {exc}") from None
            finally:
                if done:
                    self._idle.append(worker)
                else:  # timed out, cancelled or broken: stop the work now
                    self.killed += 1
                    worker.kill()
        finally:
            free.release()
        if not ok:
            raise value
        result: T = value
        return result

    def close(self) -> None:
        for worker in self._idle:
            worker.kill()
        self._idle.clear()


_pool: WorkerPool | None = None
_pool_loop: asyncio.AbstractEventLoop | None = None
# The deadline of analytics when the caller gives none (HUB_HTTP_TIMEOUT_S sets it per hub).
deadline_s = 30.0
# On the event loop instead: only ``python -m bench probe``'s baseline sets it.
inline = False


def pool() -> WorkerPool:
    """The process-wide pool (started lazily, on the first analytic call). Its pipes and
    semaphore belong to one event loop: on another (a second ``asyncio.run``), the old pool's
    workers are stopped and a new pool starts."""
    global _pool, _pool_loop
    loop = asyncio.get_running_loop()
    if _pool is not None and _pool_loop is not loop:
        _pool.close()
        _pool = None
    if _pool is None:
        _pool, _pool_loop = WorkerPool(), loop
    return _pool


async def offload[T](fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in the analytics pool, within ``deadline_s``."""
    if inline:
        return fn(*args, **kwargs)
    result: T = await pool().run(deadline_s, fn, *args, **kwargs)
    return result


def shutdown() -> None:
    global _pool, _pool_loop
    if _pool is not None:
        _pool.close()
        _pool, _pool_loop = None, None


if __name__ == "__main__":
    _serve()

"""A TCP proxy on 127.0.0.1 that a test can turn into a bad network.

It runs its own event loop in a thread, so blocking tests, async tests and child
processes can all use it. Modes:

- ``pass``: bytes flow both ways.
- ``stall``: connections stay open (and new ones are accepted) but no byte moves, like a
  partition where packets vanish; :meth:`heal` lets the held bytes through again.
- ``reset``: every open connection is reset (RST), and so is each new one at once.
- ``refuse``: the listening socket is closed; connecting fails ("connection refused").

TLS passes through untouched: the client still verifies the server's certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

Mode = Literal["pass", "stall", "reset", "refuse"]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FaultyProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.mode: Mode = "pass"
        self.accepted = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()  # set while bytes may move

    # ------------------------------------------------------------------ control

    def start(self) -> FaultyProxy:
        self._thread.start()
        self._call(self._listen())
        self._loop.call_soon_threadsafe(self._flowing.set)
        return self

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    def set_mode(self, mode: Mode) -> None:
        self._call(self._set_mode(mode))

    def heal(self) -> None:
        self.set_mode("pass")

    @property
    def url_host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    # ------------------------------------------------------------------ inside the loop

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _shutdown(self) -> None:
        """Stop listening, reset every connection and end every connection's task, so
        nothing is left pending when the loop closes (a task destroyed pending would hold
        its sockets open, and its coroutine would fail later, in another test)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self._reset_all()
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _set_mode(self, mode: Mode) -> None:
        self.mode = mode
        if mode == "pass":
            if self._server is None:
                await self._listen()
            self._flowing.set()
        elif mode == "stall":
            self._flowing.clear()
        elif mode == "reset":
            self._flowing.set()
            self._reset_all()
        elif mode == "refuse":
            if self._server is not None:
                self._server.close()
                self._server = None
            self._reset_all()

    def _reset_all(self) -> None:
        for writer in list(self._writers):
            _reset(writer)
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.mode in ("reset", "refuse"):
            _reset(writer)
            return
        self._writers.add(writer)
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
            except OSError:
                _reset(writer)
                return
            self._writers.add(up_writer)
            try:
                await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
            finally:
                self._writers.discard(up_writer)
                up_writer.transport.abort()
        finally:  # also when the proxy closes and cancels this task
            self._writers.discard(writer)
            writer.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                await self._flowing.wait()  # a stall holds the bytes here
                writer.write(data)
                await writer.drain()
        writer.transport.abort()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN, as a crashed peer or a middlebox would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()

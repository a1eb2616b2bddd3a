"""A real HTTP receiver on 127.0.0.1 for notification tests: records, answers or hangs.

Speaks just enough HTTP/1.1 (request line, headers, a Content-Length body) to record
what gitward sent. ``statuses`` are the answers in order (the last one repeats);
``hang=True`` never answers, holding each connection open until the receiver stops,
like a receiver whose backend is stuck.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    statuses: list[int] = field(default_factory=lambda: [200])
    hang: bool = False
    requests: list[Received] = field(default_factory=list)
    answered: int = 0
    _server: asyncio.Server | None = None
    _held: list[asyncio.StreamWriter] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        for writer in self._held:
            await _close(writer)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if writer not in self._held:
                await _close(writer)

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        line = await reader.readline()
        if not line:
            return False
        method, path, _ = line.decode().split(" ", 2)
        headers: dict[str, str] = {}
        while (raw := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = raw.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append(Received(method, path, headers, body))
        if self.hang:
            self._held.append(writer)
            return False  # never answer; the connection stays open until stop()
        status = self.statuses[min(self.answered, len(self.statuses) - 1)]
        self.answered += 1
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\nContent-Type: application/json"
            "\r\n\r\n{}".encode()
        )
        await writer.drain()
        return True


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()

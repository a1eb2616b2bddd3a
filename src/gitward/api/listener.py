"""One HTTP listener (uvicorn) started inside the running event loop, and stopped.

``gitward serve`` runs two: the API (``--listen``) and the web UI (``--ui-listen``).
Starting returns once the socket is bound, with the port it got (``0`` asks for any),
or raises the reason it could not listen.
"""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn
from starlette.types import ASGIApp

from gitward.errors import ConfigError


class Listener:
    def __init__(self, app: ASGIApp, host: str, port: int, *, name: str, grace: int | None = None):
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=grace,  # e.g. live streams never end on their own
        )
        self.server = uvicorn.Server(config)
        self.where = f"{host}:{port}"
        self.name = name
        self.port = port
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> int:
        """Serve in a task of its own; the port actually bound."""
        self._task = asyncio.create_task(self.server.serve(), name=self.name)
        while not self.server.started:
            if self._task.done():
                await self._task  # raises the reason it could not start
                raise ConfigError(f"cannot listen on {self.where}")
            await asyncio.sleep(0.02)
        sockets = [s for server in self.server.servers for s in server.sockets]
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self._task is None:
            return
        self.server.should_exit = True  # uvicorn closes its sockets and connections
        # asyncio.wait, not wait_for: a cancel of this stop stays this stop's, and the
        # server's own end (even a cancellation) is not mistaken for it.
        await asyncio.wait({self._task}, timeout=10)
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

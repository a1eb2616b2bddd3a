"""A TCP proxy on 127.0.0.1 between Chromium and the UI, to cut connections in a test.

``cut`` closes every open connection at once, as a network drop or a restarted load
balancer does; while ``paused``, new connections are accepted and closed at once, so
the browser's reconnects fail until ``resume``. ``requests`` lists the first line of
every HTTP request that came through, so a test can wait for a reconnect.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


class Proxy:
    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._paused = False
        self._closed = False
        self.requests: list[str] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        with self._lock:
            self._closed = True
        self._server.close()
        self._thread.join(timeout=10)
        self.cut()

    def pause(self) -> None:
        with self._lock:
            self._paused = True

    def resume(self) -> None:
        with self._lock:
            self._paused = False

    def cut(self) -> None:
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return  # closed
            with self._lock:
                paused, closed = self._paused, self._closed
            if paused or closed:
                client.close()
                if closed:
                    return
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open |= {client, upstream}
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, requests: bool) -> None:
        try:
            while data := source.recv(65536):
                if requests and data[:4] in (b"GET ", b"POST"):
                    with self._lock:
                        self.requests.append(data.split(b"\r\n", 1)[0].decode("latin-1"))
                sink.sendall(data)
        except OSError:
            pass
        finally:  # the first pump to end closes both sockets: none is left to the GC
            with self._lock:
                self._open -= {source, sink}
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

"""A TCP proxy the tests can cut and restore: the store "unreachable for a while" without
stopping the server behind it (whose data must survive the outage); or freeze, so that every
request hangs unanswered, as behind a node that has stopped responding."""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import urlsplit, urlunsplit

from testkit.support.kazbill_service import free_port


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()
        self._held: list[str] = []  # the first line of each request held while frozen

    def via(self, url: str) -> str:
        """`url` (with its credentials: a real CouchDB wants its admin's) reached through this proxy."""
        parts = urlsplit(url)
        credentials = parts.netloc.rpartition("@")[0]
        return urlunsplit(
            parts._replace(netloc=f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}")
        )

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def cut(self) -> None:
        """Refuse new connections and break every open one, as a network outage would."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._open = self._open, set()
        if listener is not None:
            listener.close()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    restore = start

    def stop(self) -> None:
        self.thaw()
        self.cut()

    def freeze(self) -> None:
        """Connections still open, bytes no longer pass either way: every request hangs."""
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()
        with self._lock:
            self._held.clear()

    def held_requests(self) -> list[str]:
        """The request lines ("GET /db/_changes?... HTTP/1.1") held since the proxy froze."""
        with self._lock:
            return list(self._held)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._open |= {client, upstream}
            for source, sink, toward_server in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(source, sink, toward_server), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, toward_server: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if not self._flowing.is_set():
                    if toward_server:
                        with self._lock:
                            self._held.append(chunk.split(b"\r\n", 1)[0].decode(errors="replace"))
                    self._flowing.wait()
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

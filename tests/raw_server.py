"""A socket server that answers whatever bytes a test gives it, malformed HTTP included."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

# What a raw API does with one request: bytes to send then close, b"" to
# close at once, None to hold the connection open without a word.
RawRespond = Callable[[bytes], "bytes | None"]


class RawServers:
    """Raw socket APIs on free ports, for answers no HTTP framework will send."""

    def __init__(self) -> None:
        self._sockets: list[socket.socket] = []

    def start(self, respond: RawRespond) -> str:
        """Start one API that answers each request as ``respond`` says; return its base URL."""
        sockets = self._sockets
        listener = socket.create_server(("127.0.0.1", 0))
        sockets.append(listener)

        def handle(connection: socket.socket) -> None:
            request = b""
            try:
                while b"\r\n\r\n" not in request and (chunk := connection.recv(65536)):
                    request += chunk
                answer = respond(request)
                if answer is None:
                    sockets.append(connection)
                    return
                connection.sendall(answer)
            except OSError:
                pass  # the client gave up first
            connection.close()

        def serve() -> None:
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return  # the listener was shut down
                # One thread a connection, so that a held one blocks no other.
                threading.Thread(target=handle, args=(connection,), daemon=True).start()

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    def stop(self) -> None:
        """Close every listener and every connection held open."""
        for sock in self._sockets:
            # shutdown() wakes a thread blocked in accept(); close() alone
            # leaves the port listening until the process ends.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

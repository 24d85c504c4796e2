"""The transport against real sockets on 127.0.0.1: what it sends, reads and refuses to do."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from raw_server import RawRespond
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from conformance.errors import TransportError
from conformance.model import Probe
from conformance.transport import Transport

Handler = Callable[[Request], Response]


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], str]]:
    """Start a werkzeug app on a free port and return its base URL."""
    servers = []

    def start(handler: Handler) -> str:
        server = make_server("127.0.0.1", 0, Request.application(handler), threaded=True)  # type: ignore[arg-type]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def transport() -> Iterator[Transport]:
    client = Transport(timeout=5, max_body=1024)
    yield client
    client.close()


def test_redirect_is_returned_not_followed(serve: Callable[[Handler], str], transport: Transport) -> None:
    base = serve(lambda request: Response("", 302, {"Location": "http://elsewhere.invalid/login"}))

    exchange = transport.send(Probe("GET", base + "/p", headers=(("Authorization", "Bearer t"),)))

    assert exchange.status == 302
    assert exchange.location == "http://elsewhere.invalid/login"


def test_repeated_challenge_lines_stay_apart(serve: Callable[[Handler], str], transport: Transport) -> None:
    def challenge(request: Request) -> Response:
        response = Response("no", 401)
        response.headers.add("WWW-Authenticate", 'Basic realm="a"')
        response.headers.add("WWW-Authenticate", 'Bearer realm="b"')
        return response

    exchange = transport.send(Probe("GET", serve(challenge) + "/p"))

    assert exchange.www_authenticate == ['Basic realm="a"', 'Bearer realm="b"']


def test_body_is_read_up_to_the_bound(serve: Callable[[Handler], str], transport: Transport) -> None:
    base = serve(lambda request: Response("x" * 10_000, 401))

    exchange = transport.send(Probe("GET", base + "/big"))

    assert (len(exchange.body), exchange.body_truncated) == (1024, True)


def test_cookies_set_by_a_server_are_not_replayed(serve: Callable[[Handler], str], transport: Transport) -> None:
    def session(request: Request) -> Response:
        response = Response(request.cookies.get("sid", "none"))
        response.set_cookie("sid", "authenticated")
        return response

    base = serve(session)
    transport.send(Probe("GET", base + "/login"))
    second = transport.send(Probe("GET", base + "/me"))

    assert second.body == b"none"


def test_two_authorization_lines_are_sent_as_two(transport: Transport) -> None:
    # A raw socket, because WSGI servers merge repeated fields before the app sees them.
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def capture() -> None:
        connection, _ = listener.accept()
        with connection:
            received.append(connection.recv(65536))
            connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    thread = threading.Thread(target=capture, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/p"

    transport.send(Probe("GET", url, headers=(("Authorization", "Bearer a"), ("Authorization", "Bearer b"))))
    thread.join(timeout=5)
    listener.close()

    lines = received[0].split(b"\r\n")
    assert [line for line in lines if line.lower().startswith(b"authorization:")] == [b"Authorization: Bearer a", b"Authorization: Bearer b"]


def test_refused_connection_names_no_query_secret() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    client = Transport(timeout=2)

    with pytest.raises(TransportError) as caught:
        client.send(Probe("GET", f"http://127.0.0.1:{port}/items", params=(("api_key", "sekrit-key-123"),)))
    client.close()

    assert "connection refused" in str(caught.value)
    assert "sekrit-key-123" not in str(caught.value)


def test_connection_closed_after_keep_alive_is_retried_once() -> None:
    # Given a server that answers each connection once, claims keep-alive,
    # and then closes it, as some do after refusing an over-long header.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer_once_per_connection() -> None:
        for _ in range(2):
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"r\"\r\nContent-Length: 2\r\n\r\nno")

    thread = threading.Thread(target=answer_once_per_connection, daemon=True)
    thread.start()
    client = Transport(timeout=5)

    # When two requests go out on what the client thinks is one live connection...
    first = client.send(Probe("GET", f"http://127.0.0.1:{port}/a"))
    second = client.send(Probe("GET", f"http://127.0.0.1:{port}/b"))
    client.close()
    thread.join(timeout=5)
    listener.close()

    # ...both are answered.
    assert (first.status, second.status) == (401, 401)


class _DropsSecondRequest:
    """A socket server that answers the first request of its first connection with
    keep-alive, then reads the next one and closes without answering.

    Later connections get their one request answered. Every request line read
    is recorded, so a test can count what a client really sent: the dropped
    request may well have been acted on.
    """

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        # Short, so that the loop notices close() soon: closing a socket does
        # not wake a thread blocked in accept().
        self.listener.settimeout(0.05)
        self.received: list[bytes] = []
        self._stopped = threading.Event()
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                connection.settimeout(5)
                first = not self.received
                self._record(connection)
                connection.sendall(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"r\"\r\nContent-Length: 2\r\n\r\nno")
                if first:
                    self._record(connection)

    def _record(self, connection: socket.socket) -> None:
        try:
            data = connection.recv(65536)
        except OSError:
            return
        if data:
            self.received.append(data.split(b"\r\n", 1)[0])

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def drops_second_request() -> Iterator[_DropsSecondRequest]:
    server = _DropsSecondRequest()
    yield server
    server.close()


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_unanswered_non_idempotent_request_is_not_sent_again(drops_second_request: _DropsSecondRequest, method: str) -> None:
    # Given a live connection on which the server reads the next request and hangs up
    client = Transport(timeout=5)
    client.send(Probe("GET", drops_second_request.url + "/a"))

    # When a non-idempotent request goes out on it, it is an error...
    with pytest.raises(TransportError) as caught:
        client.send(Probe(method, drops_second_request.url + "/b"))
    client.close()

    # ...and the server, which may have acted on it, got it once
    assert drops_second_request.received == [b"GET /a HTTP/1.1", f"{method} /b HTTP/1.1".encode()]
    assert str(caught.value) == (
        f"{method} {drops_second_request.url}/b: the server closed the connection without answering; "
        f"{method} is not idempotent, so it was not sent again; the case could not be judged"
    )


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unanswered_idempotent_request_is_sent_again(drops_second_request: _DropsSecondRequest, method: str) -> None:
    client = Transport(timeout=5)
    client.send(Probe("GET", drops_second_request.url + "/a"))

    exchange = client.send(Probe(method, drops_second_request.url + "/b"))
    client.close()

    # The retry went out on a new connection, which answers its first request.
    assert exchange.status == 401
    assert drops_second_request.received == [b"GET /a HTTP/1.1", *[f"{method} /b HTTP/1.1".encode()] * 2]


@pytest.fixture
def serve_bytes(raw_api: Callable[[RawRespond], str]) -> Callable[[bytes], str]:
    """Answer every connection with the bytes given, whatever was asked; return the base URL."""
    return lambda answer: raw_api(lambda request: answer)


NOT_HTTP = b"SSH-2.0-OpenSSH_9.6 secret-banner\r\n"
HUGE_HEADER_LINE = b"HTTP/1.1 401 Unauthorized\r\nX-Padding: " + b"a" * 200_000 + b"\r\n\r\n"
RAW_AUTHORIZATION = ((b"Authorization", b"Bearer \x00"),)


@pytest.mark.parametrize("raw", [(), RAW_AUTHORIZATION], ids=["requests", "raw-socket"])
@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (NOT_HTTP, "the answer is not HTTP: its first line is no status line (BadStatusLine)"),
        (HUGE_HEADER_LINE, "the answer has a line longer than 64 KiB, the most an HTTP client reads (LineTooLong)"),
    ],
    ids=["not-http", "huge-header-line"],
)
def test_broken_answer_names_its_cause(
    serve_bytes: Callable[[bytes], str], transport: Transport, answer: bytes, reason: str, raw: tuple[tuple[bytes, bytes], ...]
) -> None:
    # Given a server whose answer no HTTP client can read
    url = serve_bytes(answer) + "/p"

    # When a probe goes through either door
    with pytest.raises(TransportError) as caught:
        transport.send(Probe("GET", url, raw_headers=raw))

    # Then the error names the cause, quotes none of the answer, and is no dropped connection
    assert str(caught.value) == f"GET {url}: {reason}; the case could not be judged"
    assert "secret-banner" not in str(caught.value)
    assert caught.value.dropped is False


@pytest.mark.parametrize("raw", [(), RAW_AUTHORIZATION], ids=["requests", "raw-socket"])
def test_closed_connection_is_a_dropped_one(
    serve_bytes: Callable[[bytes], str], transport: Transport, raw: tuple[tuple[bytes, bytes], ...]
) -> None:
    url = serve_bytes(b"") + "/p"

    with pytest.raises(TransportError) as caught:
        transport.send(Probe("GET", url, raw_headers=raw))

    assert "the server closed the connection without answering" in str(caught.value)
    assert caught.value.dropped is True


def test_timeout_is_no_dropped_connection() -> None:
    # Given a server that accepts the connection and never answers
    listener = socket.create_server(("127.0.0.1", 0))
    client = Transport(timeout=0.3)

    with pytest.raises(TransportError) as caught:
        client.send(Probe("GET", f"http://127.0.0.1:{listener.getsockname()[1]}/p"))
    client.close()
    listener.close()

    assert "no answer within 0.3 s" in str(caught.value)
    assert caught.value.dropped is False


def test_reset_while_reading_the_body_is_a_dropped_connection(transport: Transport) -> None:
    # Given a server that sends a status line, then resets the connection
    # mid-body, as some do on a header too large to read
    listener = socket.create_server(("127.0.0.1", 0))

    def answer_then_reset() -> None:
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 431 Too Large\r\nContent-Length: 1000\r\n\r\npartial")
        # SO_LINGER with a zero timeout makes close() send RST, not FIN.
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()

    thread = threading.Thread(target=answer_then_reset, daemon=True)
    thread.start()

    with pytest.raises(TransportError) as caught:
        transport.send(Probe("GET", f"http://127.0.0.1:{listener.getsockname()[1]}/p"))
    thread.join(timeout=5)
    listener.close()

    assert str(caught.value) == "reading the body failed: connection reset by the server"
    assert caught.value.dropped is True


@pytest.fixture
def trickling_api() -> Iterator[str]:
    """A 401 whose 100 kB body comes one byte every 0.2 s, each byte well inside any socket timeout."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle(connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"t\"\r\nContent-Length: 100000\r\n\r\n")
            with contextlib.suppress(OSError):
                while not stop.wait(0.2):
                    connection.sendall(b"x")

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=trickle, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    with contextlib.suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)
    listener.close()


@pytest.mark.parametrize(
    "probe_extra",
    [{"headers": (("Authorization", "Bearer t"),)}, {"raw_headers": ((b"Authorization", b"Bearer \x01"),)}],
    ids=["requests", "raw-socket"],
)
def test_a_trickling_body_ends_at_the_timeout(trickling_api: str, probe_extra: dict[str, Any]) -> None:
    # Given a client that waits 1 s for an answer, and a server that never stops sending slowly
    client = Transport(timeout=1)
    started = time.perf_counter()

    # Then the answer is given up on after about that long, saying why
    with pytest.raises(TransportError, match=r"no whole answer within 1 s \(the body was still coming\)"):
        client.send(Probe("GET", trickling_api + "/p", **probe_extra))
    assert time.perf_counter() - started < 4
    client.close()

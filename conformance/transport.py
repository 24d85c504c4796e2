"""The suite's only door to the network: send one probe, return what came back.

One keep-alive ``requests.Session`` per target and worker. Redirects are
never followed (a 3xx is itself a verdict, and following one could carry
credentials to another origin), cookies a server sets are never replayed,
and at most ``max_body`` bytes of a response body are read. A request that
meets a kept-alive connection the server has closed is sent again on a new
one only if its method is idempotent (RFC 9110 §9.2.2).

Three more doors, each with the same rules: Digest probes go through
requests' own ``HTTPDigestAuth``; probes with raw header bytes (control
characters, non-UTF-8) are written on a plain socket, since requests and
urllib3 rightly refuse to send them; and ``fetch`` sends the logins and
token requests that obtain credentials at run time.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from contextlib import closing
from urllib.parse import urlsplit

import requests
import urllib3
from requests.auth import HTTPBasicAuth, HTTPDigestAuth
from urllib3 import HTTPHeaderDict

from .errors import TransportError
from .model import Exchange, Probe

logger = logging.getLogger("conformance")

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BODY = 64 * 1024
_CHUNK = 16 * 1024
USER_AGENT = "pytest-auth-conformance"

# RFC 9110 §9.2.2: the methods a client may repeat after a failed connection.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})


class Transport:
    """Send probes to one target over a single keep-alive session."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_body: int = DEFAULT_MAX_BODY,
        verify_tls: bool = True,
    ) -> None:
        self.timeout = timeout
        self.max_body = max_body
        self._session = requests.Session()
        # trust_env would let ~/.netrc add an Authorization header to the
        # probes that must go without one, and proxies rewrite the answers.
        self._session.trust_env = False
        self._session.verify = verify_tls
        self._session.headers["User-Agent"] = USER_AGENT

    def send(self, probe: Probe) -> Exchange:
        """Send ``probe`` once and return the answer, or raise TransportError."""
        if probe.raw_headers:
            return self._send_raw(probe)
        # A fresh object each time: HTTPDigestAuth keeps per-exchange state.
        auth = None
        if probe.digest is not None:
            auth = HTTPDigestAuth(probe.digest.username, probe.digest.password.reveal())
        request = requests.Request(
            probe.method,
            probe.url,
            params=list(probe.params),
            cookies=dict(probe.cookies),
            auth=auth,
        )
        exchange, _ = self._exchange(request, probe.headers, probe)
        return exchange

    def fetch(
        self,
        method: str,
        url: str,
        *,
        headers: Iterable[tuple[str, str]] = (),
        body: str | None = None,
        basic: tuple[str, str] | None = None,
        what: str = "credential request",
    ) -> tuple[Exchange, dict[str, str]]:
        """Send a login or token request; return the answer and the cookies it set.

        ``what`` describes the request in logs and errors, which never show
        its body or credentials.
        """
        request = requests.Request(
            method,
            url,
            data=body.encode() if body is not None else None,
            auth=HTTPBasicAuth(*basic) if basic else None,
        )
        probe = Probe(method, url, sent=what)
        return self._exchange(request, tuple(headers), probe)

    def _exchange(
        self,
        request: requests.Request,
        lines: tuple[tuple[str, str], ...],
        probe: Probe,
    ) -> tuple[Exchange, dict[str, str]]:
        prepared = self._session.prepare_request(request)
        _set_header_lines(prepared, lines)

        started = time.perf_counter()
        try:
            try:
                response = self._session.send(prepared, allow_redirects=False, stream=True, timeout=self.timeout)
            except requests.ConnectionError as exc:
                reason = _connection_reason(exc)
                if reason not in _STALE_CONNECTION_REASONS:
                    raise
                # A kept-alive connection the server closed after the last
                # answer (some do after refusing an over-long header) fails
                # the next request, which the server may or may not have
                # read. Only an idempotent request may go again (RFC 9110
                # §9.2.2): an auditor must never repeat a POST behind the
                # API's back.
                method = probe.method.upper()
                if method not in IDEMPOTENT_METHODS:
                    raise TransportError(
                        _describe(probe, f"{reason}; {method} is not idempotent, so it was not sent again")
                    ) from exc
                logger.debug("%s %s: %s; retrying on a new connection", probe.method, probe.url, reason)
                self._session.close()
                prepared = self._session.prepare_request(request)
                _set_header_lines(prepared, lines)
                response = self._session.send(prepared, allow_redirects=False, stream=True, timeout=self.timeout)
        except requests.Timeout as exc:
            raise TransportError(_describe(probe, f"no answer within {self.timeout:g} s")) from exc
        except requests.ConnectionError as exc:
            raise _no_answer(probe, exc) from exc
        except (requests.RequestException, ValueError) as exc:
            # Messages of these exceptions may quote the URL, and with it an
            # API key sent in the query string: name the class only.
            raise TransportError(_describe(probe, f"request failed ({type(exc).__name__})")) from exc

        cookies = {cookie.name: cookie.value or "" for cookie in response.cookies}
        try:
            body, truncated = self._read_bounded(response, probe, deadline=started + self.timeout)
        finally:
            # Cookies the server set must not make the next probe authenticated.
            self._session.cookies.clear()
        elapsed_ms = (time.perf_counter() - started) * 1000

        exchange = Exchange(
            status=response.status_code,
            reason=response.reason or "",
            header_lines=tuple(_header_lines(response)),
            body=body,
            body_truncated=truncated,
            elapsed_ms=elapsed_ms,
        )
        logger.debug(
            "%s %s [%s] -> %s (%.1f ms)",
            probe.method,
            probe.url,
            probe.sent,
            exchange.status,
            elapsed_ms,
        )
        return exchange, cookies

    def _send_raw(self, probe: Probe) -> Exchange:
        """Write the request on a plain socket, header bytes exactly as given.

        Used only for probes no HTTP library will send. One connection per
        probe (``Connection: close``); the answer is read by http.client.
        """
        parts = urlsplit(probe.url)
        secure = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if secure else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [
            f"{probe.method} {path} HTTP/1.1".encode("ascii"),
            f"Host: {parts.netloc}".encode("idna" if not host.isascii() else "ascii"),
            f"User-Agent: {USER_AGENT}".encode("ascii"),
            b"Accept: */*",
            b"Connection: close",
            *(f"{name}: {value}".encode("latin-1") for name, value in probe.headers),
            *(name + b": " + value for name, value in probe.raw_headers),
        ]

        started = time.perf_counter()
        deadline = started + self.timeout
        try:
            with socket.create_connection((host, port), timeout=self.timeout) as raw:
                sock: socket.socket = raw
                if secure:
                    sock = self._tls_context().wrap_socket(raw, server_hostname=host)
                sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n")
                response = http.client.HTTPResponse(sock, method=probe.method)
                # The response holds a file on the socket, which keeps it open
                # past the with block unless closed, also when begin() raises.
                with closing(response):
                    response.begin()
                    body = _read_by(response.read1, self.max_body + 1, deadline)
                    header_lines = tuple(response.getheaders())
                    status, reason = response.status, response.reason
        except TimeoutError as exc:
            raise TransportError(_describe(probe, f"no answer within {self.timeout:g} s")) from exc
        except _TooSlow as exc:
            raise TransportError(_describe(probe, f"no whole answer within {self.timeout:g} s (the body was still coming)")) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise _no_answer(probe, exc) from exc

        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.debug("%s %s [%s] -> %s (%.1f ms, raw)", probe.method, probe.url, probe.sent, status, elapsed_ms)
        return Exchange(
            status=status,
            reason=reason or "",
            header_lines=header_lines,
            body=body[: self.max_body],
            body_truncated=len(body) > self.max_body,
            elapsed_ms=elapsed_ms,
        )

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self._session.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _read_bounded(self, response: requests.Response, probe: Probe, *, deadline: float) -> tuple[bytes, bool]:
        """Read at most ``max_body`` bytes by ``deadline``, keeping the connection when the body was whole."""
        try:
            body = _read_by(lambda size: response.raw.read1(size, decode_content=True), self.max_body + 1, deadline)
        except _TooSlow as exc:
            response.close()
            raise TransportError(_describe(probe, f"no whole answer within {self.timeout:g} s (the body was still coming)")) from exc
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            # urllib3's own errors (a reset mid-body) reach us unwrapped from raw.read.
            # A server that refuses a large header often resets the connection
            # while the client still sends it: the answer is lost, a drop.
            response.close()
            reason, dropped = _failure_reason(exc)
            raise TransportError(f"reading the body failed: {reason}", dropped=dropped) from exc

        truncated = len(body) > self.max_body
        if truncated:
            # The rest stays unread, so the connection cannot be reused.
            response.close()
            return body[: self.max_body], True

        response._content = body  # noqa: SLF001 - lets requests release the connection
        response._content_consumed = True  # type: ignore[attr-defined]  # noqa: SLF001
        response.close()
        return body, False

    def close(self) -> None:
        """Close the session and its pooled connections."""
        self._session.close()


class _TooSlow(Exception):
    """The body did not arrive by the deadline, though bytes kept coming."""


def _read_by(read1: Callable[[int], bytes], limit: int, deadline: float) -> bytes:
    """Read up to ``limit`` bytes with ``read1`` (one receive a call) until the end or ``deadline``.

    The socket timeout bounds each receive only: a server that sends one
    byte per second would otherwise hold a 64 KiB read for most of a day.
    """
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        if time.perf_counter() > deadline:
            raise _TooSlow
        chunk = read1(min(_CHUNK, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _set_header_lines(prepared: requests.PreparedRequest, lines: Iterable[tuple[str, str]]) -> None:
    """Add the probe's header lines, keeping a repeated name as separate lines.

    requests keeps headers in a dict, which cannot hold two Authorization
    lines; urllib3 sends every value of an HTTPHeaderDict on its own line.
    """
    lines = list(lines)
    overridden = {name.lower() for name, _ in lines}
    headers = HTTPHeaderDict()
    for name, value in prepared.headers.items():
        if name.lower() not in overridden:
            headers.add(name, value)
    for name, value in lines:
        headers.add(name, value)
    prepared.headers = headers  # type: ignore[assignment]


def _header_lines(response: requests.Response) -> list[tuple[str, str]]:
    """The response's header lines as received, repeated fields kept apart."""
    raw_headers = response.raw.headers
    if isinstance(raw_headers, HTTPHeaderDict):
        return list(raw_headers.iteritems())
    return list(response.headers.items())


_CLOSED = "the server closed the connection without answering"
_RESET = "connection reset by the server"
_STALE_CONNECTION_REASONS = frozenset({_RESET, _CLOSED})

# What each low-level failure says about the server, and whether it dropped
# the connection. Order matters: RemoteDisconnected is also a BadStatusLine
# and a ConnectionResetError. {name} is the exception's class; no reason
# quotes the server's bytes, which may be anything.
_CAUSES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str, bool], ...] = (
    (http.client.RemoteDisconnected, _CLOSED, True),
    ((ConnectionResetError, BrokenPipeError), _RESET, True),
    (TimeoutError, "no answer in time", False),
    (ConnectionRefusedError, "connection refused", False),
    (socket.gaierror, "the host name does not resolve", False),
    (ssl.SSLCertVerificationError, "the TLS certificate was not trusted", False),
    (http.client.LineTooLong, "the answer has a line longer than 64 KiB, the most an HTTP client reads ({name})", False),
    (http.client.BadStatusLine, "the answer is not HTTP: its first line is no status line ({name})", False),
    (http.client.HTTPException, "the answer is not valid HTTP ({name})", False),
)


def _no_answer(probe: Probe, exc: BaseException) -> TransportError:
    """The TransportError for ``exc``, naming its cause and quoting no URL."""
    reason, dropped = _failure_reason(exc)
    return TransportError(_describe(probe, reason), dropped=dropped)


def _connection_reason(exc: BaseException) -> str:
    return _failure_reason(exc)[0]


def _failure_reason(exc: BaseException) -> tuple[str, bool]:
    """The cause of a failed exchange, found in the exception chain, and whether the server dropped the connection.

    requests wraps http.client's errors twice, as in
    ``ConnectionError(ProtocolError('Connection aborted.', BadStatusLine(...)))``,
    so the cause is the first exception along the chain that says what the
    server did; the raw socket door raises it directly.
    """
    for cause in _exception_chain(exc):
        for kinds, reason, dropped in _CAUSES:
            if isinstance(cause, kinds):
                return reason.format(name=type(cause).__name__), dropped
    return f"request failed ({type(exc).__name__})", False


def _exception_chain(exc: BaseException) -> Iterable[BaseException]:
    """``exc``, then what it wraps: its cause or context, and exceptions among its arguments (urllib3's style)."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [arg for arg in current.args if isinstance(arg, BaseException)]
        pending += [linked for linked in (current.__cause__, current.__context__) if linked is not None]


def _describe(probe: Probe, reason: str) -> str:
    return f"{probe.method} {probe.url}: {reason}; the case could not be judged"

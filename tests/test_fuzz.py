"""Tests for conformance.fuzz: the hypothesis stream behind malformed:generated."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings

from conformance.demo import RunningDemo, start_demo
from conformance.errors import ConformanceFailure, NotJudgedError
from conformance.fuzz import Fuzzer, Generated, authorization_values
from conformance.model import Case, Endpoint, Probe, Secret, Target
from conformance.results import Evidence
from conformance.transport import Transport

pytest_plugins = ["pytester"]


@pytest.fixture
def broken_demo() -> Iterator[RunningDemo]:
    running = start_demo("demo-broken")
    yield running
    running.stop()


# The stream: broken values, never a header injection.

@settings(max_examples=200, database=None)
@given(authorization_values("Bearer"))
def test_stream_never_splits_the_request(generated: Generated) -> None:
    assert 1 <= len(generated.values) <= 2
    for value in generated.values:
        assert b"\r" not in value and b"\n" not in value


def test_stream_covers_every_kind_of_breakage() -> None:
    seen: set[str] = set()

    @settings(max_examples=300, database=None)
    @given(authorization_values("Basic"))
    def collect(generated: Generated) -> None:
        value = generated.values[0]
        if len(generated.values) == 2:
            seen.add("duplicated")
        if generated.invalid_field:
            seen.add("control")
        if len(value) > 8000:
            seen.add("over-long")
        if not value.startswith(b"Basic"):
            seen.add("stray-whitespace-or-other-scheme")
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            seen.add("not-utf8")

    collect()
    assert seen == {"duplicated", "control", "over-long", "stray-whitespace-or-other-scheme", "not-utf8"}


def test_generated_value_is_shown_as_bytes() -> None:
    assert Generated((b"Bearer \x00", b"Basic \xff")).show() == "Authorization: b'Bearer \\x00' + Authorization: b'Basic \\xff'"
    assert "(65543 bytes)" in Generated((b"Bearer " + b"A" * 65536,)).show()


# The raw door of the transport: bytes exactly as given.

def test_raw_probe_sends_bytes_and_repeated_lines_as_given() -> None:
    # Given a listener that records the request and refuses it
    server = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def answer() -> None:
        connection, _ = server.accept()
        with connection:
            received.append(connection.recv(65536))
            connection.sendall(b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="x"\r\nContent-Length: 2\r\n\r\nno')

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/items?x=1"

    # When a probe with a NUL and two Authorization lines is sent
    exchange = Transport(timeout=5).send(Probe("GET", url, raw_headers=((b"Authorization", b"Bearer a\x00b"), (b"Authorization", b"Basic \xff"))))
    thread.join(timeout=5)
    server.close()

    # Then both lines went out byte for byte, and the answer was read
    assert b"GET /items?x=1 HTTP/1.1\r\n" in received[0]
    assert b"\r\nAuthorization: Bearer a\x00b\r\nAuthorization: Basic \xff\r\n\r\n" in received[0]
    assert (exchange.status, exchange.www_authenticate, exchange.body) == (401, ['Bearer realm="x"'], b"no")


# The fuzzer: judged as malformed, shrunk on failure, reproducible.

def test_failure_is_shrunk_and_shows_the_value_and_the_seed(broken_demo: RunningDemo) -> None:
    # Given demo-broken's endpoint that crashes on a malformed Bearer value
    target = broken_demo.target
    case = Case(target.name, Endpoint("GET", "/crash-on-malformed"), "malformed", "generated")
    recorded: list[Evidence] = []
    fuzzer = Fuzzer(target, case, Transport(timeout=5), recorded.append, examples=25, seed=7)

    with pytest.raises(ConformanceFailure) as excinfo:
        fuzzer.run()

    # Then the message and the last record show the smallest failing value
    message = str(excinfo.value)
    assert "  sent:     a generated broken Authorization value: Authorization: b'" in message
    assert "FAIL R9110-NO-5XX" in message
    assert message.endswith("repeat: --hypothesis-seed=7 (hypothesis shrank the value to the smallest that fails)")
    assert recorded[-1].generated is not None and recorded[-1].generated in message
    assert len(recorded[-1].generated) < 40


def test_conformant_endpoint_passes_the_stream(broken_demo: RunningDemo) -> None:
    target = broken_demo.target
    case = Case(target.name, Endpoint("GET", "/items"), "malformed", "generated")
    recorded: list[Evidence] = []

    Fuzzer(target, case, Transport(timeout=5), recorded.append, examples=25, seed=1).run()

    assert recorded and recorded[-1].verdict is not None and recorded[-1].verdict.outcome == "pass"


def generated_record(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, object]]:
    result = pytester.runpytest("--target=demo-broken", "-k", "crash-on-malformed and generated", "-p", "no:cacheprovider", *args)
    report = json.loads((pytester.path / "reports" / "demo-broken.json").read_text(encoding="utf-8"))
    [record] = report["results"]
    return result, record


def test_seed_is_printed_and_repeats_the_run(pytester: pytest.Pytester) -> None:
    # Given a run that fails, with the seed it printed
    first, record = generated_record(pytester)
    [seed] = re.findall(r"repeat with --hypothesis-seed=(\d+)\)", first.stdout.str())

    # When the run is repeated with that seed
    again, repeated = generated_record(pytester, f"--hypothesis-seed={seed}")

    # Then the same smallest value fails, and the report shows it
    assert record["outcome"] == repeated["outcome"] == "fail"
    assert record["sent"] == repeated["sent"]
    assert str(record["sent"]).startswith("a generated broken Authorization value: Authorization: b'")
    again.stdout.fnmatch_lines([f"*malformed:generated: 25 examples per endpoint, seed {seed} (repeat with --hypothesis-seed={seed})*"])


def test_examples_option_sets_the_count_and_zero_turns_the_stream_off(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--target=demo", "-k", "generated", "--conformance-examples=0", "-p", "no:cacheprovider")
    # Nothing is left to run, and nothing shows as skipped.
    result.assert_outcomes()
    assert result.parseoutcomes().get("deselected", 0) >= 1
    assert "malformed:generated:" not in result.stdout.str()

    pytester.makeini("[pytest]\nconformance_examples = 3\n")
    result = pytester.runpytest("--target=demo", "-k", "items and generated and not DELETE and not POST", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*malformed:generated: 3 examples per endpoint*"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--conformance-examples=-1",), "*--conformance-examples must be 0 or more, got -1*"),
        (("--hypothesis-seed=abc",), "*--hypothesis-seed must be a whole number for the audit, got 'abc'*"),
    ],
    ids=["negative-examples", "seed-not-a-number"],
)
def test_bad_stream_options_are_usage_errors(pytester: pytest.Pytester, args: tuple[str, ...], message: str) -> None:
    result = pytester.runpytest("--target=demo", "-p", "no:cacheprovider", *args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


# Answers the stream cannot judge: an error that stops it, never a pass.

# What a raw server does with one request: bytes to send then close, b"" to
# close at once, None to hold the connection open without a word.
Respond = Callable[[bytes], "bytes | None"]


@pytest.fixture
def raw_server() -> Iterator[Callable[[Respond], tuple[str, list[bytes]]]]:
    """Start a socket server on a free port; return its base URL and the requests it read."""
    listeners: list[socket.socket] = []
    held: list[socket.socket] = []

    def start(respond: Respond) -> tuple[str, list[bytes]]:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)
        received: list[bytes] = []

        def serve() -> None:
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return  # the listener was closed
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    request += chunk
                received.append(request)
                answer = respond(request)
                if answer is None:
                    held.append(connection)
                    continue
                with connection:
                    connection.sendall(answer)

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}", received

    yield start
    for sock in listeners + held:
        # shutdown() wakes a thread blocked in accept(); close() alone leaves
        # the port listening until the process ends.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


def generated_case(base_url: str) -> tuple[Target, Case]:
    target = Target("raw", "bearer", base_url, (Endpoint("GET", "/p"),), {"admin": Secret("tok-admin")})
    return target, Case("raw", Endpoint("GET", "/p"), "malformed", "generated")


def test_closed_connection_on_a_short_value_is_not_judged(raw_server: Callable[[Respond], tuple[str, list[bytes]]]) -> None:
    # Given a server that closes the connection on every request
    base_url, _ = raw_server(lambda request: b"")
    target, case = generated_case(base_url)
    recorded: list[Evidence] = []
    fuzzer = Fuzzer(target, case, Transport(timeout=2), recorded.append)

    # When a short value with a NUL is sent, then the example cannot be judged
    with pytest.raises(NotJudgedError) as excinfo:
        fuzzer.judge(Generated((b"Bearer \x00",)))

    assert str(excinfo.value).startswith(f"GET {base_url}/p: the server closed the connection without answering; the case could not be judged\n")
    assert "  sent:     a generated broken Authorization value: Authorization: b'Bearer \\x00'\n" in str(excinfo.value)
    assert "only a dropped connection in answer to a value over 8 KiB is graded (R9110-FIELD-TOO-LARGE)" in str(excinfo.value)
    assert recorded[-1].verdict is None and recorded[-1].generated == "Authorization: b'Bearer \\x00'"


def test_closed_connection_on_a_large_value_is_a_warning(raw_server: Callable[[Respond], tuple[str, list[bytes]]]) -> None:
    base_url, _ = raw_server(lambda request: b"")
    target, case = generated_case(base_url)
    fuzzer = Fuzzer(target, case, Transport(timeout=2), lambda evidence: None)

    evidence = fuzzer.judge(Generated((b"Bearer " + b"A" * 9000,)))

    assert evidence.verdict is not None and evidence.verdict.outcome == "pass"
    [warning] = evidence.verdict.warnings
    assert warning.requirement == "R9110-FIELD-TOO-LARGE"
    assert warning.message.startswith("the server dropped the connection instead of answering a 4xx")


def test_timeout_on_a_large_value_is_not_judged(raw_server: Callable[[Respond], tuple[str, list[bytes]]]) -> None:
    base_url, _ = raw_server(lambda request: None)
    target, case = generated_case(base_url)
    fuzzer = Fuzzer(target, case, Transport(timeout=0.3), lambda evidence: None)

    with pytest.raises(NotJudgedError, match=r"no answer within 0\.3 s; the case could not be judged"):
        fuzzer.judge(Generated((b"Bearer " + b"A" * 9000,)))


def test_stream_stops_at_the_first_unanswered_example(raw_server: Callable[[Respond], tuple[str, list[bytes]]]) -> None:
    # Given a server that never answers
    base_url, received = raw_server(lambda request: None)
    target, case = generated_case(base_url)
    fuzzer = Fuzzer(target, case, Transport(timeout=0.5), lambda evidence: None, examples=25, seed=3)

    # When the stream runs, then it fails with an error after one example
    started = time.monotonic()
    with pytest.raises(NotJudgedError, match="no answer within 0.5 s"):
        fuzzer.run()

    assert time.monotonic() - started < 5
    assert len(received) == 1

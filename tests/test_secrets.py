"""No credential reaches the terminal or a report, even from a server that echoes everything it gets."""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from conformance.model import Case, Endpoint, Probe, Secret, Target
from conformance.results import Evidence

ADMIN = "adm1nQwErTyUiOpAsDfGhJkLzXcVbNm0123456789"
READER = "r3aderPoIuYtReWqLkJhGfDsAmNbVcXz9876543210"
EXPIRED = "exp1redMnBvCxZlKjHgFdSaPoIuYtReWq1029384756"
# Any run of this many characters of a secret gives too much of it away
# (the truncated variant sends half of a token, flipped-char all but one).
WINDOW = 12


class _QuietHandler(WSGIRequestHandler):
    """No request log: werkzeug colours it with escape sequences of its own."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _serve(app: object) -> object:
    server = make_server("127.0.0.1", 0, Request.application(app), threaded=True, request_handler=_QuietHandler)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _echoing_api(request: Request) -> Response:
    """A Bearer API that puts whatever Authorization it got into its challenge and body.

    The challenge's quotes are unbalanced, so it does not parse and the
    suite quotes the raw line in its finding, and the 403 for the reader
    carries no Bearer challenge at all.
    """
    got = request.headers.get("Authorization", "")
    if got == f"Bearer {ADMIN}":
        return Response('{"items": []}', 200, content_type="application/json")
    if got == f"Bearer {READER}":
        return Response(f"forbidden for {got}", 403, {"WWW-Authenticate": f'Basic realm="got {got}'})
    challenge = f'Bearer realm="x", error="invalid_token, error_description="got {got}"'
    return Response(f"refused: {got}", 401, {"WWW-Authenticate": challenge})


@pytest.fixture
def echoing_api() -> Iterator[str]:
    server: Any = _serve(_echoing_api)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _leaks(text: str) -> list[str]:
    return [
        secret[start : start + WINDOW]
        for secret in (ADMIN, READER, EXPIRED)
        for start in range(len(secret) - WINDOW + 1)
        if secret[start : start + WINDOW] in text
    ]


def test_echoed_credentials_are_masked_everywhere(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, echoing_api: str
) -> None:
    # Given an API that echoes every credential it is sent, including the
    # ones the suite derives from the real tokens
    for name, value in {"ADMIN_TOKEN": ADMIN, "READER_TOKEN": READER, "OLD_TOKEN": EXPIRED}.items():
        monkeypatch.setenv(name, value)
    pytester.makefile(
        ".yaml",
        targets=textwrap.dedent(
            f"""\
            targets:
              echo:
                base_url: {echoing_api}
                scheme: bearer
                credentials:
                  admin: "${{ADMIN_TOKEN}}"
                  reader: "${{READER_TOKEN}}"
                expired: "${{OLD_TOKEN}}"
                endpoints:
                  - {{method: GET, path: /items, roles: [admin]}}
            """
        ),
    )

    # When it is audited, with every report written
    result = pytester.runpytest(
        "--target=echo", "-p", "no:cacheprovider", "-rA", "--junitxml=junit.xml", "--conformance-examples=0"
    )

    # Then the echoes made cases fail, and none of the outputs shows any part of a secret
    assert result.parseoutcomes().get("failed", 0) > 0
    outputs = {
        "terminal": result.stdout.str(),
        **{name: (Path(pytester.path) / name).read_text(encoding="utf-8") for name in ("reports/echo.json", "reports/echo.html", "junit.xml")},
    }
    assert "got <redacted>" in outputs["reports/echo.json"]
    assert {name: _leaks(text) for name, text in outputs.items()} == dict.fromkeys(outputs, [])


def test_server_control_characters_never_reach_the_terminal(pytester: pytest.Pytester) -> None:
    # Given an API whose refusals carry an escape sequence in the challenge
    def painting_api(request: Request) -> Response:
        if request.headers.get("Authorization") == f"Bearer {ADMIN}":
            return Response("ok", 200)
        return Response("no", 401, {"WWW-Authenticate": 'Bearer realm="\x1b[31mred\x1b[0m", error="invalid_token'})

    server: Any = _serve(painting_api)
    try:
        pytester.makefile(
            ".yaml",
            targets=f"targets:\n  paint:\n    base_url: http://127.0.0.1:{server.server_port}\n"
            f"    scheme: bearer\n    credentials: {{admin: {ADMIN}}}\n    endpoints: [GET /p]\n",
        )

        # When it is audited
        result = pytester.runpytest("--target=paint", "-p", "no:cacheprovider", "-k", "missing")
    finally:
        server.shutdown()
        server.server_close()

    # Then the failure shows the escape spelt out, never the raw byte
    text = result.stdout.str()
    assert "\\x1b[31mred" in text
    assert "\x1b" not in text


@pytest.mark.parametrize("sent", ["Bearer ", "Bearer", "Basic  ", "bearer"])
def test_a_scheme_word_sent_alone_is_not_masked(sent: str) -> None:
    # `malformed:empty` and `scheme-only` send no credential, only the scheme
    target = Target("t", "bearer", "http://127.0.0.1:1", (Endpoint("GET", "/p"),), {"admin": Secret(ADMIN)})
    probe = Probe("GET", "http://127.0.0.1:1/p", headers=(("Authorization", sent),))
    evidence = Evidence(target, Case("t", Endpoint("GET", "/p"), "malformed", "empty"), probe, None)

    assert evidence.mask("the Bearer challenge of a Basic realm") == "the Bearer challenge of a Basic realm"
    assert evidence.mask(f"got {ADMIN}") == "got <redacted>"


@pytest.mark.parametrize("placement", ["header", "query"])
def test_a_truncated_key_of_letters_only_is_masked(placement: str) -> None:
    # wrong:truncated sends the first half of the real key, here all letters
    target = Target("t", "api_key", "http://127.0.0.1:1", (Endpoint("GET", "/p"),), {"app": Secret("KEYSECRETadminabc")})
    sent = (("X-API-Key", "KEYSECRE"),)
    probe = Probe("GET", "http://127.0.0.1:1/p", **({"headers": sent} if placement == "header" else {"params": sent}))
    evidence = Evidence(target, Case("t", Endpoint("GET", "/p"), "wrong", "truncated"), probe, None)

    assert evidence.mask('{"you_sent": "KEYSECRE"}') == '{"you_sent": "<redacted>"}'

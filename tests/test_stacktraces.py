"""The stack-trace detector on the shapes real error pages have, and on bodies that only look alike."""

from __future__ import annotations

import json

import pytest

from conformance.stacktraces import find_stack_trace

TRACES = [
    ("Python", b'Traceback (most recent call last):\n  File "/srv/app/views.py", line 40, in get\n    raise KeyError\nKeyError'),
    ("Python", b'<div>File &quot;/usr/lib/python3.11/site-packages/flask/app.py&quot;, line 1511, in wsgi_app</div>'),
    (
        "JavaScript",
        b"TypeError [ERR_INVALID_ARG_TYPE]: The first argument must be of type string<br> &nbsp; &nbsp;at new NodeError "
        b"(node:internal/errors:405:5)<br> &nbsp; &nbsp;at Function.from (node:buffer:325:9)",
    ),
    ("JavaScript", b"Error: jwt expired\n    at /srv/node_modules/jsonwebtoken/verify.js:152:21\n"),
    ("Java", b"java.lang.IllegalStateException: no entry point\n\tat org.example.Filter.doFilter(Filter.java:42)\n"),
    ("Java", b'Exception in thread "main" java.lang.NullPointerException'),
    ("C#", b"System.Exception: denied\n   at Api.Auth.Validate(String token) in /src/Auth.cs:line 42\n"),
    ("PHP", b"Stack trace:\n#0 /var/www/vendor/laravel/framework/src/Auth/Middleware.php(83): redirectTo()\n"),
    ("Ruby", b"/app/lib/auth.rb:42:in `authenticate!'\n\tfrom /app/config.ru:3:in `block in <main>'\n"),
    ("Go", b"goroutine 7 [running]:\nmain.auth(0xc000010000)\n\t/go/src/app/auth.go:42 +0x1d\n"),
    # A JSON error object whose "stack" member is the trace, line breaks escaped.
    ("JavaScript", json.dumps({"error": "x", "stack": "Error: x\n    at check (/srv/auth.js:10:3)"}).encode()),
]

NOT_TRACES = [
    b"",
    b'{"detail": "Not authenticated"}',
    b"<html><body><h1>401 Authorization Required</h1><hr><center>nginx</center></body></html>",
    b"Missing token: send it at the Authorization header, line 1 of the request.",
    b"See https://example.com/docs/auth.html#errors:401 for help",
    b'{"message": "invalid token at position 12:34"}',
    b"\xff\xfe\x00 binary junk \x00\x01",
]


@pytest.mark.parametrize(("language", "body"), TRACES, ids=[f"{lang}-{i}" for i, (lang, _) in enumerate(TRACES)])
def test_a_stack_trace_is_recognised(language: str, body: bytes) -> None:
    evidence = find_stack_trace(body)

    assert evidence is not None
    assert evidence.language == language
    assert evidence.line and len(evidence.line) <= 160


@pytest.mark.parametrize("body", NOT_TRACES)
def test_an_ordinary_error_body_is_not_a_stack_trace(body: bytes) -> None:
    assert find_stack_trace(body) is None


def test_the_evidence_line_is_cut_short() -> None:
    body = b"\n    at handler (/srv/" + b"a" * 1000 + b".js:1:2)"

    evidence = find_stack_trace(body)

    assert evidence is not None
    assert len(evidence.line) == 160

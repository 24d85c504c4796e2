"""Recognise a stack trace or a source path in an error body.

Frameworks left in their default or debug configuration answer a refused
request with the exception that refused it: express's error handler prints
``UnauthorizedError ... at middleware (/app/node_modules/express-jwt/...)``,
Django and Flask debug pages print a Python traceback. No RFC forbids it,
but it tells an attacker the stack, its versions and the file layout
(CWE-209), so the suite reports it as a hygiene warning.

Only shapes that a stack trace has and ordinary prose or JSON has not are
recognised: one frame line of a language's trace format is enough. A body
is read as text after undoing the HTML escaping and line breaks that error
pages wrap traces in.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

__all__ = ["TraceEvidence", "find_stack_trace"]


@dataclass(frozen=True)
class TraceEvidence:
    """What gave a stack trace away: the language and the first telling line."""

    language: str
    line: str


# Each pattern matches one line of a trace, anchored so that a sentence that
# merely mentions "at" or "line 3" does not match.
_FRAME_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Python", re.compile(r"^Traceback \(most recent call last\):")),
    ("Python", re.compile(r'^\s*File "[^"]+", line \d+, in \S+')),
    # V8: "    at handler (/srv/app.js:12:5)" or "    at /srv/app.js:12:5"
    ("JavaScript", re.compile(r"^\s+at (?:\S+ \()?(?:[A-Za-z]:)?[\\/][^():]+:\d+:\d+(?:\)|\s*$|[\"',])")),
    ("JavaScript", re.compile(r"^\s+at (?:\S+ \()?node:[\w/]+:\d+:\d+(?:\)|\s*$|[\"',])")),
    # JVM: "\tat com.example.Filter.doFilter(Filter.java:42)"
    ("Java", re.compile(r"^\s+at [\w$.]+\.[\w$<>]+\([\w$]+\.(?:java|kt|scala|groovy):\d+\)")),
    ("Java", re.compile(r"^Exception in thread \"[^\"]*\" [\w$.]+(?:Exception|Error)")),
    # .NET: "   at Api.Auth.Validate() in /src/Auth.cs:line 42"
    ("C#", re.compile(r"^\s+at [\w.`<>]+\(.*\) in .+:line \d+")),
    # PHP: "#0 /var/www/vendor/laravel/Auth.php(42): ..."
    ("PHP", re.compile(r"^#\d+ (?:[A-Za-z]:)?[\\/]\S+\.php\(\d+\): ")),
    ("PHP", re.compile(r"^PHP (?:Fatal error|Stack trace):")),
    # Ruby: "/app/lib/auth.rb:42:in `authenticate!'"
    ("Ruby", re.compile(r"^\s*(?:from )?(?:[A-Za-z]:)?[\\/]\S+\.rb:\d+:in [`'‘]")),
    # Go: "goroutine 7 [running]:" and "\t/go/src/app/auth.go:42 +0x1d"
    ("Go", re.compile(r"^goroutine \d+ \[[\w ]+\]:")),
    ("Go", re.compile(r"^\s+(?:[A-Za-z]:)?[\\/]\S+\.go:\d+(?: \+0x[0-9a-f]+)?\s*$")),
)

_BREAKS = re.compile(r"<br\s*/?>|</?(?:pre|p|div|li|code)[^>]*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]{0,200}>")
# A refusal body is short; a trace in it shows in the first lines read.
_MAX_LINES = 400


def find_stack_trace(body: bytes) -> TraceEvidence | None:
    """Return the first stack-trace line of ``body``, or None if it has none.

    >>> find_stack_trace(b"Error: jwt expired<br> &nbsp; &nbsp;at verify (/app/node_modules/jsonwebtoken/verify.js:152:21)")
    TraceEvidence(language='JavaScript', line='at verify (/app/node_modules/jsonwebtoken/verify.js:152:21)')
    >>> find_stack_trace(b'{"detail": "Not authenticated"}') is None
    True
    """
    text = body.decode("utf-8", errors="replace")
    text = _TAGS.sub("", _BREAKS.sub("\n", text))
    # Twice: error pages escape what the exception message had escaped already.
    text = html.unescape(html.unescape(text)).replace("\xa0", " ")
    # A JSON body carries the trace as one string with escaped line breaks.
    text = text.replace("\\n", "\n")
    for line in text.splitlines()[:_MAX_LINES]:
        for language, pattern in _FRAME_PATTERNS:
            if pattern.search(line):
                return TraceEvidence(language, line.strip()[:160])
    return None

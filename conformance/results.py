"""What one case produced, as a failure message for people and a record for reports.

Both forms show what was sent with every credential masked, what came back,
what was expected, and the requirement IDs involved. The record is made of
JSON values only, so it can ride on a pytest report through pytest-xdist.

Every text that reaches a message or a record goes through ``Evidence.mask``:
servers echo what they were sent, into challenges, bodies and so into the
findings' own messages, and a credential the suite derived from a real one
(the valid token cut in half, one character changed) gives most of it away.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .cases import expected_answer
from .catalogue import requirement
from .model import (
    BasicCredential,
    Case,
    ClientCredentialsGrant,
    Exchange,
    Finding,
    Outcome,
    Probe,
    Secret,
    Target,
    Verdict,
)

BODY_EXCERPT_CHARS = 300
_SCHEME_WORDS = frozenset({"bearer", "basic", "digest"})
# C0 controls but tab, DEL and the C1 controls (RFC 9110 §5.5 obs-text may carry them).
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Evidence:
    """Everything known about one case once its request was answered (or not).

    ``obtained`` holds the credentials fetched at run time so far, which are
    masked like the target's own wherever a server echoes them.
    ``generated`` is the Authorization value a generated case sent, shown
    (masked) in messages and reports so that the failure can be repeated.
    """

    target: Target
    case: Case
    probe: Probe | None
    exchange: Exchange | None
    verdict: Verdict | None = None
    obtained: tuple[Secret, ...] = ()
    generated: str | None = None

    def mask(self, text: str) -> str:
        """``text`` with every credential of the target, and every one this case sent, masked."""
        return scrub(text, self.target, self.obtained, _sent_credentials(self.probe))


def failure_message(evidence: Evidence) -> str:
    """A multi-line explanation of why the case failed.

    >>> print(failure_message(evidence))  # doctest: +SKIP
    demo: GET http://127.0.0.1:5000/items [missing]
      sent:     no credentials
      expected: 401 with a Bearer challenge
      observed: 403 Forbidden; no WWW-Authenticate
      FAIL R9110-401-ON-FAILURE (SHOULD, 9110 §11.4): 403 instead of 401 ...
    """
    case, probe = evidence.case, evidence.probe
    url = probe.url if probe else evidence.target.base_url + case.endpoint.path
    lines = [
        f"{evidence.target.name}: {case.endpoint.method} {url} [{case.id}]",
        f"  sent:     {_sent(evidence) or 'nothing'}",
        f"  expected: {expected_answer(evidence.target, case)}",
        f"  observed: {evidence.mask(describe_exchange(evidence.exchange))}",
    ]
    if evidence.verdict is not None:
        lines += [f"  {evidence.mask(line)}" for line in finding_lines(evidence.verdict.findings)]
    return "\n".join(printable(line) for line in lines)


def printable(text: str) -> str:
    r"""``text`` with control characters spelt out, safe to write to a terminal.

    A server's bytes reach messages (its challenge, its reason phrase); an
    escape sequence among them would otherwise drive the user's terminal.

    >>> printable("realm=\x1b[31mred")
    'realm=\\x1b[31mred'
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def finding_lines(findings: tuple[Finding, ...], *, include_passed: bool = False) -> list[str]:
    """One line per finding that did not pass: grade, requirement, level, section, message."""
    lines = []
    for item in findings:
        if item.passed and not include_passed:
            continue
        row = requirement(item.requirement)
        label = "waived" if item.waived else item.grade.upper()
        line = f"{label} {item.requirement} ({row.level}, {row.section}): {item.message}"
        if item.waived:
            line += f" [waived: {item.waived}]"
        lines.append(line)
    return lines


def describe_exchange(exchange: Exchange | None) -> str:
    """The status and challenge of an answer, in one line."""
    if exchange is None:
        return "no answer"
    parts = [f"{exchange.status} {exchange.reason}".strip()]
    challenges = exchange.www_authenticate
    parts.append("WWW-Authenticate: " + " | ".join(challenges) if challenges else "no WWW-Authenticate")
    if exchange.location:
        parts.append(f"Location: {exchange.location}")
    return "; ".join(parts)


def case_record(evidence: Evidence, outcome: Outcome, message: str | None, nodeid: str) -> dict[str, Any]:
    """The JSON record of one case for the reports."""
    case, exchange = evidence.case, evidence.exchange
    findings = evidence.verdict.findings if evidence.verdict else ()
    return {
        "nodeid": nodeid,
        "endpoint": case.endpoint.label,
        "case": case.kind,
        "variant": case.variant,
        "id": case.id,
        "outcome": outcome,
        "expected": expected_answer(evidence.target, case),
        "sent": _sent(evidence),
        "observed": _observed(exchange, evidence.mask),
        "message": evidence.mask(message) if message is not None else None,
        "findings": [
            {
                "requirement": f.requirement,
                "passed": f.passed,
                "grade": f.grade,
                "message": evidence.mask(f.message),
                "waived": f.waived,
            }
            for f in findings
        ],
    }


def _sent(evidence: Evidence) -> str | None:
    if evidence.probe is None:
        return None
    if evidence.generated is None:
        return evidence.probe.sent
    return f"{evidence.probe.sent}: {evidence.mask(evidence.generated)}"


def _observed(exchange: Exchange | None, mask: Callable[[str], str]) -> dict[str, Any]:
    if exchange is None:
        return {"status": None, "reason": None, "www_authenticate": [], "location": None, "body_excerpt": None}
    # Masked whole, then cut: a cut would leave a masked secret's start behind.
    excerpt = mask(exchange.body.decode("utf-8", errors="replace"))[:BODY_EXCERPT_CHARS]
    location = exchange.location
    return {
        "status": exchange.status,
        "reason": mask(exchange.reason),
        "www_authenticate": [mask(line) for line in exchange.www_authenticate],
        "location": mask(location) if location is not None else None,
        "body_excerpt": excerpt,
    }


def scrub(text: str, target: Target, obtained: Iterable[Secret] = (), sent: Iterable[str] = ()) -> str:
    """Mask every credential of ``target`` that a server echoed back into ``text``.

    Servers do echo what they were sent (httpbin returns the bearer token it
    got), and whatever they send ends up in messages and reports.
    ``obtained`` adds the credentials fetched at run time, ``sent`` the
    credential values one request carried.
    """
    for secret in _secret_texts(target, obtained, sent):
        if secret in text:
            text = text.replace(secret, "<redacted>")
    return text


def _sent_credentials(probe: Probe | None) -> list[str]:
    """The credential values a probe carries, each also without its scheme word.

    Only the headers, parameters and cookies the suite built from the
    target's credentials count; the bytes of a generated value are shown on
    purpose, so that a failure can be repeated, and hold no secret.
    """
    if probe is None:
        return []
    values: list[str] = []
    for _, value in (*probe.headers, *probe.params):
        scheme, space, credentials = value.partition(" ")
        # A scheme word alone (`Bearer`, `Basic `) is no secret, and masking
        # it would hide the scheme of every challenge.
        if value.strip().lower() in _SCHEME_WORDS:
            continue
        values.append(value)
        if space and scheme.lower() in _SCHEME_WORDS and credentials.strip():
            values.append(credentials.strip())
    for _, value in probe.cookies:
        values += [value, unquote(value)]
    return values


def _secret_texts(target: Target, obtained: Iterable[Secret] = (), sent: Iterable[str] = ()) -> list[str]:
    credentials = [
        *target.credentials.values(),
        *([target.expired] if target.expired else []),
        *target.invalid.values(),
        *obtained,
    ]
    if target.jwt is not None and target.jwt.key is not None:
        credentials.append(target.jwt.key)
    texts: list[str] = []
    for credential in credentials:
        if isinstance(credential, Secret):
            texts.append(credential.reveal())
        elif isinstance(credential, ClientCredentialsGrant):
            texts.append(credential.client_secret.reveal())
        elif isinstance(credential, BasicCredential):
            password = credential.password.reveal()
            pair = f"{credential.username}:{password}".encode()
            texts += [base64.b64encode(pair).decode("ascii"), password]
    texts += sent
    # Longest first, so a secret that contains another is masked whole.
    return sorted({t for t in texts if len(t) >= 4}, key=len, reverse=True)

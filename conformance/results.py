"""What one case produced, as a failure message for people and a record for reports.

Both forms show what was sent with every credential masked, what came back,
what was expected, and the requirement IDs involved. The record is made of
JSON values only, so it can ride on a pytest report through pytest-xdist.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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
        f"  observed: {scrub(describe_exchange(evidence.exchange), evidence.target, evidence.obtained)}",
    ]
    if evidence.verdict is not None:
        lines += [f"  {line}" for line in finding_lines(evidence.verdict.findings)]
    return "\n".join(lines)


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
        "observed": _observed(exchange, evidence.target, evidence.obtained),
        "message": message,
        "findings": [
            {
                "requirement": f.requirement,
                "passed": f.passed,
                "grade": f.grade,
                "message": f.message,
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
    return f"{evidence.probe.sent}: {scrub(evidence.generated, evidence.target, evidence.obtained)}"


def _observed(exchange: Exchange | None, target: Target, obtained: Iterable[Secret] = ()) -> dict[str, Any]:
    if exchange is None:
        return {"status": None, "reason": None, "www_authenticate": [], "location": None, "body_excerpt": None}
    # Scrubbed whole, then cut: a cut would leave a masked secret's start behind.
    excerpt = scrub(exchange.body.decode("utf-8", errors="replace"), target, obtained)[:BODY_EXCERPT_CHARS]
    location = exchange.location
    return {
        "status": exchange.status,
        "reason": scrub(exchange.reason, target, obtained),
        "www_authenticate": [scrub(line, target, obtained) for line in exchange.www_authenticate],
        "location": scrub(location, target, obtained) if location is not None else None,
        "body_excerpt": scrub(excerpt, target, obtained),
    }


def scrub(text: str, target: Target, obtained: Iterable[Secret] = ()) -> str:
    """Mask every credential of ``target`` that a server echoed back into ``text``.

    Servers do echo what they were sent (httpbin returns the bearer token it
    got), and whatever they send ends up in messages and reports.
    ``obtained`` adds the credentials fetched at run time.
    """
    for secret in _secret_texts(target, obtained):
        if secret and secret in text:
            text = text.replace(secret, "<redacted>")
    return text


def _secret_texts(target: Target, obtained: Iterable[Secret] = ()) -> list[str]:
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
    # Longest first, so a secret that contains another is masked whole.
    return sorted((t for t in texts if len(t) >= 4), key=len, reverse=True)

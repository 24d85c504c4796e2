"""Verdicts: judge one exchange against the requirement catalogue.

Each ``_check_*`` function looks at one property of the answer and returns
findings, each citing a requirement ID of ``data/requirements.yaml``. The
grade of a finding comes from the catalogue; a check raises it only where
the context makes a fault strictly worse, and says why in the message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from .cases import scheme_case_variant
from .catalogue import requirement
from .challenges import Challenge, ParseResult, parse_challenges
from .model import BasicCredential, Case, Exchange, Finding, Grade, Target, Verdict
from .stacktraces import find_stack_trace

# Kinds where the server must refuse with 401 and a challenge.
REFUSAL_KINDS = frozenset({"missing", "malformed", "wrong", "expired"})

# Variants that present no credentials of the target's scheme at all; RFC
# 6750 §3.1 treats them like a request without authentication.
NO_AUTH_VARIANTS = frozenset({"wrong-scheme", "no-scheme", "misplaced", "comma-only"})

# The hypothesis stream's case: anything from a broken token to another
# scheme, so the Bearer error attribute cannot be expected either way.
GENERATED_VARIANT = "generated"
# A generated value with a control character is not a valid field value
# (RFC 9110 §5.5): the HTTP layer may reject the message before any
# authentication, so a bare 400 is a fine answer to it.
INVALID_FIELD_VARIANT = "invalid-field"
_GENERATED = frozenset({GENERATED_VARIANT, INVALID_FIELD_VARIANT})

# Malformed variants that may be refused as too large (RFC 9110 §5.4).
_LARGE_VARIANTS = frozenset({"over-long", *_GENERATED})
# RFC 9110 §5.4 names no limit; 8 KiB is the smallest common one (nginx's
# default buffer), so only a value above it may be dropped without an answer.
LARGE_FIELD_BYTES = 8 * 1024
# Requests an HTTP server may refuse as a whole before any resource sees them.
_HEAD_REJECTED_VARIANTS = frozenset({"duplicate-header", *_LARGE_VARIANTS})

# What a 2xx to a JWT variant breaks.
_JWT_ACCEPTED = {
    "exp-passed": "R7519-EXP",
    "not-yet-valid": "R7519-NBF",
    "bad-signature": "R8725-VERIFY-ALL",
    "signature-stripped": "R8725-VERIFY-ALL",
    "tampered-claims": "R8725-VERIFY-ALL",
    "alg-none": "R8725-ALG-NONE",
    "foreign-issuer": "R8725-ISS",
    "wrong-audience": "R7519-AUD",
    "hs-rs-confusion": "R8725-ALG-CONFUSION",
}
_SCHEME_WORDS = {"bearer": "Bearer", "basic": "Basic", "digest": "Digest"}

_BEARER_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_token",
        "insufficient_scope",
        "insufficient_user_authentication",
        "invalid_dpop_proof",
        "use_dpop_nonce",
    }
)
_BEARER_ATTRIBUTES = ("realm", "scope", "error", "error_description", "error_uri")
_OVER_LONG_STATUSES = frozenset({400, 401, 413, 414, 431})


def finding(requirement_id: str, passed: bool, message: str, grade: Grade | None = None) -> Finding:
    """Make a finding graded as the catalogue says unless ``grade`` overrides it."""
    return Finding(requirement_id, passed, message, grade or requirement(requirement_id).grade)


def judge(
    target: Target,
    case: Case,
    exchange: Exchange,
    *,
    control_body: bytes | None = None,
    strict: bool = False,
) -> Verdict:
    """Judge the answer to ``case`` and return every finding with the outcome."""
    findings = list(_findings(target, case, exchange, control_body))
    findings = [_apply_waiver(target, f) for f in findings]
    return _verdict(findings, strict=strict)


def judge_no_answer(target: Target, case: Case, reason: str, *, dropped: bool, large: bool = False) -> Verdict | None:
    """Judge a probe that got no HTTP answer, where the catalogue allows that.

    A dropped connection (``dropped``: closed or reset, not a timeout) in
    answer to a really large header is only a warning (R9110-FIELD-TOO-LARGE):
    the over-long variant, or a generated value the caller found ``large``
    (above LARGE_FIELD_BYTES). Every other unanswered probe cannot be judged,
    which the caller reports as an error (returns None).
    """
    too_large = case.variant == "over-long" or (case.variant in _GENERATED and large)
    if case.kind == "malformed" and dropped and too_large:
        message = f"the server dropped the connection instead of answering a 4xx ({reason})"
        return _verdict([_apply_waiver(target, finding("R9110-FIELD-TOO-LARGE", False, message, "warn"))])
    return None


def _verdict(findings: Sequence[Finding], *, strict: bool = False) -> Verdict:
    failing = {"fail", "warn"} if strict else {"fail"}
    failed = any(not f.passed and not f.waived and f.grade in failing for f in findings)
    return Verdict("fail" if failed else "pass", tuple(findings))


def _apply_waiver(target: Target, item: Finding) -> Finding:
    reason = target.waive.get(item.requirement)
    return replace(item, waived=reason) if reason and not item.passed else item


def _findings(target: Target, case: Case, exchange: Exchange, control_body: bytes | None) -> Iterable[Finding]:
    parsed = parse_challenges(exchange.www_authenticate)
    yield from _check_not_proxy_status(exchange)

    if case.kind == "valid":
        yield from _check_control(target, case, exchange)
        if exchange.www_authenticate:
            yield from _check_challenge_syntax(exchange, parsed)
        return

    yield from _check_status(target, case, exchange, parsed)
    yield from _check_challenges(target, case, exchange, parsed)
    yield from _check_leak(target, exchange, control_body)
    yield from _check_explanation(exchange)
    yield from _check_no_stack_trace(exchange)


# --- status ------------------------------------------------------------------


def _check_control(target: Target, case: Case, exchange: Exchange) -> Iterable[Finding]:
    """Valid, privileged credentials get a 2xx, whatever the letter case of the scheme."""
    requirement_id = {
        "bearer": "R6750-HDR-SUPPORT",
        "basic": "R7617-CREDS-FORMAT",
        "digest": "R7616-CHALLENGE-PARAMS",
    }.get(target.scheme, "R9110-401-MEANS-REFUSED")
    what = "valid credentials"
    respelling = scheme_case_variant(case)
    if respelling is not None:
        # RFC 9110 §11.1: the auth-scheme is a case-insensitive token.
        requirement_id, what = "R9110-SCHEME-CASE", f"valid credentials with the scheme in {respelling.removesuffix('-scheme')}"
    elif _non_ascii_basic(target, case):
        # RFC 7617 §2.1: UTF-8 is the one charset defined for user-pass.
        requirement_id, what = "R7617-UTF8", "valid credentials with a non-ASCII user-pass sent as UTF-8"
    if 200 <= exchange.status < 300:
        yield finding(requirement_id, True, f"{what} got {exchange.status}")
    else:
        invalid = "" if 100 <= exchange.status <= 599 else " (not an HTTP status code: RFC 9110 §15 allows 100 to 599)"
        yield finding(requirement_id, False, f"{what} got {_status(exchange)}{invalid} instead of a 2xx", "fail")


def _non_ascii_basic(target: Target, case: Case) -> bool:
    credential = target.credentials.get(case.variant or "")
    if target.scheme != "basic" or not isinstance(credential, BasicCredential):
        return False
    return not (credential.username + credential.password.reveal()).isascii()


def _check_status(target: Target, case: Case, exchange: Exchange, parsed: ParseResult) -> Iterable[Finding]:
    """The status code is the one the case's kind calls for."""
    status = exchange.status
    if not 100 <= status <= 599:
        yield _invalid_status(case, exchange)
    elif 200 <= status < 300:
        yield _accepted(target, case, exchange)
    elif 300 <= status < 400:
        yield finding(
            "R9110-401-ON-FAILURE",
            False,
            f"redirected ({_status(exchange)} to {exchange.location or 'no Location'}) where "
            f"{'403' if case.kind == 'unprivileged' else '401'} is due; an API client that follows "
            "it gets a login page instead of a refusal it can act on",
            "fail",
        )
    elif status >= 500:
        yield finding(
            "R9110-NO-5XX",
            False,
            f"{_status(exchange)}: the server failed on a client's credential problem, which calls for a 4xx",
        )
    elif case.kind == "unprivileged":
        yield from _check_unprivileged_status(target, exchange)
    else:
        yield from _check_refusal_status(target, case, exchange, parsed)


def _invalid_status(case: Case, exchange: Exchange) -> Finding:
    """A status code outside 100-599, which RFC 9110 §15 says is invalid.

    The catalogue has no requirement for the status syntax itself, so the
    finding cites the one that names the status that was due, and says so.
    """
    due, requirement_id = ("403", "R9110-403-SEMANTICS") if case.kind == "unprivileged" else ("401", "R9110-401-ON-FAILURE")
    return finding(
        requirement_id,
        False,
        f"{_status(exchange)}: not an HTTP status code (RFC 9110 §15 allows 100 to 599), so no client can read "
        f"it as the {due} that is due; cited under {requirement_id}, the requirement for that {due}",
        # Worse than a wrong but valid status, which a client can still act on.
        "fail",
    )


def _accepted(target: Target, case: Case, exchange: Exchange) -> Finding:
    """A 2xx to a negative case: the endpoint let the request through."""
    bearer = target.scheme == "bearer"
    if case.variant in _JWT_ACCEPTED:
        what = f"a JWT broken as {case.id} ({_JWT_ACCEPTED[case.variant]})"
        return finding(_JWT_ACCEPTED[case.variant], False, f"the endpoint answered {_status(exchange)} to {what}: access was granted", "fail")
    if case.variant == INVALID_FIELD_VARIANT:
        return finding("R9110-FIELD-CTL", False, f"the endpoint answered {_status(exchange)} to a field value with a control character: access was granted", "fail")
    if case.variant == "duplicate-header":
        return finding("R9110-AUTHZ-SINGLETON", False, f"the endpoint answered {_status(exchange)} to two Authorization lines, neither of them valid: access was granted", "fail")
    malformed = {"bearer": "R6750-HDR-SYNTAX", "basic": "R7617-CREDS-FORMAT", "digest": "R7616-BAD-PARAMS"}
    requirement_id = {
        "unprivileged": "R6749-RS-VALIDATE" if bearer else "R9110-403-SEMANTICS",
        "expired": "R6750-TOKEN-LIFETIME" if bearer else "R9110-401-ON-FAILURE",
        "wrong": "R6749-RS-VALIDATE" if bearer else "R9110-401-ON-FAILURE",
        "malformed": malformed.get(target.scheme, "R9110-401-ON-FAILURE"),
        "missing": "R9110-401-ON-FAILURE",
    }[case.kind]
    what = "a request without the needed privilege" if case.kind == "unprivileged" else f"{case.kind} credentials"
    # A 2xx on a declared-protected endpoint is unauthorised access whatever
    # the level of the rule it breaks.
    return finding(requirement_id, False, f"the endpoint answered {_status(exchange)} to {what}: access was granted", "fail")


def _check_not_proxy_status(exchange: Exchange) -> Iterable[Finding]:
    """The API never answers 407, which only a proxy may send (RFC 9110 §15.5.8)."""
    if exchange.status != 407:
        return
    # The transport ignores proxy settings, so the 407 came from the server
    # at base_url itself. Proxy-Authenticate elsewhere is a proxy's business.
    field = "with" if exchange.header_values("Proxy-Authenticate") else "without"
    yield finding(
        "R9110-407-PROXY-ONLY",
        False,
        f"{_status(exchange)} {field} Proxy-Authenticate from the API itself: 407 asks the client to "
        "authenticate to a proxy, so it answers with Proxy-Authorization, which never reaches the API; "
        "the API's own refusal is 401 with WWW-Authenticate",
    )


def _check_unprivileged_status(target: Target, exchange: Exchange) -> Iterable[Finding]:
    """Valid credentials without the privilege get 403."""
    status = exchange.status
    if status == 403:
        yield finding("R9110-403-SEMANTICS", True, "refused with 403")
    elif status == 404:
        yield finding("R9110-404-HIDE", True, "404 instead of 403 (allowed to hide that the resource exists)")
    elif status == 401:
        requirement_id = "R6750-ERR-INSUFFICIENT-SCOPE" if target.scheme == "bearer" else "R9110-403-INADEQUATE"
        yield finding(requirement_id, False, "401 for valid credentials that lack the privilege; 403 says they were understood and are insufficient")
    else:
        yield finding("R9110-403-SEMANTICS", False, f"{_status(exchange)} for valid credentials that lack the privilege; expected 403")


def _check_refusal_status(target: Target, case: Case, exchange: Exchange, parsed: ParseResult) -> Iterable[Finding]:
    """Missing, malformed, wrong and expired credentials get 401 (400 where the RFC allows it)."""
    status = exchange.status
    if status == 401:
        yield finding("R9110-401-ON-FAILURE", True, "refused with 401")
        return
    if case.kind == "malformed" and case.variant in _LARGE_VARIANTS and status in (413, 414, 431):
        yield finding("R9110-FIELD-TOO-LARGE", True, f"{_status(exchange)} for an over-long credential")
        return
    if case.kind == "malformed" and case.variant == "over-long":
        passed = status in _OVER_LONG_STATUSES
        yield finding("R9110-FIELD-TOO-LARGE", passed, f"{_status(exchange)} for an over-long credential", None if passed else "fail")
        return
    if case.kind == "malformed" and status == 400 and case.variant == INVALID_FIELD_VARIANT:
        yield finding("R9110-FIELD-CTL", True, "400 for a field value with a control character: the message was rejected")
        return
    if case.kind == "malformed" and status == 400:
        yield finding("R9110-400-SYNTAX", True, "400 for a malformed credential")
        return

    has_challenge = bool(_usable_challenges(target, parsed))
    if case.kind == "malformed":
        # A broken credential is a client error: 401 or 400, never 403/422.
        yield finding("R9110-401-ON-FAILURE", False, f"{_status(exchange)} for a malformed credential; expected 401 or 400", "fail")
    elif has_challenge:
        yield finding(
            "R9110-401-ON-FAILURE",
            False,
            f"{_status(exchange)} instead of 401 for {case.kind} credentials (it does carry a challenge)",
        )
    else:
        yield finding(
            "R9110-401-ON-FAILURE",
            False,
            f"{_status(exchange)} instead of 401 for {case.kind} credentials, and no challenge: "
            "the client cannot tell that it should authenticate, nor how",
            "fail",
        )


# --- challenges --------------------------------------------------------------


def _usable_challenges(target: Target, parsed: ParseResult) -> tuple[Challenge, ...]:
    """Challenges a client of this target could answer, for any scheme it accepts."""
    if any(scheme in ("api_key", "cookie") for scheme in target.schemes):
        # No challenge scheme is registered for API keys or session cookies: any will do.
        return parsed.challenges
    return tuple(c for scheme in target.schemes for c in parsed.find(scheme))


def _challenge_required(target: Target, case: Case, exchange: Exchange) -> bool:
    if exchange.status == 401:
        return True
    if case.variant in _HEAD_REJECTED_VARIANTS and exchange.status == 400 and not exchange.www_authenticate:
        # A server that refuses the request head itself (too large, bytes it
        # cannot parse, two lines of a singleton field) never reaches the
        # protected resource, so RFC 6750 §3 does not apply; nginx and
        # uvicorn answer such heads with a bare 400. A 400 that carries a
        # challenge came from the resource, and is judged as such.
        return False
    # RFC 6750 §3: a Bearer resource sends the header whatever the status
    # when the token does not grant access.
    return target.scheme == "bearer" and 400 <= exchange.status < 500 and exchange.status not in (404, 413, 414, 431)


def _check_challenges(target: Target, case: Case, exchange: Exchange, parsed: ParseResult) -> Iterable[Finding]:
    """A refusal carries a well-formed challenge for the target's scheme."""
    required = _challenge_required(target, case, exchange)
    if not exchange.www_authenticate and not required:
        return

    yield from _check_challenge_syntax(exchange, parsed)
    usable = _usable_challenges(target, parsed)
    if required:
        yield from _check_challenge_present(target, exchange, parsed, usable)

    for challenge in parsed.challenges:
        yield from _check_realm_quoted(challenge)
    for challenge in usable:
        if challenge.scheme_lower == "basic":
            yield from _check_basic_challenge(challenge)
        elif challenge.scheme_lower == "digest":
            yield from _check_digest_challenge(challenge)
        elif challenge.scheme_lower == "bearer" and target.scheme == "bearer":
            yield from _check_bearer_challenge(case, exchange, challenge)


def _check_challenge_syntax(exchange: Exchange, parsed: ParseResult) -> Iterable[Finding]:
    """Every WWW-Authenticate line parses under RFC 9110 §11 and §5.6."""
    for fault in parsed.faults:
        where = f"WWW-Authenticate line {fault.line + 1}, offset {fault.position}: {fault.message}"
        if fault.fatal and exchange.status != 401:
            # RFC 9110 §11.6.1: outside a 401 the field is an optional hint,
            # so an unreadable one is noted; a Bearer refusal that needed a
            # challenge fails R6750-WWWA-REQUIRED in _check_challenge_present.
            message = f"{where} (the field is optional on a {exchange.status}, but a client cannot read this one)"
            yield finding("R9110-WWWA-NON-401", False, message)
        else:
            yield finding(fault.requirement, False, where)


def _check_challenge_present(
    target: Target, exchange: Exchange, parsed: ParseResult, usable: Sequence[Challenge]
) -> Iterable[Finding]:
    """A 401 (or, for Bearer, any refusal) includes a challenge for the scheme in use."""
    lines = exchange.www_authenticate
    requirement_id = "R9110-401-CHALLENGE" if exchange.status == 401 else "R6750-WWWA-REQUIRED"
    if not lines:
        message = f"{_status(exchange)} without a WWW-Authenticate header"
        if target.scheme in ("api_key", "cookie"):
            # No IANA scheme exists for API keys or session cookies, which
            # excuses nothing: RFC 9110 §11.6.1 lets any scheme token stand.
            message += (
                f"; no challenge scheme is registered for {target.scheme.replace('_', ' ')}s, "
                "but any token will do, such as 'WWW-Authenticate: APIKey realm=\"api\"'"
            )
        yield finding(requirement_id, False, message)
    elif not parsed.challenges:
        yield finding(requirement_id, False, f"{_status(exchange)} whose WWW-Authenticate holds no readable challenge: {lines!r}")
    elif not usable:
        offered = ", ".join(c.scheme for c in parsed.challenges)
        wanted = " or ".join(_SCHEME_WORDS[s] for s in target.schemes if s in _SCHEME_WORDS)
        scheme_requirement = "R6750-SCHEME" if target.scheme == "bearer" else requirement_id
        yield finding(scheme_requirement, False, f"the challenges offer {offered} but not {wanted}, the scheme this API uses")
    else:
        yield finding(requirement_id, True, f"challenge for {usable[0].scheme} present")


def _check_realm_quoted(challenge: Challenge) -> Iterable[Finding]:
    """``realm`` is always a quoted-string (RFC 9110 §11.5)."""
    for param in challenge.params:
        if param.name.lower() == "realm" and not param.quoted:
            yield finding("R9110-REALM-QUOTED", False, f"{challenge.scheme} realm={param.value} is not a quoted-string")


def _check_basic_challenge(challenge: Challenge) -> Iterable[Finding]:
    """A Basic challenge has a realm and, if any, the charset UTF-8 (RFC 7617 §2)."""
    if challenge.param("realm") is None:
        yield finding("R7617-REALM", False, "the Basic challenge has no realm parameter")
    charset = challenge.param("charset")
    if charset is not None and charset.lower() != "utf-8":
        yield finding("R7617-CHARSET", False, f"charset={charset!r}; the only value RFC 7617 allows is UTF-8")


def _check_digest_challenge(challenge: Challenge) -> Iterable[Finding]:
    """A Digest challenge has realm, nonce and qop (RFC 7616 §3.3)."""
    absent = [name for name in ("realm", "nonce", "qop") if challenge.param(name) is None]
    if absent:
        yield finding("R7616-CHALLENGE-PARAMS", False, f"the Digest challenge lacks {', '.join(absent)}")


def _check_bearer_challenge(case: Case, exchange: Exchange, challenge: Challenge) -> Iterable[Finding]:
    """A Bearer challenge follows RFC 6750 §3 for the kind of request it answers."""
    if not challenge.params:
        yield finding("R6750-PARAM-REQUIRED", False, "bare 'Bearer' challenge without any auth-param")

    names = [p.name.lower() for p in challenge.params]
    for attribute in _BEARER_ATTRIBUTES:
        if names.count(attribute) > 1:
            yield finding("R6750-ATTR-ONCE", False, f"the Bearer challenge repeats {attribute}")
    yield from _check_bearer_charset(challenge)

    error = challenge.param("error")
    if error is not None and error not in _BEARER_ERRORS:
        yield finding("R6750-ERROR-VALUES", False, f"error={error!r} is not a registered Bearer error code (they are case-sensitive)")

    if case.variant in _GENERATED:
        return
    presented = case.kind != "missing" and case.variant not in NO_AUTH_VARIANTS
    if not presented:
        if any(challenge.param(name) is not None for name in ("error", "error_description", "error_uri")):
            yield finding("R6750-NO-ERROR-IF-NO-AUTH", False, f"error details (error={error!r}) on a request that carried no Bearer token")
        return

    if case.kind == "unprivileged":
        if exchange.status == 403 and error != "insufficient_scope":
            yield finding("R6750-ERR-INSUFFICIENT-SCOPE", False, f"403 whose Bearer challenge has error={error!r}, not insufficient_scope")
        return

    if error is None:
        yield finding("R6750-ERROR-ON-FAILURE", False, f"the Bearer challenge does not say why the {case.kind} token failed (no error attribute)")
    elif exchange.status == 400 and error != "invalid_request":
        yield finding("R6750-ERR-INVALID-REQUEST", False, f"400 goes with error=\"invalid_request\", got error={error!r}")
    elif exchange.status == 401 and error == "invalid_request":
        yield finding("R6750-ERR-INVALID-REQUEST", False, "error=\"invalid_request\" goes with 400, not 401")
    elif case.kind in ("wrong", "expired") and error != "invalid_token":
        yield finding("R6750-ERR-INVALID-TOKEN", False, f"{_article(case.kind)} {case.kind} token calls for error=\"invalid_token\", got {error!r}")


def _check_bearer_charset(challenge: Challenge) -> Iterable[Finding]:
    """error, error_description and scope hold only the characters RFC 6750 §3 allows."""
    for param in challenge.params:
        name = param.name.lower()
        if name not in ("error", "error_description", "scope", "error_uri"):
            continue
        bad = [c for c in param.value if not (0x20 <= ord(c) <= 0x7E) or c in '"\\']
        if name == "scope" and ("  " in param.value or param.value != param.value.strip()):
            bad.append(" ")
        if bad:
            yield finding("R6750-ATTR-CHARSET", False, f"{name} holds characters RFC 6750 §3 forbids: {''.join(sorted(set(bad)))!r}")


# --- bodies ------------------------------------------------------------------


def _check_leak(target: Target, exchange: Exchange, control_body: bytes | None) -> Iterable[Finding]:
    """A refusal does not carry the protected data the control response returned."""
    if 200 <= exchange.status < 300:
        return  # access itself is the fault, reported by the status check
    body = exchange.body
    if target.leak_marker and target.leak_marker.encode() in body:
        yield finding("R6749-RS-VALIDATE", False, f"the {_status(exchange)} body contains the leak marker {target.leak_marker!r}: protected data was sent to an unauthorised client")
    elif control_body and len(control_body) >= 32 and control_body in body:
        yield finding("R6749-RS-VALIDATE", False, f"the {_status(exchange)} body contains the whole body of the valid response: protected data was sent to an unauthorised client")


def _check_explanation(exchange: Exchange) -> Iterable[Finding]:
    """A 4xx carries some explanation (RFC 9110 §15.5)."""
    if 400 <= exchange.status < 500 and not exchange.body.strip():
        yield finding("R9110-4XX-BODY", False, f"{_status(exchange)} with an empty body; a short explanation helps the client")


def _check_no_stack_trace(exchange: Exchange) -> Iterable[Finding]:
    """An error body shows no stack trace (a hygiene rule, CWE-209)."""
    if exchange.status < 400:
        return
    evidence = find_stack_trace(exchange.body)
    if evidence is not None:
        yield finding(
            "HYG-NO-STACK-TRACE",
            False,
            f"the {_status(exchange)} body holds a {evidence.language} stack trace ({evidence.line!r}), "
            "which shows the server's code, libraries and file layout",
        )


def _article(word: str) -> str:
    # Case kinds are plain English words; only "expired" starts with a vowel sound.
    return "an" if word[:1] in "aeiou" else "a"


def _status(exchange: Exchange) -> str:
    return f"{exchange.status} {exchange.reason}".strip()

"""Case generation: which requests to send to each endpoint, and what each must get.

For every endpoint of a target the suite sends, in this order:

=====================  ==========================================  ===========================
case                   sent                                        expected
=====================  ==========================================  ===========================
valid:<role>           that role's credential                      2xx (the control)
valid:<role>:<case>    the control's credential, scheme spelled    2xx
                       in lower or upper case
unprivileged:<role>    a role the endpoint does not allow          403
missing                no credentials                              401 + challenge
malformed:<variant>    a broken credential for the scheme          401 + challenge (or 400)
wrong:<variant>        a well-formed credential nobody holds       401 + challenge
wrong:<name>           a credential the target declares invalid    401 + challenge
expired                the target's expired credential             401 + challenge
expired:<variant>      a JWT minted outside its validity window    401 + challenge
=====================  ==========================================  ===========================

The variants of each scheme, and the JWT ones, are in ``variants.py``.

Case IDs come from the target's data only, never from random draws, so
every pytest-xdist worker collects the same tests. The random parts of a
credential are drawn when the probe is built, at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from urllib.parse import quote

from . import variants
from .model import (
    AUTHORIZATION_SCHEMES,
    BasicCredential,
    Case,
    Endpoint,
    Presentable,
    Probe,
    Secret,
    Target,
)
from .variants import OVER_LONG_SIZE, Material, basic_value

__all__ = [
    "GENERATED",
    "SCHEME_CASE_VARIANTS",
    "OVER_LONG_SIZE",
    "MissingCredential",
    "build_probe",
    "control_case",
    "expected_answer",
    "generate_cases",
    "generated_cases",
    "scheme_case_variant",
]

GENERATED = "generated"

# RFC 9110 §11.1: the auth-scheme is a case-insensitive token, so `bearer` and
# `BASIC` must work as well as `Bearer` and `Basic`.
SCHEME_CASE_VARIANTS: dict[str, Callable[[str], str]] = {
    "lowercase-scheme": str.lower,
    "uppercase-scheme": str.upper,
}
_SCHEME_CASE_SCHEMES = frozenset({"bearer", "basic"})

_SCHEME_WORD = {"bearer": "Bearer", "basic": "Basic", "digest": "Digest"}


def generate_cases(target: Target) -> list[Case]:
    """List every case for every endpoint of ``target``, in run order."""
    cases: list[Case] = []
    for endpoint in target.endpoints:
        cases.extend(_endpoint_cases(target, endpoint))
    return cases


def _endpoint_cases(target: Target, endpoint: Endpoint) -> list[Case]:
    name = target.name
    allowed = target.allowed_roles(endpoint)
    cases = [Case(name, endpoint, "valid", role) for role in allowed]
    if allowed and target.scheme in _SCHEME_CASE_SCHEMES:
        cases += [Case(name, endpoint, "valid", f"{allowed[0]}:{v}") for v in SCHEME_CASE_VARIANTS]
    cases += [
        Case(name, endpoint, "unprivileged", role)
        for role in target.roles
        if not endpoint.allows(role)
    ]
    cases.append(Case(name, endpoint, "missing"))
    cases += [Case(name, endpoint, "malformed", v) for v in variants.malformed_variants(target)]
    cases += [Case(name, endpoint, "wrong", v) for v in variants.wrong_variants(target)]
    cases += [Case(name, endpoint, "expired", v) for v in variants.expired_variants(target)]
    return cases


def generated_cases(target: Target) -> list[Case]:
    """The ``malformed:generated`` case of each endpoint whose scheme uses Authorization.

    Each is one hypothesis stream of broken values (see ``fuzz.py``), run by
    its own suite test.
    """
    if target.scheme not in AUTHORIZATION_SCHEMES:
        return []
    return [Case(target.name, endpoint, "malformed", GENERATED) for endpoint in target.endpoints]


def scheme_case_variant(case: Case) -> str | None:
    """The scheme spelling a valid case tries (``lowercase-scheme``), or None for a plain one.

    >>> scheme_case_variant(Case("api", Endpoint("GET", "/p"), "valid", "bob:lowercase-scheme"))
    'lowercase-scheme'
    """
    if case.kind != "valid" or case.variant is None:
        return None
    respelling = case.variant.partition(":")[2]
    return respelling or None


def control_case(target: Target, endpoint: Endpoint) -> Case | None:
    """The case whose 2xx makes the endpoint's negative verdicts meaningful.

    It is the valid case of the first role (in file order) the endpoint allows.
    """
    allowed = target.allowed_roles(endpoint)
    return Case(target.name, endpoint, "valid", allowed[0]) if allowed else None


def expected_answer(target: Target, case: Case) -> str:
    """What a conformant API answers to ``case``, in words for reports."""
    challenge = _challenge_words(target)
    if case.kind == "valid":
        return "2xx"
    if case.kind == "unprivileged":
        return "403" + (" with a Bearer challenge" if target.scheme == "bearer" else "")
    if case.kind == "malformed" and case.variant in ("over-long", GENERATED):
        return f"a 4xx (401 with {challenge}, 400, 413, 414 or 431)"
    if case.kind == "malformed":
        return f"401 with {challenge} (or 400)"
    return f"401 with {challenge}"


def _challenge_words(target: Target) -> str:
    words = [_SCHEME_WORD[s] for s in target.schemes if s in _SCHEME_WORD]
    if not words or target.scheme not in _SCHEME_WORD:
        return "a WWW-Authenticate challenge"
    return f"a {' or '.join(words)} challenge"


class MissingCredential(Exception):
    """The case needs a credential the target does not provide; it is skipped."""


def build_probe(target: Target, case: Case, credentials: Mapping[str, Presentable] | None = None) -> Probe:
    """Build the request for ``case``; secrets appear only in the headers sent.

    ``credentials`` maps roles to what they present; it defaults to the
    target's own, which must then all be static. Raises MissingCredential
    when the target lacks what the case needs (an ``expired`` case without
    an expired credential, a JWT variant without the signing key).
    """
    credentials = _static(target) if credentials is None else credentials
    url = target.base_url + case.endpoint.path
    method = case.endpoint.method

    if case.kind == "missing":
        return Probe(method, url, sent="no credentials")
    if case.kind in ("valid", "unprivileged"):
        assert case.variant is not None
        role = case.variant.partition(":")[0]
        probe = _with_credential(target, method, url, credentials[role], f"{role}'s credential")
        respelling = scheme_case_variant(case)
        return probe if respelling is None else _respelled(probe, SCHEME_CASE_VARIANTS[respelling])
    if case.kind == "expired" and case.variant is None:
        if target.expired is None:
            raise MissingCredential(
                f"target {target.name!r} has no `expired` credential in its targets file; "
                "add one to test that expired credentials are refused"
            )
        return _with_credential(target, method, url, target.expired, "the expired credential")
    declared = target.invalid.get(case.variant or "") if case.kind == "wrong" else None
    if declared is not None:
        return _with_credential(target, method, url, declared, f"the declared invalid credential {case.variant!r}")

    assert case.variant is not None
    try:
        broken = variants.build(case.kind, case.variant, _material(target, case.endpoint, credentials))
    except variants.Unavailable as exc:
        raise MissingCredential(str(exc)) from exc
    if broken.digest is not None:
        return Probe(method, url, sent=f"Digest: {broken.description}", digest=broken.digest)
    probe = _with_raw(target, method, url, broken.raw, broken.description, broken.name)
    further = tuple((probe.headers[0][0], value) for value in broken.extra)
    return replace(probe, headers=probe.headers + further) if further else probe


def _static(target: Target) -> dict[str, Presentable]:
    static = {role: c for role, c in target.credentials.items() if isinstance(c, (Secret, BasicCredential))}
    if len(static) != len(target.credentials):
        raise TypeError("credentials obtained at run time must be acquired first (see conformance.credentials)")
    return static


def _material(target: Target, endpoint: Endpoint, credentials: Mapping[str, Presentable]) -> Material:
    """The valid credentials a variant of ``endpoint`` may be derived from."""
    allowed = target.allowed_roles(endpoint)
    model_role = allowed[0] if allowed else (target.roles[0] if target.roles else None)
    others = [role for role in target.roles if role != model_role]
    return Material(target, credentials, model_role, others[0] if others else None)


def _with_credential(target: Target, method: str, url: str, credential: Presentable, whose: str) -> Probe:
    if isinstance(credential, BasicCredential) and target.scheme == "digest":
        return Probe(method, url, sent=f"Digest {whose} ({credential.username})", digest=credential)
    if isinstance(credential, BasicCredential):
        value = basic_value(credential.username, credential.password.reveal())
        return _with_raw(target, method, url, value, f"Basic {whose} ({credential.username})")
    token = credential.reveal()
    if target.scheme == "bearer":
        return _with_raw(target, method, url, f"Bearer {token}", f"Bearer {whose} {credential.mask()}")
    return _with_raw(target, method, url, token, f"{whose} {credential.mask()}")


def _respelled(probe: Probe, spell: Callable[[str], str]) -> Probe:
    """The same probe with the scheme word of its Authorization line respelled: ``Bearer x`` → ``bearer x``."""
    headers, sent = [], probe.sent
    for name, value in probe.headers:
        if name.lower() == "authorization":
            word, space, rest = value.partition(" ")
            value = spell(word) + space + rest
            sent = f"Authorization: {probe.sent.removeprefix('Authorization: ')}, the scheme spelled {spell(word)!r}"
        headers.append((name, value))
    return replace(probe, headers=tuple(headers), sent=sent)


def _with_raw(target: Target, method: str, url: str, raw: str, description: str, name: str | None = None) -> Probe:
    """Place a ready credential string where the target's scheme carries it.

    For Authorization schemes ``raw`` is the whole field value (scheme
    included, since some variants break the scheme itself); for API keys
    and cookies it is the key. ``name`` sends it under another name.
    """
    if target.scheme not in ("api_key", "cookie"):
        header = name or "Authorization"
        return Probe(method, url, headers=((header, raw),), sent=f"{header}: {description}")

    placement = target.api_key
    assert placement is not None, "api_key and cookie targets always have a placement"
    field = name or placement.name
    sent = f"{placement.location} {field}: {description}"
    if placement.location == "header":
        return Probe(method, url, headers=((field, raw),), sent=sent)
    if placement.location == "query":
        return Probe(method, url, params=((field, raw),), sent=sent)
    return Probe(method, url, cookies=((field, quote(raw, safe="")),), sent=sent)

"""Case generation: which requests to send to each endpoint, and what each must get.

For every endpoint of a target the suite sends, in this order:

=====================  ==========================================  ===========================
case                   sent                                        expected
=====================  ==========================================  ===========================
valid:<role>           that role's credential                      2xx (the control)
unprivileged:<role>    a role the endpoint does not allow          403
missing                no credentials                              401 + challenge
malformed:<variant>    a broken credential for the scheme          401 + challenge (or 400)
wrong:<variant>        a well-formed credential nobody holds       401 + challenge
expired                the target's expired credential             401 + challenge
=====================  ==========================================  ===========================

Case IDs come from the target's data only, never from random draws, so
every pytest-xdist worker collects the same tests. The random parts of a
credential are drawn when the probe is built, at run time.
"""

from __future__ import annotations

import base64
import secrets
import string
from collections.abc import Callable
from urllib.parse import quote

from .model import (
    BasicCredential,
    Case,
    Credential,
    Endpoint,
    Probe,
    Scheme,
    Secret,
    Target,
)

# RFC 9110 §5.4 asks for a 4xx when a field is larger than the server takes;
# 64 KiB is past every common server's limit.
OVER_LONG_SIZE = 64 * 1024

_TOKEN_ALPHABET = string.ascii_letters + string.digits + "-._~+/"
_SCHEME_WORD = {"bearer": "Bearer", "basic": "Basic"}


def generate_cases(target: Target) -> list[Case]:
    """List every case for every endpoint of ``target``, in run order."""
    cases: list[Case] = []
    for endpoint in target.endpoints:
        cases.extend(_endpoint_cases(target, endpoint))
    return cases


def _endpoint_cases(target: Target, endpoint: Endpoint) -> list[Case]:
    name = target.name
    cases = [Case(name, endpoint, "valid", role) for role in target.allowed_roles(endpoint)]
    cases += [
        Case(name, endpoint, "unprivileged", role)
        for role in target.roles
        if not endpoint.allows(role)
    ]
    cases.append(Case(name, endpoint, "missing"))
    cases += [Case(name, endpoint, "malformed", v) for v in malformed_variants(target.scheme)]
    cases += [Case(name, endpoint, "wrong", v) for v in wrong_variants(target.scheme)]
    cases.append(Case(name, endpoint, "expired"))
    return cases


def control_case(target: Target, endpoint: Endpoint) -> Case | None:
    """The case whose 2xx makes the endpoint's negative verdicts meaningful.

    It is the valid case of the first role (in file order) the endpoint allows.
    """
    allowed = target.allowed_roles(endpoint)
    return Case(target.name, endpoint, "valid", allowed[0]) if allowed else None


def malformed_variants(scheme: Scheme) -> tuple[str, ...]:
    """The named broken credentials sent for ``scheme``."""
    return tuple(_MALFORMED[scheme])


def wrong_variants(scheme: Scheme) -> tuple[str, ...]:
    """The named well-formed but wrong credentials sent for ``scheme``."""
    return tuple(_WRONG[scheme])


def expected_answer(target: Target, case: Case) -> str:
    """What a conformant API answers to ``case``, in words for reports."""
    challenge = _challenge_words(target)
    if case.kind == "valid":
        return "2xx"
    if case.kind == "unprivileged":
        return "403" + (" with a Bearer challenge" if target.scheme == "bearer" else "")
    if case.kind == "malformed" and case.variant == "over-long":
        return f"a 4xx (401 with {challenge}, 400, 413, 414 or 431)"
    if case.kind == "malformed":
        return f"401 with {challenge} (or 400)"
    return f"401 with {challenge}"


def _challenge_words(target: Target) -> str:
    if target.scheme == "api_key":
        return "a WWW-Authenticate challenge"
    return f"a {_SCHEME_WORD[target.scheme]} challenge"


class MissingCredential(Exception):
    """The case needs a credential the target does not provide; it is skipped."""


def build_probe(target: Target, case: Case) -> Probe:
    """Build the request for ``case``; secrets appear only in the headers sent.

    Raises MissingCredential when the target lacks what the case needs (an
    ``expired`` case without an expired credential).
    """
    url = target.base_url + case.endpoint.path
    method = case.endpoint.method

    if case.kind == "missing":
        return Probe(method, url, sent="no credentials")
    if case.kind in ("valid", "unprivileged"):
        assert case.variant is not None
        credential = target.credentials[case.variant]
        return _with_credential(target, method, url, credential, f"{case.variant}'s credential")
    if case.kind == "expired":
        if target.expired is None:
            raise MissingCredential(
                f"target {target.name!r} has no `expired` credential in its targets file; "
                "add one to test that expired credentials are refused"
            )
        return _with_credential(target, method, url, target.expired, "the expired credential")

    assert case.variant is not None
    table = _MALFORMED if case.kind == "malformed" else _WRONG
    raw, description = table[target.scheme][case.variant](target)
    return _with_raw(target, method, url, raw, description)


def _with_credential(target: Target, method: str, url: str, credential: Credential, whose: str) -> Probe:
    if isinstance(credential, BasicCredential):
        value = _basic_value(credential.username, credential.password.reveal())
        return _with_raw(target, method, url, value, f"Basic {whose} ({credential.username})")
    token = credential.reveal()
    if target.scheme == "bearer":
        return _with_raw(target, method, url, f"Bearer {token}", f"Bearer {whose} {credential.mask()}")
    return _with_raw(target, method, url, token, f"{whose} {credential.mask()}")


def _with_raw(target: Target, method: str, url: str, raw: str, description: str) -> Probe:
    """Place a ready credential string where the target's scheme carries it.

    For bearer and basic ``raw`` is the whole Authorization value (scheme
    included, since some variants break the scheme itself); for API keys
    it is the key.
    """
    if target.scheme != "api_key":
        return Probe(method, url, headers=(("Authorization", raw),), sent=f"Authorization: {description}")

    placement = target.api_key
    assert placement is not None, "an api_key target always has a placement"
    sent = f"{placement.location} {placement.name}: {description}"
    if placement.location == "header":
        return Probe(method, url, headers=((placement.name, raw),), sent=sent)
    if placement.location == "query":
        return Probe(method, url, params=((placement.name, raw),), sent=sent)
    return Probe(method, url, cookies=((placement.name, quote(raw, safe="")),), sent=sent)


def _basic_value(username: str, password: str) -> str:
    # RFC 7617 §2.1: user-pass is sent as UTF-8 when the server says charset="UTF-8";
    # UTF-8 is also what every current server expects.
    pair = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _random_token(length: int, alphabet: str = _TOKEN_ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(max(length, 8)))


def _first_secret(target: Target) -> Secret | None:
    for credential in target.credentials.values():
        if isinstance(credential, Secret):
            return credential
    return None


def _same_shape_token(target: Target) -> str:
    """A random token with the length and alphabet of the target's first real one."""
    model = _first_secret(target)
    if model is None:
        return _random_token(32)
    value = model.reveal()
    alphabet = "".join(sorted({c for c in value if c in _TOKEN_ALPHABET})) or _TOKEN_ALPHABET
    if len(alphabet) < 8:
        alphabet = _TOKEN_ALPHABET
    candidate = _random_token(len(value), alphabet)
    # A collision is astronomically unlikely, but a "wrong" token must never be real.
    while any(isinstance(c, Secret) and c.reveal() == candidate for c in target.credentials.values()):
        candidate = _random_token(len(value), alphabet)
    return candidate


def _first_username(target: Target) -> str:
    for credential in target.credentials.values():
        if isinstance(credential, BasicCredential):
            return credential.username
    return "user"


Variant = Callable[[Target], tuple[str, str]]
"""Build (raw credential, masked description) for one named variant."""

_MALFORMED: dict[Scheme, dict[str, Variant]] = {
    "bearer": {
        "empty": lambda t: ("Bearer ", "'Bearer ' with an empty token"),
        "scheme-only": lambda t: ("Bearer", "'Bearer' with no token"),
        "wrong-scheme": lambda t: (
            _basic_value("user", "password"),
            "a Basic credential where Bearer is expected",
        ),
        "no-scheme": lambda t: (_same_shape_token(t), "a random token with no scheme word"),
        "garbage": lambda t: ('Bearer not,a "token"', "'Bearer' followed by text that is not a token68"),
        "over-long": lambda t: (
            "Bearer " + "A" * OVER_LONG_SIZE,
            f"'Bearer' followed by a {OVER_LONG_SIZE // 1024} KiB token",
        ),
    },
    "basic": {
        "empty": lambda t: ("Basic ", "'Basic ' with nothing after it"),
        "scheme-only": lambda t: ("Basic", "'Basic' with no credentials"),
        "wrong-scheme": lambda t: ("Bearer " + _random_token(32), "a Bearer token where Basic is expected"),
        "bad-base64": lambda t: ("Basic !!not*base64%%", "'Basic' followed by text that is not base64"),
        "no-colon": lambda t: (
            "Basic " + base64.b64encode(_first_username(t).encode()).decode("ascii"),
            "base64 of a user name with no colon and no password",
        ),
        "garbage": lambda t: ('Basic not,a "token"', "'Basic' followed by text that is not a token68"),
        "over-long": lambda t: (
            "Basic " + "QUFB" * (OVER_LONG_SIZE // 4),
            f"'Basic' followed by {OVER_LONG_SIZE // 1024} KiB of base64",
        ),
    },
    "api_key": {
        "empty": lambda t: ("", "an empty key"),
        "garbage": lambda t: ('not a "key",', "text that cannot be a key"),
        "over-long": lambda t: ("A" * OVER_LONG_SIZE, f"a {OVER_LONG_SIZE // 1024} KiB key"),
    },
}

_WRONG: dict[Scheme, dict[str, Variant]] = {
    "bearer": {
        "random-token": lambda t: (
            "Bearer " + _same_shape_token(t),
            "a random token of the same length and alphabet as a real one",
        ),
    },
    "basic": {
        "wrong-password": lambda t: (
            _basic_value(_first_username(t), _random_token(16)),
            f"a known user ({_first_username(t)}) with a random password",
        ),
        "unknown-user": lambda t: (
            _basic_value("nobody-" + _random_token(8, string.ascii_lowercase), _random_token(16)),
            "a user name nobody has, with a random password",
        ),
    },
    "api_key": {
        "random-key": lambda t: (_same_shape_token(t), "a random key of the same length and alphabet"),
    },
}

"""The named broken credentials of each scheme: what ``malformed:<v>``, ``wrong:<v>`` and ``expired:<v>`` send.

Every variant is derived from what a valid client has: the endpoint's valid
credential (the *model*) and, for ``misplaced``, another role's. Which
variants a target gets depends on its description only (scheme, ``jwt``),
never on a fetched value, so that every pytest-xdist worker collects the
same tests; what a variant needs at run time and lacks makes it a skip.
"""

from __future__ import annotations

import base64
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from . import jwts
from .model import BasicCredential, Presentable, Scheme, Secret, Target

# RFC 9110 §5.4 asks for a 4xx when a field is larger than the server takes;
# 64 KiB is past every common server's limit.
OVER_LONG_SIZE = 64 * 1024

TOKEN_ALPHABET = string.ascii_letters + string.digits + "-._~+/"

# Names an API does not read its credential from, for ``misplaced``.
_OTHER_NAMES = ("X-Auth-Token", "X-API-Key", "api_key", "token")


class Unavailable(Exception):
    """The variant needs something the target lacks at run time; the case is skipped."""


@dataclass(frozen=True)
class Material:
    """What a variant is derived from: the target and valid credentials of the endpoint.

    ``model_role`` is the endpoint's control role, ``other_role`` another
    one; their credentials are looked up only when a variant asks, since
    looking one up may mean logging in.
    """

    target: Target
    credentials: Mapping[str, Presentable] = field(default_factory=dict)
    model_role: str | None = None
    other_role: str | None = None

    @property
    def model(self) -> Presentable | None:
        """The valid credential of the endpoint's control role."""
        return self.credentials[self.model_role] if self.model_role else None

    @property
    def other(self) -> Presentable | None:
        """The valid credential of a role other than the control role, if any."""
        return self.credentials[self.other_role] if self.other_role else None


@dataclass(frozen=True)
class Broken:
    """A variant's credential and how messages describe it (never the value itself).

    ``name`` sends ``raw`` under another header, parameter or cookie name
    than the scheme's; ``digest`` has the transport answer a Digest
    challenge with these credentials instead; ``extra`` values go out as
    further lines of the same header field.
    """

    raw: str
    description: str
    name: str | None = None
    digest: BasicCredential | None = None
    extra: tuple[str, ...] = ()


Variant = Callable[[Material], Broken]


def malformed_variants(target: Target) -> tuple[str, ...]:
    """The named broken credentials sent for ``target``'s scheme."""
    return tuple(MALFORMED[target.scheme])


def wrong_variants(target: Target) -> tuple[str, ...]:
    """The named well-formed but wrong credentials sent for ``target``.

    The suite's own come first, then the ones the target declares under
    ``invalid`` (a token for a role the API does not know, say), which
    ``cases.build_probe`` sends as they are.
    """
    return (*builtin_wrong_variants(target), *target.invalid)


def builtin_wrong_variants(target: Target) -> tuple[str, ...]:
    """The wrong credentials the suite derives itself for ``target``'s scheme."""
    names = tuple(WRONG[target.scheme])
    if target.jwt is not None:
        names += jwts.wrong_variants(target.jwt)
    return names


def expired_variants(target: Target) -> tuple[str | None, ...]:
    """``None`` for the target's own expired credential, then the minted ones."""
    minted = jwts.EXPIRED_VARIANTS if target.jwt is not None else ()
    return (None, *minted)


def build(kind: str, variant: str, material: Material) -> Broken:
    """Build the credential of one named variant, or raise Unavailable."""
    target = material.target
    if target.jwt is not None and variant in (*jwts.EXPIRED_VARIANTS, *jwts.wrong_variants(target.jwt)):
        return _jwt_variant(variant, material)
    table = MALFORMED if kind == "malformed" else WRONG
    return table[target.scheme][variant](material)


def _jwt_variant(variant: str, material: Material) -> Broken:
    settings = material.target.jwt
    assert settings is not None
    if not isinstance(material.model, Secret):
        raise Unavailable("JWT variants need a role whose credential is a token")
    try:
        token, description = jwts.mint(variant, material.model.reveal(), settings)
    except jwts.JwtUnavailable as exc:
        raise Unavailable(str(exc)) from exc
    return Broken(_with_scheme(material.target, token), description)


def basic_value(username: str, password: str, encoding: str = "utf-8") -> str:
    """The Authorization value for Basic; UTF-8 as RFC 7617 §2.1 asks by default."""
    pair = f"{username}:{password}".encode(encoding)
    return "Basic " + base64.b64encode(pair).decode("ascii")


def random_token(length: int, alphabet: str = TOKEN_ALPHABET) -> str:
    """A random token of ``length`` characters (at least 8) from ``alphabet``."""
    return "".join(secrets.choice(alphabet) for _ in range(max(length, 8)))


def _with_scheme(target: Target, token: str) -> str:
    return f"Bearer {token}" if target.scheme == "bearer" else token


def _model_token(material: Material) -> str:
    if isinstance(material.model, Secret):
        return material.model.reveal()
    raise Unavailable("this variant is derived from a role's valid token, and the endpoint has none")


def _comma_variants(word: str) -> dict[str, Variant]:
    """Commas where a token68 has none (RFC 9110 §11.4): flask-jwt-extended 3 answered these with 500.

    None of them carries a valid credential, so a 2xx is access granted to
    garbage, not a lenient parser reading the real credential.
    """

    def credential(m: Material) -> str:
        return f"{word} {_same_shape(m)}" if word == "Bearer" else basic_value(_unknown_user(), random_token(16))

    return {
        "trailing-comma": lambda m: Broken(credential(m) + ",", f"a well-formed but unknown {word} credential followed by a comma"),
        "comma-list": lambda m: Broken(f"{word} ,,0", f"'{word} ,,0': commas where the credentials should be"),
        "comma-only": lambda m: Broken(",", "a lone comma, no scheme and no credentials"),
        "duplicate-header": lambda m: Broken(
            f'{word} not,a "token"',
            "two Authorization lines: garbage, then an unknown credential (RFC 9110 §5.3)",
            extra=(credential(m),),
        ),
    }


def _same_shape(material: Material) -> str:
    """A random token with the length and alphabet of the endpoint's valid one."""
    if not isinstance(material.model, Secret):
        return random_token(32)
    value = material.model.reveal()
    alphabet = "".join(sorted({c for c in value if c in TOKEN_ALPHABET}))
    if len(alphabet) < 8:
        alphabet = TOKEN_ALPHABET
    candidate = random_token(len(value), alphabet)
    # A collision is astronomically unlikely, but a "wrong" token must never be real.
    while candidate == value:
        candidate = random_token(len(value), alphabet)
    return candidate


def _truncated(material: Material) -> Broken:
    token = _model_token(material)
    cut = token[: max(1, len(token) // 2)]
    return Broken(_with_scheme(material.target, cut), f"the valid credential cut to {len(cut)} of {len(token)} characters")


def _flipped(material: Material) -> Broken:
    token = _model_token(material)
    middle = len(token) // 2
    if token.count(".") == 2:
        # A JWT: flip inside the signature, so that the change is always one
        # a verifier must catch (a flipped claim byte may just break JSON).
        start = token.rindex(".") + 1
        middle = start + (len(token) - start) // 2
    replacement = next(c for c in "AaZz09" if c != token[middle])
    flipped = token[:middle] + replacement + token[middle + 1 :]
    return Broken(_with_scheme(material.target, flipped), "the valid credential with one character changed")


def _misplaced(material: Material) -> Broken:
    """A valid credential where the API does not look for one: it counts as missing."""
    credential = material.other or material.model
    if not isinstance(credential, Secret):
        raise Unavailable("this variant sends a role's valid token, and the endpoint has none")
    target = material.target
    if target.scheme == "bearer":
        # RFC 9110 §11.7.2: Proxy-Authorization is for the next proxy, not the origin.
        return Broken(f"Bearer {credential.reveal()}", "another role's valid token in Proxy-Authorization", "Proxy-Authorization")
    assert target.api_key is not None
    taken = target.api_key.name.lower()
    name = next(n for n in _OTHER_NAMES if n.lower() != taken)
    return Broken(credential.reveal(), f"another role's valid credential under the name {name}", name)


def _model_username(material: Material) -> str:
    return material.model.username if isinstance(material.model, BasicCredential) else "user"


def _wrong_password(material: Material) -> Broken:
    user = _model_username(material)
    return Broken(basic_value(user, random_token(16)), f"a known user ({user}) with a random password")


def _digest(material: Material, username: str, password: str, description: str) -> Broken:
    return Broken("", description, digest=BasicCredential(username, Secret(password)))


def _unknown_user() -> str:
    return "nobody-" + random_token(8, string.ascii_lowercase)


MALFORMED: dict[Scheme, dict[str, Variant]] = {
    "bearer": {
        "empty": lambda m: Broken("Bearer ", "'Bearer ' with an empty token"),
        "scheme-only": lambda m: Broken("Bearer", "'Bearer' with no token"),
        "wrong-scheme": lambda m: Broken(basic_value("user", "password"), "a Basic credential where Bearer is expected"),
        "no-scheme": lambda m: Broken(_same_shape(m), "a random token with no scheme word"),
        "garbage": lambda m: Broken('Bearer not,a "token"', "'Bearer' followed by text that is not a token68"),
        "over-long": lambda m: Broken("Bearer " + "A" * OVER_LONG_SIZE, f"'Bearer' followed by a {OVER_LONG_SIZE // 1024} KiB token"),
        **_comma_variants("Bearer"),
    },
    "basic": {
        "empty": lambda m: Broken("Basic ", "'Basic ' with nothing after it"),
        "scheme-only": lambda m: Broken("Basic", "'Basic' with no credentials"),
        "wrong-scheme": lambda m: Broken("Bearer " + random_token(32), "a Bearer token where Basic is expected"),
        "bad-base64": lambda m: Broken("Basic !!not*base64%%", "'Basic' followed by text that is not base64"),
        "no-colon": lambda m: Broken(
            "Basic " + base64.b64encode(_model_username(m).encode()).decode("ascii"),
            "base64 of a user name with no colon and no password",
        ),
        "latin-1": lambda m: Broken(
            basic_value(_model_username(m), "pässwörd-" + random_token(8), "latin-1"),
            "a known user and a password in Latin-1 bytes, which are not UTF-8 (RFC 7617 §2.1)",
        ),
        "garbage": lambda m: Broken('Basic not,a "token"', "'Basic' followed by text that is not a token68"),
        "over-long": lambda m: Broken("Basic " + "QUFB" * (OVER_LONG_SIZE // 4), f"'Basic' followed by {OVER_LONG_SIZE // 1024} KiB of base64"),
        **_comma_variants("Basic"),
    },
    "digest": {
        "empty": lambda m: Broken("Digest ", "'Digest ' with nothing after it"),
        "scheme-only": lambda m: Broken("Digest", "'Digest' with no parameters"),
        "wrong-scheme": lambda m: Broken(basic_value(_model_username(m), random_token(16)), "a Basic credential where Digest is expected"),
        "missing-params": lambda m: Broken(
            f'Digest username="{_model_username(m)}", realm="x"',
            "a Digest credential without nonce, uri and response (RFC 7616 §3.4)",
        ),
        "garbage": lambda m: Broken('Digest not,a "token"', "'Digest' followed by text that is not a parameter list"),
        "over-long": lambda m: Broken("Digest username=" + "A" * OVER_LONG_SIZE, f"a {OVER_LONG_SIZE // 1024} KiB Digest credential"),
    },
    "api_key": {
        "empty": lambda m: Broken("", "an empty key"),
        "garbage": lambda m: Broken('not a "key",', "text that cannot be a key"),
        "over-long": lambda m: Broken("A" * OVER_LONG_SIZE, f"a {OVER_LONG_SIZE // 1024} KiB key"),
    },
    "cookie": {
        "empty": lambda m: Broken("", "an empty session cookie"),
        "garbage": lambda m: Broken('not a "session",', "text that cannot be a session id"),
        "over-long": lambda m: Broken("A" * OVER_LONG_SIZE, f"a {OVER_LONG_SIZE // 1024} KiB session cookie"),
    },
}

_TOKEN_WRONG: dict[str, Variant] = {
    "truncated": _truncated,
    "flipped-char": _flipped,
    "misplaced": _misplaced,
}

WRONG: dict[Scheme, dict[str, Variant]] = {
    "bearer": {
        "random-token": lambda m: Broken("Bearer " + _same_shape(m), "a random token of the same length and alphabet as a real one"),
        **_TOKEN_WRONG,
    },
    "basic": {
        "wrong-password": _wrong_password,
        "unknown-user": lambda m: Broken(basic_value(_unknown_user(), random_token(16)), "a user name nobody has, with a random password"),
        "empty-password": lambda m: Broken(basic_value(_model_username(m), ""), f"a known user ({_model_username(m)}) with an empty password"),
        "colon-in-user": lambda m: Broken(
            basic_value(f"{_model_username(m)}:{random_token(8)}", random_token(16)),
            "a user name holding a colon, which RFC 7617 §2 forbids, so the password is wrong",
        ),
    },
    "digest": {
        "wrong-password": lambda m: _digest(m, _model_username(m), random_token(16), f"a Digest answer for a known user ({_model_username(m)}) with a random password"),
        "unknown-user": lambda m: _digest(m, _unknown_user(), random_token(16), "a Digest answer for a user name nobody has"),
    },
    "api_key": {
        "random-key": lambda m: Broken(_same_shape(m), "a random key of the same length and alphabet"),
        **_TOKEN_WRONG,
    },
    "cookie": {
        "random-session": lambda m: Broken(_same_shape(m), "a random session id of the same length and alphabet"),
        **_TOKEN_WRONG,
    },
}

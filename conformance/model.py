"""The values the suite's layers hand each other: targets, cases, exchanges, findings.

Everything here is a small frozen dataclass with no I/O, so that each layer
(loading, case generation, sending, judging, reporting) can be tested alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Scheme = Literal["bearer", "basic", "api_key", "digest", "cookie"]
SCHEMES: tuple[Scheme, ...] = ("bearer", "basic", "api_key", "digest", "cookie")

# Schemes whose credentials travel in the Authorization field.
AUTHORIZATION_SCHEMES: frozenset[str] = frozenset({"bearer", "basic", "digest"})

# The reference APIs bundled in conformance/demo.py, for `embedded: NAME`.
EMBEDDED_NAMES = (
    "demo",
    "demo-broken",
    "demo-basic",
    "demo-basic-broken",
    "demo-apikey",
    "demo-apikey-broken",
)

CaseKind = Literal["valid", "unprivileged", "missing", "malformed", "wrong", "expired"]
CASE_KINDS: tuple[CaseKind, ...] = (
    "valid",
    "unprivileged",
    "missing",
    "malformed",
    "wrong",
    "expired",
)

Outcome = Literal["pass", "fail", "error", "skip"]
Grade = Literal["fail", "warn", "info"]


class Secret:
    """A credential value that shows itself only when asked by name.

    ``repr()``, ``str()`` and f-strings give a mask, so a secret that slips
    into a log line, an assertion message or a report stays hidden:

    >>> Secret("s3cr3t-token")
    Secret('<12 chars>')
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the real value, for building the request and nothing else."""
        return self._value

    def mask(self) -> str:
        """Return a placeholder that tells the length but not the content."""
        return f"<{len(self._value)} chars>"

    def __repr__(self) -> str:
        return f"Secret({self.mask()!r})"

    __str__ = mask

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __len__(self) -> int:
        return len(self._value)


@dataclass(frozen=True)
class BasicCredential:
    """A user name and password for RFC 7617 Basic authentication."""

    username: str
    password: Secret


@dataclass(frozen=True)
class TokenSource:
    """Where a login answer carries the credential: ``{json: access_token}`` in targets.yaml.

    ``location`` is ``json`` (a field of the JSON body, dots for nested
    fields), ``header`` or ``cookie``.
    """

    location: Literal["json", "header", "cookie"]
    name: str


@dataclass(frozen=True)
class LoginRequest:
    """A request that logs a role in and answers with its token or session cookie.

    ``body`` is the request body as sent (JSON or form-encoded text), kept as
    a Secret because it usually holds a password.
    """

    method: str
    path: str
    token: TokenSource
    body: Secret | None = None
    content_type: str | None = None

    def describe(self) -> str:
        """The login as messages show it: ``login POST /login``."""
        return f"login {self.method} {self.path}"


@dataclass(frozen=True)
class ClientCredentialsGrant:
    """An OAuth 2 client-credentials grant (RFC 6749 §4.4) that yields a bearer token."""

    token_url: str
    client_id: str
    client_secret: Secret
    scope: str | None = None
    audience: str | None = None
    client_auth: Literal["basic", "body"] = "basic"

    def describe(self) -> str:
        """The grant as messages show it: ``client-credentials grant at https://idp/token``."""
        return f"client-credentials grant at {self.token_url}"


# What a request presents: a bearer token, API key or cookie value is a bare
# Secret; Basic and Digest need both halves.
Presentable = Secret | BasicCredential
# How targets.yaml gives a role's credential: ready to present, or a way to
# obtain one at run time.
RuntimeSource = LoginRequest | ClientCredentialsGrant
Credential = Presentable | RuntimeSource


@dataclass(frozen=True)
class JwtSettings:
    """What the suite may use to mint JWT variants: ``jwt: {key: ..., algorithm: HS256}``.

    ``key`` is an HS* secret or a PEM private key; ``public_key`` a PEM
    public key (only for ``hs-rs-confusion``). Without a key the variants
    that need one are skipped with the reason.
    """

    key: Secret | None = None
    algorithm: str | None = None
    public_key: str | None = None


@dataclass(frozen=True)
class ApiKeyPlacement:
    """Where an API key travels: ``{in: header, name: X-API-Key}`` in targets.yaml."""

    location: Literal["header", "query", "cookie"]
    name: str


@dataclass(frozen=True)
class Endpoint:
    """One protected operation: a method, a literal path and the roles allowed to call it.

    ``roles`` is None when every role of the target may call the endpoint.
    """

    method: str
    path: str
    roles: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        """The endpoint as users write it: ``GET /items``."""
        return f"{self.method} {self.path}"

    def allows(self, role: str) -> bool:
        """Tell whether ``role`` may call this endpoint."""
        return self.roles is None or role in self.roles


@dataclass(frozen=True)
class SourceLocation:
    """Where in a targets file something was written, for error messages."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Target:
    """One API under audit, as described in targets.yaml.

    ``problems`` lists why the target cannot be audited (an unset environment
    variable, say), one line each. A target with problems is reported as
    broken while the other targets still run.
    """

    name: str
    scheme: Scheme
    base_url: str
    endpoints: tuple[Endpoint, ...]
    credentials: Mapping[str, Credential] = field(default_factory=dict)
    api_key: ApiKeyPlacement | None = None
    expired: Presentable | None = None
    invalid: Mapping[str, Presentable] = field(default_factory=dict)
    accepts: tuple[Scheme, ...] = ()
    jwt: JwtSettings | None = None
    embedded: str | None = None
    waive: Mapping[str, str] = field(default_factory=dict)
    leak_marker: str | None = None
    source: SourceLocation | None = None
    problems: tuple[str, ...] = ()

    @property
    def schemes(self) -> tuple[Scheme, ...]:
        """Every scheme the API accepts, the one credentials are sent in first."""
        return (self.scheme, *(s for s in self.accepts if s != self.scheme))

    @property
    def roles(self) -> tuple[str, ...]:
        """Every role the target has a credential for, in file order."""
        return tuple(self.credentials)

    def allowed_roles(self, endpoint: Endpoint) -> tuple[str, ...]:
        """The roles that may call ``endpoint``, in file order."""
        return tuple(role for role in self.roles if endpoint.allows(role))


@dataclass(frozen=True)
class Case:
    """One request to send and judge: an endpoint probed with one kind of credential.

    ``variant`` names the role for ``valid`` and ``unprivileged`` and the
    broken credential for ``malformed`` and ``wrong``; it is None otherwise.
    """

    target: str
    endpoint: Endpoint
    kind: CaseKind
    variant: str | None = None

    @property
    def id(self) -> str:
        """The case as it appears in test IDs and reports: ``malformed:empty``."""
        return self.kind if self.variant is None else f"{self.kind}:{self.variant}"

    @property
    def is_control(self) -> bool:
        """Tell whether the case is a positive control (valid credentials)."""
        return self.kind == "valid"


@dataclass(frozen=True)
class Probe:
    """A fully built request for one case.

    ``headers`` may hold the same name twice (a duplicated Authorization line
    is itself a probe). ``digest`` asks the transport to answer the server's
    Digest challenge with these credentials (RFC 7616). ``raw_headers`` are
    lines sent byte for byte, for values no HTTP library will send (control
    characters, non-UTF-8 bytes). ``sent`` describes the credentials with every secret
    masked; it is the only part of a probe that reaches messages and reports.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    params: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()
    sent: str = "no credentials"
    digest: BasicCredential | None = None
    raw_headers: tuple[tuple[bytes, bytes], ...] = ()


@dataclass(frozen=True)
class Exchange:
    """What the server answered, with its header lines raw and in order.

    Header lines are kept as received, not merged into a dict, because
    several ``WWW-Authenticate`` lines are one field (RFC 9110 §5.3) and
    their layout is itself checked. ``body`` holds at most the number of
    bytes the transport agreed to read; ``body_truncated`` says if more came.
    """

    status: int
    reason: str
    header_lines: tuple[tuple[str, str], ...]
    body: bytes = b""
    body_truncated: bool = False
    elapsed_ms: float = 0.0

    def header_values(self, name: str) -> list[str]:
        """Return every line of the field ``name``, in order (case-insensitive)."""
        wanted = name.lower()
        return [value for key, value in self.header_lines if key.lower() == wanted]

    @property
    def www_authenticate(self) -> list[str]:
        """The raw ``WWW-Authenticate`` lines."""
        return self.header_values("WWW-Authenticate")

    @property
    def location(self) -> str | None:
        """The ``Location`` of a redirect, if any."""
        values = self.header_values("Location")
        return values[0] if values else None


@dataclass(frozen=True)
class Finding:
    """The result of one check against one requirement of the catalogue.

    ``grade`` is what a failed check costs: ``fail`` fails the case, ``warn``
    passes it with a warning (fails it under ``--conformance-strict``) and
    ``info`` only informs. A check may raise the catalogue's grade when the
    context makes the fault worse (a 403 that also lacks any challenge).
    ``waived`` holds the target's reason when it opted out of the requirement.
    """

    requirement: str
    passed: bool
    message: str
    grade: Grade = "fail"
    waived: str | None = None


@dataclass(frozen=True)
class Verdict:
    """All findings for one case and the outcome they add up to."""

    outcome: Outcome
    findings: tuple[Finding, ...]

    @property
    def failures(self) -> tuple[Finding, ...]:
        """Findings that fail the case."""
        return tuple(f for f in self.findings if not f.passed and not f.waived and f.grade == "fail")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Findings that pass the case with a warning."""
        return tuple(f for f in self.findings if not f.passed and not f.waived and f.grade == "warn")


@dataclass(frozen=True)
class BrokenTarget:
    """A target whose description cannot be used, and why (one line per problem).

    It is reported as broken while the other targets of the file still run.
    """

    name: str
    problems: tuple[str, ...]
    source: SourceLocation | None = None

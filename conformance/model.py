"""The values the suite's layers hand each other: targets, cases, exchanges, findings.

Everything here is a small frozen dataclass with no I/O, so that each layer
(loading, case generation, sending, judging, reporting) can be tested alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Scheme = Literal["bearer", "basic", "api_key"]
SCHEMES: tuple[Scheme, ...] = ("bearer", "basic", "api_key")

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


# A bearer token or API key is a bare Secret; Basic needs both halves.
Credential = Secret | BasicCredential


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
    expired: Credential | None = None
    embedded: str | None = None
    waive: Mapping[str, str] = field(default_factory=dict)
    leak_marker: str | None = None
    source: SourceLocation | None = None
    problems: tuple[str, ...] = ()

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
    is itself a probe). ``sent`` describes the credentials with every secret
    masked; it is the only part of a probe that reaches messages and reports.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    params: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()
    sent: str = "no credentials"


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

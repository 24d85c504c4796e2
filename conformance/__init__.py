"""pytest-auth-conformance: audit the authentication and authorization of an HTTP API."""

from __future__ import annotations

from .catalogue import Requirement, load_catalogue, requirement
from .challenges import (
    Challenge,
    Param,
    ParseResult,
    SyntaxFault,
    format_challenges,
    parse_challenges,
)
from .checks import judge
from .errors import (
    ConformanceError,
    ConformanceFailure,
    ControlFailed,
    TargetsFileError,
    TargetStartError,
    TransportError,
)
from .model import (
    ApiKeyPlacement,
    BasicCredential,
    BrokenTarget,
    Case,
    Endpoint,
    Exchange,
    Finding,
    Secret,
    Target,
    Verdict,
)
from .targets import load_targets

__all__ = [
    "ApiKeyPlacement",
    "BasicCredential",
    "BrokenTarget",
    "Case",
    "Challenge",
    "ConformanceError",
    "ConformanceFailure",
    "ControlFailed",
    "Endpoint",
    "Exchange",
    "Finding",
    "Param",
    "ParseResult",
    "Requirement",
    "Secret",
    "SyntaxFault",
    "Target",
    "TargetStartError",
    "TargetsFileError",
    "TransportError",
    "Verdict",
    "format_challenges",
    "judge",
    "load_catalogue",
    "load_targets",
    "parse_challenges",
    "requirement",
]

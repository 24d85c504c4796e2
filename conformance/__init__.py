"""pytest-auth-conformance: audit the authentication and authorization of an HTTP API."""

from __future__ import annotations

from .errors import ConformanceError, ConformanceFailure, ControlFailed, TargetsFileError
from .model import (
    ApiKeyPlacement,
    BasicCredential,
    Case,
    Endpoint,
    Exchange,
    Finding,
    Secret,
    Target,
    Verdict,
)

__all__ = [
    "ApiKeyPlacement",
    "BasicCredential",
    "Case",
    "ConformanceError",
    "ConformanceFailure",
    "ControlFailed",
    "Endpoint",
    "Exchange",
    "Finding",
    "Secret",
    "Target",
    "TargetsFileError",
    "Verdict",
]

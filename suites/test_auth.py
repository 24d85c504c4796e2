"""The conformance suite: each test is one case the plugin generates from a targets file.

The plugin parametrizes ``auth_case`` with the cases of every selected
target; ``auth_evidence`` sends the case's request (after the endpoint's
control) and judges the answer against the requirement catalogue.
"""

from __future__ import annotations

import pytest

from conformance.fuzz import Fuzzer
from conformance.model import Target
from conformance.plugin import assert_conformant
from conformance.results import Evidence


def test_target_can_be_audited(auth_target: Target) -> None:
    """The target's description is usable and, if embedded, its server started."""
    assert auth_target.endpoints, f"target {auth_target.name!r} declares no endpoint"


@pytest.mark.auth_kinds("valid")
def test_valid_credentials_are_accepted(auth_evidence: Evidence) -> None:
    """Valid, privileged credentials get a 2xx: the control of the endpoint."""
    assert_conformant(auth_evidence)


@pytest.mark.auth_kinds("unprivileged")
def test_unprivileged_credentials_are_forbidden(auth_evidence: Evidence) -> None:
    """Valid credentials that lack the privilege get 403."""
    assert_conformant(auth_evidence)


@pytest.mark.auth_kinds("missing", "malformed", "wrong", "expired")
def test_bad_credentials_are_challenged(auth_evidence: Evidence) -> None:
    """Missing, malformed, wrong and expired credentials get 401 with a challenge."""
    assert_conformant(auth_evidence)


def test_generated_malformed_credentials_are_refused(auth_fuzzer: Fuzzer) -> None:
    """A hypothesis stream of broken Authorization values gets 401 or 400, never 2xx or 5xx."""
    auth_fuzzer.run()

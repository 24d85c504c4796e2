"""Fixtures of the case tests: the servers of shared/cases, started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from case_servers import CaseServers


@pytest.fixture(scope="session")
def case_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CaseServers]:
    """Every case server group, started on first use and stopped at the end of the session."""
    servers = CaseServers(tmp_path_factory.mktemp("case-servers"))
    yield servers
    servers.stop()

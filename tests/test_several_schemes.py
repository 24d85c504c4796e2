"""An API whose endpoints take either of two schemes, audited once per scheme against real DRF."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from credential_servers import drf_roles, serve_drf

pytest_plugins = ["pytester"]


@pytest.fixture(scope="module")
def drf_url() -> Iterator[str]:
    with serve_drf() as url:
        yield url


def test_each_scheme_of_an_endpoint_is_audited_in_its_own_target(pytester: pytest.Pytester, drf_url: str) -> None:
    # Given DRF views that take a Bearer token or a session cookie
    # (BearerTokenAuthentication first, so refusals carry its bare challenge),
    # described once per scheme with the endpoints shared through an anchor
    pytester.makefile(
        ".yaml",
        targets=f"""
targets:
  by-token:
    base_url: {drf_url}
    scheme: bearer
    schemes: [bearer, cookie]
    credentials:
{drf_roles("/api-token-auth/", "{json: token}")}
    endpoints: &either
      - GET /session/me
      - {{method: GET, path: /session/admin, roles: [staff]}}
  by-cookie:
    base_url: {drf_url}
    scheme: cookie
    schemes: [cookie, bearer]
    credentials:
{drf_roles("/login/", "{cookie: sessionid}")}
    endpoints: *either
""",
    )

    # When both are audited in one run
    result = pytester.runpytest("--target=by-token,by-cookie", "-p", "no:cacheprovider", "--conformance-examples=3")

    # Then each scheme's credentials open both endpoints, and each scheme's
    # refusals are judged against the challenges of either scheme
    reports: dict[str, dict[str, Any]] = {
        name: json.loads((pytester.path / "reports" / f"{name}.json").read_text(encoding="utf-8"))
        for name in ("by-token", "by-cookie")
    }
    for name, report in reports.items():
        cases = {(r["endpoint"], r["id"]): r for r in report["results"]}
        assert cases["GET /session/me", "valid:staff"]["outcome"] == "pass", name
        assert cases["GET /session/me", "valid:user"]["outcome"] == "pass", name
        assert cases["GET /session/admin", "unprivileged:user"]["observed"]["status"] == 403, name
        missing = cases["GET /session/me", "missing"]
        # DRF's token authentication challenges with its bare keyword.
        assert missing["observed"]["www_authenticate"] == ["Bearer"], name
        assert missing["outcome"] == "pass", name
        assert [r["id"] for r in report["results"] if r["outcome"] == "error"] == [], name
    assert reports["by-token"]["results"][0]["sent"].startswith("Authorization: Bearer")
    assert reports["by-cookie"]["results"][0]["sent"].startswith("cookie sessionid:")
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)

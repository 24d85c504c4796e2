"""The plugin end to end, run by pytester against the embedded demos and real sockets."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from raw_server import RawRespond
from test_checks import citable_requirements

from conformance.cases import generate_cases, generated_cases
from conformance.demo import RunningDemo, start_demo
from conformance.variants import MALFORMED, WRONG

pytest_plugins = ["pytester"]


def demo_reads() -> dict[str, tuple[str, str | None]]:
    """How demo-broken reads each case of an endpoint open to both roles: case ID -> (kind, Authorization value).

    The kinds are the demo's own (missing, other_scheme, malformed, unknown,
    valid), plus ``too_large`` past its 32 KiB field limit and ``generated``
    for the hypothesis stream, so the expectations below follow the suite's
    variants.
    """
    import secrets

    from conformance import demo_jwt
    from conformance.cases import build_probe, generate_cases, generated_cases
    from conformance.demo import _classify
    from conformance.model import Endpoint, JwtSettings, Secret, Target

    # The demos issue JWTs, so their targets get the JWT variants too.
    # demo-broken also exposes the RSA public key its RS256 verifier trusts.
    key, public_key = secrets.token_urlsafe(32), demo_jwt.new_public_pem().decode("ascii")
    tokens = {role: Secret(demo_jwt.issue(role, (), key, 0.0, 3600)) for role in ("admin", "reader")}
    model = Target(
        "demo-broken", "bearer", "http://127.0.0.1:1", (Endpoint("GET", "/x"),), tokens,
        expired=Secret(demo_jwt.issue("admin", (), key, 0.0, -3600)), jwt=JwtSettings(Secret(key), demo_jwt.ALGORITHM, public_key),
    )
    reads: dict[str, tuple[str, str | None]] = {}
    for case in generated_cases(model):
        reads[case.id] = ("generated", None)
    for case in generate_cases(model):
        if case.kind == "valid":
            reads[case.id] = ("valid", None)
            continue
        if case.kind == "unprivileged" or case.id in reads:
            continue
        lines = [v for name, v in build_probe(model, case).headers if name == "Authorization"]
        value = lines[0] if lines else None
        too_large = value is not None and len(value) > 32 * 1024
        # The demo refuses two Authorization lines as a malformed request.
        kind = "too_large" if too_large else "malformed" if len(lines) > 1 else _classify(value, {}, 0.0).kind
        reads[case.id] = (kind, value)
    return reads


READS = demo_reads()
VALID = {case for case, (kind, _) in READS.items() if kind == "valid"}
NO_AUTHORIZATION = {case for case, (kind, _) in READS.items() if kind == "missing"}
OTHER_SCHEME = {case for case, (kind, _) in READS.items() if kind == "other_scheme"}
BAD_REQUEST = {case for case, (kind, _) in READS.items() if kind == "malformed"}
BAD_TOKEN = {case for case, (kind, _) in READS.items() if kind == "unknown"}
# The expired token the demo issued; minted JWT variants are tokens it never issued.
EXPIRED = {case for case in BAD_TOKEN if case == "expired"}
# What each of demo-broken's JWT mistakes lets through (see conformance/demo_jwt.py).
JWT_ALG_NONE = {"wrong:alg-none"}
JWT_UNVERIFIED = {"wrong:bad-signature", "wrong:alg-none", "wrong:signature-stripped", "wrong:tampered-claims", "wrong:flipped-char", "wrong:hs-rs-confusion"}
JWT_EXP_UNCHECKED = {"expired", "expired:exp-passed", "expired:not-yet-valid"}
JWT_ISS_AUD_UNCHECKED = {"wrong:foreign-issuer", "wrong:wrong-audience"}
JWT_CONFUSED = {"wrong:hs-rs-confusion"}
GENERATED = {case for case, (kind, _) in READS.items() if kind == "generated"}
# The control's credential with the scheme word respelled (RFC 9110 §11.1).
SCHEME_CASE = {"valid:admin:lowercase-scheme", "valid:admin:uppercase-scheme"}
# What the demo refuses with 401 (challenged) and with 400 or 401 (challenged).
UNAUTHORIZED = NO_AUTHORIZATION | OTHER_SCHEME | BAD_TOKEN
REFUSED = UNAUTHORIZED | BAD_REQUEST
# Values that `value.split(" ")[1]` cannot take apart, and `Bearer` with no token.
NO_SPACE = {case for case, (_, value) in READS.items() if value is not None and " " not in value.strip()}
BEARER_ALONE = {case for case, (kind, value) in READS.items() if kind == "malformed" and (value or "").strip().lower() == "bearer"}

# The generated stream fails wherever a planted mistake answers most broken values.
DEMO_BROKEN_FAILURES = {
    "GET /no-challenge": REFUSED | GENERATED,
    "GET /forbidden-when-missing": NO_AUTHORIZATION,
    "GET /expired-accepted": EXPIRED,
    "GET /login-redirect": NO_AUTHORIZATION,
    "GET /crash-on-malformed": BAD_REQUEST | NO_SPACE | GENERATED,
    "GET /unquoted-realm": REFUSED | GENERATED,
    "GET /empty-list-member": REFUSED | GENERATED,
    "GET /spaces-around-equals": REFUSED | GENERATED,
    "GET /repeated-error": BAD_REQUEST | BAD_TOKEN | GENERATED,
    "GET /missing-commas": REFUSED | GENERATED,
    "GET /basic-challenge": REFUSED | GENERATED,
    "GET /expired-token-code": EXPIRED,
    "GET /non-ascii-description": BAD_REQUEST | BAD_TOKEN | GENERATED,
    "GET /admin/scope-not-checked": {"unprivileged:reader"},
    "GET /leaky-refusal": UNAUTHORIZED | GENERATED,
    "GET /proxy-auth-required": UNAUTHORIZED | GENERATED,
    "GET /empty-token-accepted": BEARER_ALONE,
    "GET /jwt/alg-none-accepted": JWT_ALG_NONE,
    "GET /jwt/signature-not-verified": JWT_UNVERIFIED,
    "GET /jwt/exp-not-checked": JWT_EXP_UNCHECKED,
    "GET /jwt/iss-aud-not-checked": JWT_ISS_AUD_UNCHECKED,
    "GET /jwt/alg-from-header": JWT_CONFUSED,
    "GET /case-sensitive-scheme": SCHEME_CASE,
}

# What demo-basic-broken refuses with 401: every refusal but the over-long
# value, which the demo answers with 431 before reading it.
BASIC_REFUSED = {
    "missing",
    "expired",
    *(f"malformed:{v}" for v in MALFORMED["basic"] if v != "over-long"),
    *(f"wrong:{v}" for v in WRONG["basic"])
}
# Values whose credentials `base64.b64decode(..., validate=True)` rejects.
BASIC_BAD_BASE64 = {"malformed:bad-base64", "malformed:garbage", "malformed:trailing-comma", "malformed:comma-list", "malformed:duplicate-header"}
# `Basic` with nothing after it, with and without the trailing space.
BASIC_ALONE = {"malformed:empty", "malformed:scheme-only"}
DEMO_BASIC_BROKEN_FAILURES = {
    "GET /no-realm": BASIC_REFUSED | GENERATED,
    "GET /latin-1-charset": BASIC_REFUSED | GENERATED,
    "GET /no-challenge": BASIC_REFUSED | GENERATED,
    "GET /unquoted-realm": BASIC_REFUSED | GENERATED,
    "GET /latin-1-decoding": {"valid:reader"},
    "GET /crash-on-bad-base64": BASIC_BAD_BASE64 | GENERATED,
    "GET /empty-credentials-accepted": BASIC_ALONE,
}

# What demo-apikey-broken refuses with 401 (the over-long key gets 431), and
# the requests that carry no X-API-Key at all.
API_KEY_REFUSED = {
    "missing",
    "expired",
    *(f"malformed:{v}" for v in MALFORMED["api_key"] if v != "over-long"),
    *(f"wrong:{v}" for v in WRONG["api_key"])
}
NO_API_KEY = {"missing", "wrong:misplaced"}
DEMO_APIKEY_BROKEN_FAILURES = {
    "GET /no-challenge": API_KEY_REFUSED,
    "GET /forbidden-when-missing": NO_API_KEY,
    "GET /reader-refused": {"valid:reader"},
}
BROKEN_DEMO_FAILURES = {
    "demo-broken": DEMO_BROKEN_FAILURES,
    "demo-basic-broken": DEMO_BASIC_BROKEN_FAILURES,
    "demo-apikey-broken": DEMO_APIKEY_BROKEN_FAILURES,
}


def load_report(directory: Path, target: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((directory / f"{target}.json").read_text(encoding="utf-8"))
    schema = json.loads(resources.files("conformance").joinpath("data/report.schema.json").read_text("utf-8"))
    jsonschema.validate(document, schema)
    return document


def outcomes(report: dict[str, Any], outcome: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for result in report["results"]:
        if result["outcome"] == outcome:
            found.setdefault(result["endpoint"], set()).add(result["id"])
    return found


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without what legitimately differs between two runs.

    That is the timestamps, and the port each process's embedded server got.
    """
    stripped = {k: v for k, v in report.items() if k not in ("started_at", "finished_at")}
    text = json.dumps(stripped, sort_keys=True)
    return json.loads(re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text))


def broken_findings(report: dict[str, Any]) -> dict[str, dict[str, dict[str, str]]]:
    """Endpoint -> case -> every requirement the case broke, with its grade."""
    found: dict[str, dict[str, dict[str, str]]] = {}
    for result in report["results"]:
        broken = {f["requirement"]: f["grade"] for f in result["findings"] if not f["passed"]}
        if broken:
            found.setdefault(result["endpoint"], {})[result["id"]] = broken
    return found


@pytest.fixture
def demo() -> Iterator[RunningDemo]:
    running = start_demo("demo")
    yield running
    running.stop()


@pytest.fixture
def demo_env(demo: RunningDemo, monkeypatch: pytest.MonkeyPatch) -> RunningDemo:
    """The demo's secrets in environment variables, as a CI job would have them."""
    monkeypatch.setenv("DEMO_ADMIN", demo.target.credentials["admin"].reveal())  # type: ignore[union-attr]
    monkeypatch.setenv("DEMO_READER", demo.target.credentials["reader"].reveal())  # type: ignore[union-attr]
    assert demo.target.expired is not None
    monkeypatch.setenv("DEMO_EXPIRED", demo.target.expired.reveal())  # type: ignore[union-attr]
    return demo


def external_demo_targets(base_url: str, admin: str = "${DEMO_ADMIN}") -> str:
    return f"""
targets:
  external:
    base_url: {base_url}
    scheme: bearer
    credentials:
      admin: "{admin}"
      reader: "${{DEMO_READER}}"
    expired: "${{DEMO_EXPIRED}}"
    endpoints:
      - GET /items
      - {{method: DELETE, path: /items/1, roles: [admin]}}
"""


# --- staying out of the way -----------------------------------------------------


def test_plugin_is_inert_without_target(pytester: pytest.Pytester) -> None:
    # Given an ordinary project test, a run without --target collects only it.
    pytester.makepyfile("def test_ordinary(): assert True")

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
    assert not (pytester.path / "reports").exists()


def test_help_lists_the_options(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")

    result.stdout.fnmatch_lines(["*--target=NAME*", "*--targets-file=PATH*", "*--conformance-report-dir=DIR*", "*--conformance-strict*"])


# --- the demos --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["demo", "demo-basic", "demo-apikey"])
def test_conformant_demo_passes_every_case_and_writes_reports(pytester: pytest.Pytester, name: str) -> None:
    result = pytester.runpytest(f"--target={name}", "-p", "no:cacheprovider")

    # One test per case and per generated stream, and one that the target can be audited;
    # API keys travel outside Authorization, so they get no generated stream, and
    # that suite test is deselected rather than skipped.
    running = start_demo(name)
    running.stop()
    cases = generate_cases(running.target) + generated_cases(running.target)
    result.assert_outcomes(passed=len(cases) + 1, deselected=0 if generated_cases(running.target) else 1)
    report = load_report(pytester.path / "reports", name)
    assert report["summary"]["verdict"] == "conformant"
    assert report["summary"]["fail"] == report["summary"]["error"] == 0
    assert (pytester.path / "reports" / f"{name}.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    result.stdout.fnmatch_lines([f"*auth-conformance reports:*{name}.json*{name}.html*"])


@pytest.mark.parametrize("name", list(BROKEN_DEMO_FAILURES))
def test_broken_demo_fails_exactly_the_planted_mistakes(pytester: pytest.Pytester, name: str) -> None:
    result = pytester.runpytest(f"--target={name}", "-p", "no:cacheprovider")

    report = load_report(pytester.path / "reports", name)
    assert outcomes(report, "fail") == BROKEN_DEMO_FAILURES[name]
    assert outcomes(report, "error") == {}
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_collect_only_leaves_the_last_reports_alone(pytester: pytest.Pytester) -> None:
    # Given the reports of a real audit
    pytester.runpytest("--target=demo", "-k", "items and missing", "-p", "no:cacheprovider")
    before = (pytester.path / "reports" / "demo.json").read_text(encoding="utf-8")

    # When the cases are only listed
    result = pytester.runpytest("--target=demo", "--collect-only", "-q", "-p", "no:cacheprovider")

    # Then they are listed, and the reports are those of the audit
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*test_bad_credentials_are_challenged*missing*"])
    assert (pytester.path / "reports" / "demo.json").read_text(encoding="utf-8") == before
    assert "auth-conformance demo:" not in result.stdout.str()


def test_redirect_is_a_failure_named_as_such(pytester: pytest.Pytester) -> None:
    pytester.runpytest("--target=demo-broken", "-k", "login-redirect and missing", "-p", "no:cacheprovider")

    [result] = load_report(pytester.path / "reports", "demo-broken")["results"]
    assert result["observed"]["status"] == 302
    assert "redirected (302" in result["findings"][0]["message"]
    assert result["observed"]["location"] == "/login?next=/login-redirect"


def test_report_under_xdist_matches_serial_run(pytester: pytest.Pytester) -> None:
    # The same seed, so that both runs send the same generated values.
    seed = "--hypothesis-seed=20261203"
    pytester.runpytest("--target=demo-broken", "-p", "no:cacheprovider", seed, "--conformance-report-dir=serial")
    result = pytester.runpytest("--target=demo-broken", "-p", "no:cacheprovider", "-n", "2", seed, "--conformance-report-dir=parallel")

    result.stdout.fnmatch_lines(["*2 workers*"])
    serial = load_report(pytester.path / "serial", "demo-broken")
    parallel = load_report(pytester.path / "parallel", "demo-broken")
    assert comparable(parallel) == comparable(serial)


def test_k_selects_case_kinds(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--target=demo", "-k", "malformed:garbage", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=5)
    ids = {r["id"] for r in load_report(pytester.path / "reports", "demo")["results"]}
    assert ids == {"malformed:garbage"}


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_partial_run_is_reported_as_partial(pytester: pytest.Pytester, demo: RunningDemo, workers: tuple[str, ...]) -> None:
    # Given a run of one case out of the demo's many
    result = pytester.runpytest("--target=demo", "-k", "DELETE and unprivileged", "-p", "no:cacheprovider", *workers)

    # Then neither report claims the API conformant, and both say how many cases were left out
    cases = len(generate_cases(demo.target) + generated_cases(demo.target))
    summary = load_report(pytester.path / "reports", "demo")["summary"]
    assert (summary["total"], summary["cases"], summary["not_run"], summary["verdict"]) == (1, cases, cases - 1, "partial")
    html = (pytester.path / "reports" / "demo.html").read_text(encoding="utf-8")
    assert "Partial run" in html and ">Conformant<" not in html
    result.stdout.fnmatch_lines([f"auth-conformance demo: 1 pass, 0 fail, 0 error, 0 skip; partial run, {cases - 1} of {cases} cases not run"])


def test_whole_run_is_not_partial(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--target=demo", "-p", "no:cacheprovider", "-x", "--conformance-examples=0")

    summary = load_report(pytester.path / "reports", "demo")["summary"]
    assert (summary["not_run"], summary["verdict"]) == (0, "conformant")
    assert "partial run" not in result.stdout.str()


def test_report_dir_option_moves_reports(pytester: pytest.Pytester) -> None:
    pytester.runpytest("--target=demo", "-k", "missing", "--conformance-report-dir=out/audit", "-p", "no:cacheprovider")

    assert sorted(p.name for p in (pytester.path / "out" / "audit").iterdir()) == ["demo.html", "demo.json"]


def test_report_dir_that_is_a_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    # Given a file where the report directory should be
    pytester.makefile("", audit="not a directory")

    result = pytester.runpytest("--target=demo", "--conformance-report-dir=audit", "-p", "no:cacheprovider")

    # Then pytest stops before the audit with one line, and no traceback
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--conformance-report-dir={pytester.path / 'audit'}: is a file, not a directory; point it at a directory"])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_report_dir_under_a_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makefile("", audit="not a directory")

    result = pytester.runpytest("--target=demo", "--conformance-report-dir=audit/reports", "-p", "no:cacheprovider")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--conformance-report-dir=*reports: cannot be created, {pytester.path / 'audit'} is a file"])


def test_report_write_failure_keeps_the_summary(pytester: pytest.Pytester) -> None:
    # Given a conftest that puts a file in the reports' way after the start-up check
    pytester.makeconftest("def pytest_collection_finish(session):\n    open('reports', 'w').close()\n")

    result = pytester.runpytest("--target=demo", "-k", "malformed:garbage", "-p", "no:cacheprovider")

    # Then the run ends normally, says why there are no reports, and shows pytest's summary
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["auth-conformance: could not write the reports to *reports: *", "*5 passed*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


# --- targets of one's own ---------------------------------------------------------


def test_external_target_from_targets_file_passes(pytester: pytest.Pytester, demo_env: RunningDemo) -> None:
    pytester.makefile(".yaml", targets=external_demo_targets(demo_env.target.base_url))

    result = pytester.runpytest("--target=external", "-p", "no:cacheprovider")

    report = load_report(pytester.path / "reports", "external")
    assert report["summary"]["fail"] == 0 and report["summary"]["pass"] > 0
    assert outcomes(report, "pass")["DELETE /items/1"] >= {"valid:admin", "unprivileged:reader", "expired"}
    assert result.ret == pytest.ExitCode.OK


def test_secrets_never_reach_output_or_reports(pytester: pytest.Pytester, demo_env: RunningDemo) -> None:
    # Given a run with failures (strict mode turns warnings into failures too)...
    pytester.makefile(".yaml", targets=external_demo_targets(demo_env.target.base_url))
    result = pytester.runpytest("--target=external", "--target=demo-broken", "-p", "no:cacheprovider", "-rA", "-v")

    # ...no credential appears anywhere a person or a machine will read.
    written = [p.read_text(encoding="utf-8") for p in (pytester.path / "reports").iterdir()]
    for secret in demo_env.target.credentials.values():
        token = secret.reveal()  # type: ignore[union-attr]
        assert token not in result.stdout.str()
        assert all(token not in text for text in written)


def test_failed_control_turns_other_cases_into_errors(pytester: pytest.Pytester, demo_env: RunningDemo) -> None:
    # Given an admin token the API does not know, nothing about GET /items can be judged.
    pytester.makefile(".yaml", targets=external_demo_targets(demo_env.target.base_url, admin="not-the-admin-token"))

    result = pytester.runpytest("--target=external", "-k", "GET and items and not DELETE", "-p", "no:cacheprovider")

    report = load_report(pytester.path / "reports", "external")
    assert outcomes(report, "fail") == {"GET /items": {"valid:admin", "valid:admin:lowercase-scheme", "valid:admin:uppercase-scheme"}}
    assert outcomes(report, "pass") == {"GET /items": {"valid:reader"}}
    errors = [r for r in report["results"] if r["outcome"] == "error"]
    assert errors and all("the control valid:admin got 401" in r["message"] for r in errors)
    assert report["summary"]["verdict"] == "non-conformant"
    result.stdout.fnmatch_lines(["*cannot judge missing of GET /items: the control valid:admin got 401*"])


def test_unreachable_target_is_an_error_never_a_pass(pytester: pytest.Pytester) -> None:
    # Given a port nobody listens on.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pytester.makefile(".yaml", targets=external_demo_targets(f"http://127.0.0.1:{port}", admin="x" * 20).replace("${DEMO_READER}", "y" * 20).replace("${DEMO_EXPIRED}", "z" * 20))

    result = pytester.runpytest("--target=external", "-p", "no:cacheprovider")

    report = load_report(pytester.path / "reports", "external")
    assert report["summary"]["pass"] == 0
    assert report["summary"]["verdict"] != "conformant"
    result.stdout.fnmatch_lines(["*connection refused; the case could not be judged*"])


OK_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
def raw_targets(base_url: str) -> str:
    """The external target at ``base_url``, its admin token 'x' * 20."""
    return external_demo_targets(base_url, admin="x" * 20).replace("${DEMO_READER}", "y" * 20).replace("${DEMO_EXPIRED}", "z" * 20)


def test_timeout_on_over_long_credential_is_an_error(pytester: pytest.Pytester, raw_api: Callable[[RawRespond], str]) -> None:
    # Given an API that never answers an over-long Authorization value
    base_url = raw_api(lambda request: None if len(request) > 8 * 1024 else OK_ANSWER)
    pytester.makefile(".yaml", targets=raw_targets(base_url))

    result = pytester.runpytest("--target=external", "-k", "GET and over-long", "--conformance-timeout=0.5", "-p", "no:cacheprovider")

    # Then the case could not be judged: an error, never a pass with a warning
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no answer within 0.5 s; the case could not be judged*"])
    [record] = load_report(pytester.path / "reports", "external")["results"]
    assert (record["id"], record["outcome"]) == ("malformed:over-long", "error")


def test_unanswered_generated_value_is_an_error(pytester: pytest.Pytester, raw_api: Callable[[RawRespond], str]) -> None:
    # Given an API that answers its valid token and drops every other request
    base_url = raw_api(lambda request: OK_ANSWER if b"Bearer " + b"x" * 20 + b"\r\n" in request else b"")
    pytester.makefile(".yaml", targets=raw_targets(base_url))

    result = pytester.runpytest("--target=external", "-k", "GET and generated", "-p", "no:cacheprovider")

    # Then the stream stops with an error naming why, and the report says error
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the server closed the connection without answering; the case could not be judged*"])
    [record] = load_report(pytester.path / "reports", "external")["results"]
    assert (record["id"], record["outcome"]) == ("malformed:generated", "error")
    assert record["message"].startswith(f"GET {base_url}/items: the server closed the connection without answering")


def test_status_outside_the_valid_range_is_named_as_such(pytester: pytest.Pytester, raw_api: Callable[[RawRespond], str]) -> None:
    # Given an API that answers its valid token and sends status 999 to a request without one
    invalid = b"HTTP/1.1 999 WHAT\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno"
    base_url = raw_api(lambda request: OK_ANSWER if b"Bearer " + b"x" * 20 + b"\r\n" in request else invalid)
    pytester.makefile(".yaml", targets=raw_targets(base_url))

    result = pytester.runpytest("--target=external", "-k", "GET and missing", "-p", "no:cacheprovider")

    # Then the failure says the code is invalid, and does not call it a 5xx
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*R9110-401-ON-FAILURE*999 WHAT: not an HTTP status code (RFC 9110 §15 allows 100 to 599)*"])
    assert "R9110-NO-5XX" not in result.stdout.str()


def test_broken_target_is_reported_while_others_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UNSET_TOKEN", raising=False)
    pytester.makefile(
        ".yaml",
        targets="""
targets:
  demo:
    embedded: demo
  myapi:
    base_url: https://api.example.com
    scheme: bearer
    credentials:
      admin: "${UNSET_TOKEN}"
    endpoints:
      - GET /items
""",
    )

    result = pytester.runpytest("--target=all", "-p", "no:cacheprovider")

    result.stdout.fnmatch_lines(["*target 'myapi' cannot be audited:*UNSET_TOKEN is not set*"])
    assert load_report(pytester.path / "reports", "demo")["summary"]["verdict"] == "conformant"
    broken = load_report(pytester.path / "reports", "myapi")
    assert broken["results"] == [] and "UNSET_TOKEN" in broken["problems"][0]
    assert broken["summary"]["verdict"] == "incomplete"
    # The broken target is one error, shown once; no placeholder skip hides among the counts.
    assert result.parseoutcomes()["errors"] == 1
    assert "skipped" not in result.parseoutcomes()
    assert result.stdout.str().count("UNSET_TOKEN is not set") <= 3
    assert "During handling of the above exception" not in result.stdout.str()


# --- usage errors -----------------------------------------------------------------


@pytest.mark.parametrize("value", ["", ",", " , "])
def test_empty_target_name_is_a_usage_error(pytester: pytest.Pytester, value: str) -> None:
    # `--target="$TARGET"` with TARGET unset in CI
    result = pytester.runpytest(f"--target={value}", "-p", "no:cacheprovider")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--target names no target*give NAME, NAME,NAME or 'all'*"])


def test_unknown_target_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", targets="targets:\n  api: {embedded: demo}\n")

    result = pytester.runpytest("--target=dmeo", "-p", "no:cacheprovider")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--target=dmeo: no such target in *targets.yaml (did you mean 'demo'?); known targets: api, demo, demo-apikey, demo-apikey-broken, demo-basic, demo-basic-broken, demo-broken*"])


def test_unknown_target_without_targets_file_says_it_is_missing(pytester: pytest.Pytester) -> None:
    # Given a folder with no targets.yaml
    result = pytester.runpytest("--target=myapi", "-p", "no:cacheprovider")

    # Then the error says the file is missing, not that it lacks the target
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        f"*--target=myapi: no such target: {pytester.path / 'targets.yaml'} does not exist, so the only targets are "
        "the embedded demo, demo-apikey, demo-apikey-broken, demo-basic, demo-basic-broken, demo-broken; create that file, or point --targets-file at one"
    ])


def test_broken_yaml_is_a_usage_error_naming_the_line(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", targets="targets:\n  demo:\n    embedded: [demo\n")

    result = pytester.runpytest("--target=demo", "-p", "no:cacheprovider")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*targets.yaml:*"])


def test_missing_explicit_targets_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--target=demo", "--targets-file=nowhere.yaml", "-p", "no:cacheprovider")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*nowhere.yaml*"])


def test_should_level_finding_passes_with_a_warning(pytester: pytest.Pytester) -> None:
    # Given an error code on a request that carried no token (RFC 6750 §3.1 SHOULD NOT).
    result = pytester.runpytest("--target=demo-broken", "-k", "error-on-missing-missing", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*auth conformance warnings*", "*demo-broken: GET /error-on-missing ?missing? WARN R6750-NO-ERROR-IF-NO-AUTH*"])
    summary = load_report(pytester.path / "reports", "demo-broken")["summary"]
    assert (summary["pass"], summary["warnings"]) == (1, 1)


def test_strict_mode_fails_should_level_findings(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--target=demo-broken", "-k", "error-on-missing-missing", "--conformance-strict", "-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*WARN R6750-NO-ERROR-IF-NO-AUTH*"])


def test_strict_mode_has_an_ini_twin(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nconformance_strict = true\n")

    result = pytester.runpytest("--target=demo-broken", "-k", "error-on-missing-missing", "-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)


# --- usual pytest options on top --------------------------------------------------


def test_junitxml_names_each_case(pytester: pytest.Pytester) -> None:
    pytester.runpytest("--target=demo-broken", "-k", "expired-accepted", "--junitxml=junit.xml", "-p", "no:cacheprovider")

    xml = (pytester.path / "junit.xml").read_text(encoding="utf-8")
    assert 'name="test_bad_credentials_are_challenged[demo-broken-GET /expired-accepted-expired]"' in xml
    assert "R6750-TOKEN-LIFETIME" in xml


def test_last_failed_reruns_only_the_failures(pytester: pytest.Pytester) -> None:
    first = pytester.runpytest("--target=demo-broken", "-k", "expired-accepted")
    again = pytester.runpytest("--target=demo-broken", "-k", "expired-accepted", "--lf")

    assert first.parseoutcomes()["failed"] == 1 and first.parseoutcomes()["passed"] > 1
    assert again.parseoutcomes()["failed"] == 1 and "passed" not in again.parseoutcomes()


# --- every planted mistake, under its requirements -----------------------------------


def each(cases: set[str], findings: dict[str, str]) -> dict[str, dict[str, str]]:
    """The same broken requirements, with their grades, for each of ``cases``."""
    return {case: findings for case in cases}


# Endpoint -> case -> every requirement the case breaks, with its grade (the
# generated stream aside: what it meets depends on the seed).
DEMO_BROKEN_FINDINGS: dict[str, dict[str, dict[str, str]]] = {
    "GET /no-challenge": each(REFUSED, {"R9110-401-CHALLENGE": "fail"}),
    "GET /forbidden-when-missing": each(NO_AUTHORIZATION, {"R9110-401-ON-FAILURE": "fail", "R6750-WWWA-REQUIRED": "fail"}),
    "GET /expired-accepted": each(EXPIRED, {"R6750-TOKEN-LIFETIME": "fail"}),
    "GET /login-redirect": each(NO_AUTHORIZATION, {"R9110-401-ON-FAILURE": "fail"}),
    "GET /crash-on-malformed": each(BAD_REQUEST | NO_SPACE, {"R9110-NO-5XX": "fail", "HYG-NO-STACK-TRACE": "warn"}),
    "GET /error-on-missing": each(NO_AUTHORIZATION, {"R6750-NO-ERROR-IF-NO-AUTH": "warn"}),
    "GET /unquoted-realm": each(REFUSED, {"R9110-REALM-QUOTED": "fail"}),
    "GET /empty-list-member": each(REFUSED, {"R9110-LIST-NO-EMPTY": "fail"}),
    "GET /spaces-around-equals": each(REFUSED, {"R9110-BWS-SEND": "fail"}),
    "GET /needless-escape": each(BAD_REQUEST | BAD_TOKEN, {"R9110-QPAIR-SEND": "warn"}),
    "GET /repeated-error": each(BAD_REQUEST | BAD_TOKEN, {"R9110-PARAM-UNIQUE": "fail", "R6750-ATTR-ONCE": "fail"}),
    "GET /missing-commas": {
        **each(VALID, {"R9110-WWWA-NON-401": "info"}),
        **each(UNAUTHORIZED, {"R9110-401-CHALLENGE": "fail"}),
        **each(BAD_REQUEST, {"R9110-WWWA-NON-401": "info", "R6750-WWWA-REQUIRED": "fail"}),
    },
    "GET /basic-challenge": each(REFUSED, {"R6750-SCHEME": "fail"}),
    "GET /bare-challenge": {
        **each(NO_AUTHORIZATION | OTHER_SCHEME, {"R6750-PARAM-REQUIRED": "warn"}),
        **each(BAD_REQUEST | BAD_TOKEN, {"R6750-PARAM-REQUIRED": "warn", "R6750-ERROR-ON-FAILURE": "warn"}),
    },
    "GET /invalid-request-on-401": each(BAD_TOKEN, {"R6750-ERR-INVALID-REQUEST": "warn"}),
    "GET /expired-without-error": each(EXPIRED, {"R6750-ERROR-ON-FAILURE": "warn"}),
    "GET /expired-token-code": each(EXPIRED, {"R6750-ERROR-VALUES": "fail", "R6750-ERR-INVALID-TOKEN": "warn"}),
    "GET /non-ascii-description": each(BAD_REQUEST | BAD_TOKEN, {"R6750-ATTR-CHARSET": "fail"}),
    "GET /expired-gets-400": each(EXPIRED, {"R9110-401-ON-FAILURE": "warn", "R6750-ERR-INVALID-REQUEST": "warn"}),
    "GET /admin/scope-not-checked": each({"unprivileged:reader"}, {"R6749-RS-VALIDATE": "fail"}),
    "GET /admin/403-without-error": each({"unprivileged:reader"}, {"R6750-ERR-INSUFFICIENT-SCOPE": "warn"}),
    "GET /admin/401-for-reader": each({"unprivileged:reader"}, {"R6750-ERR-INSUFFICIENT-SCOPE": "warn"}),
    "GET /leaky-refusal": each(UNAUTHORIZED, {"R6749-RS-VALIDATE": "fail"}),
    "GET /empty-refusal-body": each(REFUSED, {"R9110-4XX-BODY": "warn"}),
    "GET /proxy-auth-required": each(UNAUTHORIZED, {"R9110-407-PROXY-ONLY": "fail", "R9110-401-ON-FAILURE": "fail", "R6750-WWWA-REQUIRED": "fail"}),
    "GET /empty-token-accepted": each(BEARER_ALONE, {"R6750-HDR-SYNTAX": "fail"}),
    "GET /jwt/alg-none-accepted": each(JWT_ALG_NONE, {"R8725-ALG-NONE": "fail"}),
    "GET /jwt/signature-not-verified": {
        **each({"wrong:bad-signature", "wrong:signature-stripped", "wrong:tampered-claims"}, {"R8725-VERIFY-ALL": "fail"}),
        **each(JWT_ALG_NONE, {"R8725-ALG-NONE": "fail"}),
        **each({"wrong:flipped-char"}, {"R6749-RS-VALIDATE": "fail"}),
        **each(JWT_CONFUSED, {"R8725-ALG-CONFUSION": "fail"}),
    },
    "GET /jwt/exp-not-checked": {
        **each({"expired"}, {"R6750-TOKEN-LIFETIME": "fail"}),
        **each({"expired:exp-passed"}, {"R7519-EXP": "fail"}),
        **each({"expired:not-yet-valid"}, {"R7519-NBF": "fail"}),
    },
    "GET /jwt/iss-aud-not-checked": {
        **each({"wrong:foreign-issuer"}, {"R8725-ISS": "fail"}),
        **each({"wrong:wrong-audience"}, {"R7519-AUD": "fail"}),
    },
    "GET /jwt/alg-from-header": each(JWT_CONFUSED, {"R8725-ALG-CONFUSION": "fail"}),
    "GET /case-sensitive-scheme": each(SCHEME_CASE, {"R9110-SCHEME-CASE": "fail"}),
}

DEMO_BASIC_BROKEN_FINDINGS: dict[str, dict[str, dict[str, str]]] = {
    "GET /no-realm": each(BASIC_REFUSED, {"R7617-REALM": "fail"}),
    "GET /latin-1-charset": each(BASIC_REFUSED, {"R7617-CHARSET": "fail"}),
    "GET /no-challenge": each(BASIC_REFUSED, {"R9110-401-CHALLENGE": "fail"}),
    "GET /unquoted-realm": each(BASIC_REFUSED, {"R9110-REALM-QUOTED": "fail"}),
    "GET /latin-1-decoding": each({"valid:reader"}, {"R7617-UTF8": "fail"}),
    "GET /crash-on-bad-base64": each(BASIC_BAD_BASE64, {"R9110-NO-5XX": "fail", "HYG-NO-STACK-TRACE": "warn"}),
    "GET /empty-credentials-accepted": each(BASIC_ALONE, {"R7617-CREDS-FORMAT": "fail"}),
}

DEMO_APIKEY_BROKEN_FINDINGS: dict[str, dict[str, dict[str, str]]] = {
    "GET /no-challenge": each(API_KEY_REFUSED, {"R9110-401-CHALLENGE": "fail"}),
    "GET /forbidden-when-missing": each(NO_API_KEY, {"R9110-401-ON-FAILURE": "fail"}),
    "GET /reader-refused": each({"valid:reader"}, {"R9110-401-MEANS-REFUSED": "fail"}),
    "GET /admin/401-for-reader": each({"unprivileged:reader"}, {"R9110-403-INADEQUATE": "info"}),
}

BROKEN_DEMO_FINDINGS = {
    "demo-broken": DEMO_BROKEN_FINDINGS,
    "demo-basic-broken": DEMO_BASIC_BROKEN_FINDINGS,
    "demo-apikey-broken": DEMO_APIKEY_BROKEN_FINDINGS,
}

# What a check can cite that no broken demo breaks.
NOT_PLANTED_PREFIXES = ("R7616-",)  # Digest
NOT_PLANTED = {
    "R6750-HDR-SUPPORT": "a refused control makes the endpoint's other cases errors; unit-tested in test_checks.py",
    "R9110-403-SEMANTICS": "no common API answers an unprivileged token with another 4xx; unit-tested in test_checks.py",
    "R9110-FIELD-TOO-LARGE": "http.server answers the 64 KiB line with 431 before the app sees it",
    "R9110-FIELD-CTL": "needs a 2xx to a generated value with a control character, which holds no real token",
    "R9110-AUTHZ-SINGLETON": "both demos refuse two Authorization lines before reading either; unit-tested in test_checks.py",
}
# Cited only as passed findings: demo-broken shows them passing.
PASS_ONLY = {"R9110-400-SYNTAX", "R9110-404-HIDE"}


@pytest.mark.parametrize("name", list(BROKEN_DEMO_FINDINGS))
def test_broken_demo_reports_each_mistake_under_its_requirements(pytester: pytest.Pytester, name: str) -> None:
    pytester.runpytest(f"--target={name}", "-k", "not generated", "-p", "no:cacheprovider")

    # Every case breaks exactly the requirements of its planted mistake, at their grades.
    report = load_report(pytester.path / "reports", name)
    assert broken_findings(report) == BROKEN_DEMO_FINDINGS[name]


def test_rules_that_only_pass_are_seen_passing(pytester: pytest.Pytester) -> None:
    pytester.runpytest("--target=demo-broken", "-k", "items or hidden", "-p", "no:cacheprovider")

    report = load_report(pytester.path / "reports", "demo-broken")
    passed = {(r["endpoint"], r["id"], f["requirement"]) for r in report["results"] for f in r["findings"] if f["passed"]}
    assert ("GET /admin/hidden", "unprivileged:reader", "R9110-404-HIDE") in passed
    assert {("GET /items", case, "R9110-400-SYNTAX") for case in BAD_REQUEST} <= passed


@pytest.mark.parametrize("name", list(BROKEN_DEMO_FINDINGS))
def test_failing_cases_are_those_with_a_failing_finding(name: str) -> None:
    # The two tables of each broken demo agree; only the generated stream is in one of them.
    findings, failures = BROKEN_DEMO_FINDINGS[name], BROKEN_DEMO_FAILURES[name]
    failing = {endpoint: {case for case, found in cases.items() if "fail" in found.values()} for endpoint, cases in findings.items()}

    assert {endpoint: cases for endpoint, cases in failing.items() if cases} == {endpoint: cases - GENERATED for endpoint, cases in failures.items()}


def test_broken_demos_break_every_rule_an_api_can() -> None:
    broken = {requirement for table in BROKEN_DEMO_FINDINGS.values() for cases in table.values() for found in cases.values() for requirement in found}
    not_planted = {r for r in citable_requirements() if r.startswith(NOT_PLANTED_PREFIXES)} | set(NOT_PLANTED)

    assert citable_requirements() - not_planted - PASS_ONLY == broken


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_waived_finding_shows_as_waived_in_both_reports(pytester: pytest.Pytester, workers: tuple[str, ...]) -> None:
    # Given a target that opts out of the challenge rule, with its reason
    pytester.makefile(".yaml", targets='targets:\n  dbw:\n    embedded: demo-broken\n    waive: {R9110-401-CHALLENGE: "gateway strips it"}\n')

    # When the 401 without a challenge is audited
    pytester.runpytest("--target=dbw", "-k", "no-challenge-missing", "-p", "no:cacheprovider", *workers)

    # Then the JSON report has the finding waived (not passed) and the case passing
    report = load_report(pytester.path / "reports", "dbw")
    [result] = report["results"]
    waived = [(f["requirement"], f["passed"], f["waived"]) for f in result["findings"] if f["waived"]]
    assert (result["endpoint"], result["id"], result["outcome"]) == ("GET /no-challenge", "missing", "pass")
    assert waived == [("R9110-401-CHALLENGE", False, "gateway strips it")]
    assert (report["summary"]["waived"], report["summary"]["warnings"]) == (1, 0)

    # And the HTML report lists it among the waived findings with the reason
    html = (pytester.path / "reports" / "dbw.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="waived">') :]
    section = section[: section.index("</section>")]
    assert "R9110-401-CHALLENGE" in section and "waived: gateway strips it" in section

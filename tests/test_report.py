"""Tests for conformance.report: the JSON document, its schema, the files and the HTML page."""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Callable
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import markupsafe
import pytest

from conformance.catalogue import requirement
from conformance.report import build_report, format_json, render_html, write_reports

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'

Run = dict[str, Any]


def _finding(
    requirement_id: str,
    *,
    passed: bool = True,
    grade: str = "fail",
    message: str = "as required",
    waived: str | None = None,
) -> dict[str, Any]:
    return {
        "requirement": requirement_id,
        "passed": passed,
        "grade": grade,
        "message": message,
        "waived": waived,
    }


def _result(
    endpoint: str,
    case: str,
    variant: str | None = None,
    *,
    outcome: str = "pass",
    status: int | None = 401,
    findings: tuple[dict[str, Any], ...] = (),
    message: str | None = None,
) -> dict[str, Any]:
    case_id = case if variant is None else f"{case}:{variant}"
    return {
        "nodeid": f"suites/test_auth.py::test_case[demo-{endpoint}-{case_id}]",
        "endpoint": endpoint,
        "case": case,
        "variant": variant,
        "id": case_id,
        "outcome": outcome,
        "expected": "401 with a Bearer challenge",
        "sent": "Authorization: Bearer <43 chars>  (credentials masked)",
        "observed": {
            "status": status,
            "reason": None if status is None else "Unauthorized",
            "www_authenticate": [] if status is None else ['Bearer realm="demo"'],
            "location": None,
            "body_excerpt": None if status is None else '{"error": "unauthorized"}',
        },
        "message": message,
        "findings": list(findings),
    }


def _run(**overrides: Any) -> Run:
    """A bearer target with one case of every outcome, a warning, a waiver and a note."""
    run: Run = {
        "target": "demo",
        "base_url": "http://127.0.0.1:5000",
        "scheme": "bearer",
        "started_at": "2025-05-01T12:00:00Z",
        "finished_at": "2025-05-01T12:00:04.250000Z",
        "tool": {"name": "pytest-auth-conformance", "version": "0.1.0"},
        "problems": [],
        "endpoints": ["GET /items", "POST /items"],
        "results": [
            _result(
                "GET /items",
                "valid",
                "admin",
                status=200,
                findings=(_finding("R6750-HDR-SUPPORT"),),
            ),
            _result(
                "GET /items",
                "missing",
                findings=(
                    _finding("R9110-401-CHALLENGE"),
                    _finding(
                        "R9110-4XX-BODY",
                        passed=False,
                        grade="warn",
                        message="the 401 has an empty body",
                    ),
                ),
            ),
            _result(
                "GET /items",
                "malformed",
                "empty",
                outcome="fail",
                status=403,
                message="expected 401, got 403",
                findings=(
                    _finding(
                        "R9110-401-CHALLENGE",
                        passed=False,
                        message="403 without a challenge",
                    ),
                    _finding(
                        "R9110-4XX-BODY",
                        passed=False,
                        grade="warn",
                        message="empty body",
                    ),
                ),
            ),
            _result(
                "POST /items",
                "valid",
                "admin",
                outcome="error",
                status=None,
                message="connection refused: could not judge",
            )
            | {"sent": None},
            _result(
                "POST /items",
                "wrong",
                "signature",
                findings=(
                    _finding(
                        "R6750-ERROR-ON-FAILURE",
                        passed=False,
                        grade="warn",
                        message="no error parameter",
                        waived="the gateway strips error codes (ticket OPS-12)",
                    ),
                    _finding(
                        "R9110-404-HIDE",
                        passed=False,
                        grade="info",
                        message="404 hides the resource",
                    ),
                ),
            ),
            _result(
                "POST /items",
                "expired",
                outcome="skip",
                status=None,
                message="no expired credential configured",
            ),
        ],
    }
    run.update(overrides)
    return run


def _broken_run() -> Run:
    # As the plugin describes a target it could not load: no scheme, no URL.
    return _run(
        target="broken",
        base_url="",
        scheme=None,
        endpoints=[],
        results=[],
        problems=[
            "targets.yaml:7: credentials.admin: environment variable 'ADMIN_TOKEN' is not set"
        ],
    )


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    text = (
        resources.files("conformance")
        .joinpath("data/report.schema.json")
        .read_text("utf-8")
    )
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


class _Page(HTMLParser):
    """Collects the tags, attributes, element ids and style text of an HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.style = ""
        self._in_style = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data

    def values(self, name: str) -> list[str]:
        return [value for _, attribute, value in self.attributes if attribute == name]


# --- the JSON document ------------------------------------------------------


@pytest.mark.parametrize(
    ("waived_grade", "verdict"),
    [("fail", "conformant-with-waivers"), ("warn", "conformant")],
)
def test_a_waived_failure_qualifies_the_verdict(waived_grade: str, verdict: str) -> None:
    # Given a run where every case passed, one of them only thanks to a waiver
    waived = _finding("R9110-NO-5XX", passed=False, grade=waived_grade, message="500", waived="known crash")
    run = _run(results=[
        _result("GET /items", "valid", "admin", status=200, findings=(_finding("R6750-HDR-SUPPORT"),)),
        _result("GET /items", "malformed", "garbage", status=500, findings=(waived,)),
    ])

    document = build_report(run)

    # Then a waived MUST does not read as plain conformance, in JSON or HTML
    assert document["summary"]["verdict"] == verdict
    html = render_html(document)
    if verdict == "conformant-with-waivers":
        assert "Conformant with waivers" in html
        assert "Without the waivers the API would not be conformant" in html


def test_summary_counts_each_outcome() -> None:
    summary = build_report(_run())["summary"]

    assert summary == {
        "pass": 3,
        "fail": 1,
        "error": 1,
        "skip": 1,
        "total": 6,
        # The run names no case count, so it is taken as whole.
        "cases": 6,
        "not_run": 0,
        # The warn finding of the failing case counts too (a stack trace in
        # a 500 matters either way); the waived one is counted as waived.
        "warnings": 2,
        "waived": 1,
        "verdict": "non-conformant",
    }


@pytest.mark.parametrize(
    ("outcomes", "problems", "verdict"),
    [
        pytest.param(["pass", "pass", "skip"], [], "conformant", id="passes-and-skips"),
        pytest.param(["pass", "fail", "error"], [], "non-conformant", id="any-failure"),
        pytest.param(["pass", "error"], [], "incomplete", id="error-without-failure"),
        pytest.param([], ["bad key"], "incomplete", id="broken-target"),
        pytest.param(["skip", "skip"], [], "incomplete", id="nothing-judged"),
        pytest.param([], [], "incomplete", id="no-cases"),
    ],
)
def test_verdict_follows_outcomes_and_problems(
    outcomes: list[str], problems: list[str], verdict: str
) -> None:
    kinds = ["valid", "missing", "malformed"]
    results = [
        _result("GET /items", kind, outcome=outcome)
        for kind, outcome in zip(kinds[: len(outcomes)], outcomes, strict=True)
    ]

    report = build_report(_run(results=results, problems=problems))

    assert report["summary"]["verdict"] == verdict


@pytest.mark.parametrize(
    ("outcomes", "verdict"),
    [
        pytest.param(["pass", "pass"], "partial", id="passes"),
        pytest.param(["pass", "error"], "partial", id="error"),
        pytest.param(["pass", "fail"], "non-conformant", id="failure-holds-for-the-whole-api"),
    ],
)
def test_partial_run_claims_no_verdict_for_the_api(outcomes: list[str], verdict: str) -> None:
    # Given a target with 5 cases, of which the run reached 2
    results = [
        _result("GET /items", kind, outcome=outcome)
        for kind, outcome in zip(["valid", "missing"], outcomes, strict=True)
    ]

    report = build_report(_run(results=results, cases=5))

    # Then the summary says how many were left out, and the page says so too
    summary = report["summary"]
    assert (summary["total"], summary["cases"], summary["not_run"], summary["verdict"]) == (2, 5, 3, verdict)
    html = render_html(report)
    assert ">Conformant<" not in html
    assert "3 of the target's 5 cases were not run" in html


@pytest.mark.parametrize("strict", [False, True])
def test_strict_flag_is_recorded(strict: bool) -> None:
    assert build_report(_run(), strict=strict)["strict"] is strict


def test_results_follow_endpoint_then_case_order() -> None:
    # Given results in reverse order and endpoints listed POST first
    run = _run(endpoints=["POST /items", "GET /items"])
    run["results"].reverse()

    results = build_report(run)["results"]

    assert [(r["endpoint"], r["id"]) for r in results] == [
        ("POST /items", "valid:admin"),
        ("POST /items", "wrong:signature"),
        ("POST /items", "expired"),
        ("GET /items", "valid:admin"),
        ("GET /items", "missing"),
        ("GET /items", "malformed:empty"),
    ]


def test_variants_sort_by_name_within_kind() -> None:
    results = [
        _result("GET /items", "malformed", name)
        for name in ("two-lines", "empty", "bad-base64")
    ]

    report = build_report(_run(results=results))

    assert [r["id"] for r in report["results"]] == [
        "malformed:bad-base64",
        "malformed:empty",
        "malformed:two-lines",
    ]


def test_unlisted_endpoint_is_appended_last() -> None:
    run = _run(endpoints=["GET /items"])
    run["results"].append(_result("DELETE /items", "missing"))

    report = build_report(run)

    assert report["endpoints"] == ["GET /items", "DELETE /items", "POST /items"]
    assert [r["endpoint"] for r in report["results"]][-1] == "POST /items"


def test_findings_carry_catalogue_details() -> None:
    report = build_report(_run())
    malformed = next(r for r in report["results"] if r["id"] == "malformed:empty")

    finding = next(
        f for f in malformed["findings"] if f["requirement"] == "R9110-401-CHALLENGE"
    )

    row = requirement("R9110-401-CHALLENGE")
    assert finding["level"] == row.level == "MUST"
    assert finding["section"] == row.section
    assert finding["summary"] == row.summary
    assert finding["link"] == "https://www.rfc-editor.org/rfc/rfc9110"


def test_broken_findings_come_first() -> None:
    results = build_report(_run())["results"]

    missing = next(r for r in results if r["id"] == "missing")

    assert [(f["requirement"], f["passed"]) for f in missing["findings"]] == [
        ("R9110-4XX-BODY", False),
        ("R9110-401-CHALLENGE", True),
    ]


def test_unknown_requirement_id_raises() -> None:
    run = _run(
        results=[
            _result("GET /items", "missing", findings=(_finding("R9999-NOT-THERE"),))
        ]
    )

    with pytest.raises(KeyError, match="unknown requirement ID 'R9999-NOT-THERE'"):
        build_report(run)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("outcome", "passed", "outcome 'passed' is not one of pass, fail, error, skip"),
        ("case", "absent", "case kind 'absent' is not one of valid, unprivileged"),
    ],
)
def test_result_outside_model_raises(field: str, value: str, message: str) -> None:
    result = _result("GET /items", "missing")
    result[field] = value

    with pytest.raises(ValueError, match=re.escape(message)):
        build_report(_run(results=[result]))


def test_grade_outside_model_raises() -> None:
    result = _result(
        "GET /items",
        "missing",
        findings=(_finding("R9110-401-CHALLENGE", grade="error"),),
    )

    with pytest.raises(
        ValueError,
        match=r"\[demo-GET /items-missing\]: grade 'error' is not one of fail, warn, info",
    ):
        build_report(_run(results=[result]))


def test_unknown_run_keys_are_not_copied() -> None:
    # Given a plugin that (wrongly) left a credential in the run data
    run = _run(credentials={"admin": "s3cr3t-token"})
    run["results"][0]["token"] = "s3cr3t-token"
    run["results"][0]["observed"]["request_headers"] = [
        "Authorization: Bearer s3cr3t-token"
    ]

    # When the report is built, then the secret is in neither output
    report = build_report(run)
    assert "s3cr3t-token" not in format_json(report)
    assert "s3cr3t-token" not in render_html(report)


def test_shuffled_input_gives_identical_bytes(tmp_path: Path) -> None:
    # Given the same run with results and findings in another order (an xdist run)
    serial = _run()
    parallel = copy.deepcopy(serial)
    random.Random(9).shuffle(parallel["results"])
    for result in parallel["results"]:
        result["findings"].reverse()
    assert parallel["results"] != serial["results"]

    # When both are written
    first = write_reports([serial], tmp_path / "serial")
    second = write_reports([parallel], tmp_path / "xdist")

    # Then the files are byte for byte the same
    assert [path.read_bytes() for path in first] == [
        path.read_bytes() for path in second
    ]


def test_json_is_sorted_indented_utf8(tmp_path: Path) -> None:
    run = _run(target="démo")

    json_path, _ = write_reports([run], tmp_path)

    text = json_path.read_bytes().decode("utf-8")
    assert (
        text
        == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False)
        + "\n"
    )
    assert '"target": "démo"' in text


# --- the schema -------------------------------------------------------------


def _hostile_run() -> Run:
    run = _run(target=HOSTILE)
    observed = run["results"][2]["observed"]
    observed.update(
        reason=HOSTILE,
        www_authenticate=[HOSTILE],
        location=HOSTILE,
        body_excerpt=HOSTILE,
    )
    return run


@pytest.mark.parametrize(
    "run",
    [
        pytest.param(_run(), id="full"),
        pytest.param(_run(results=[], endpoints=["GET /items"]), id="no-results"),
        pytest.param(_broken_run(), id="broken"),
        pytest.param(_broken_run() | {"scheme": "ntlm"}, id="broken-unknown-scheme"),
        pytest.param(_hostile_run(), id="hostile"),
    ],
)
def test_every_written_report_matches_schema(
    run: Run, tmp_path: Path, validator: jsonschema.protocols.Validator
) -> None:
    written = write_reports([run], tmp_path)

    for path in written:
        if path.suffix == ".json":
            validator.validate(json.loads(path.read_text("utf-8")))


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = document
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[last] = value

    return mutate


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = document
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        del node[last]

    return mutate


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(_set("results.0.outcome", "passed"), id="outcome-enum"),
        pytest.param(_set("results.0.case", "absent"), id="case-enum"),
        pytest.param(_set("results.0.findings.0.grade", "error"), id="grade-enum"),
        pytest.param(_set("results.0.findings.0.level", "MUSTN'T"), id="level-enum"),
        pytest.param(_set("summary.verdict", "fine"), id="verdict-enum"),
        pytest.param(_set("results.0.id", "missin"), id="case-id-pattern"),
        pytest.param(_set("started_at", "yesterday"), id="timestamp-pattern"),
        pytest.param(_set("results.0.observed.status", "401"), id="status-type"),
        pytest.param(_drop("summary.waived"), id="summary-key-missing"),
        pytest.param(
            _drop("results.0.observed.www_authenticate"), id="observed-key-missing"
        ),
        pytest.param(_drop("results.0.findings.0.link"), id="finding-key-missing"),
        pytest.param(_drop("strict"), id="top-level-key-missing"),
        pytest.param(_set("credentials", {}), id="extra-top-level-key"),
        pytest.param(_set("results.0.token", "x"), id="extra-result-key"),
    ],
)
def test_schema_rejects_broken_documents(
    mutate: Callable[[dict[str, Any]], None], validator: jsonschema.protocols.Validator
) -> None:
    document = build_report(_run())
    validator.validate(document)

    mutate(document)

    with pytest.raises(jsonschema.ValidationError):
        validator.validate(document)


# --- files ------------------------------------------------------------------


def test_write_reports_returns_json_and_html(tmp_path: Path) -> None:
    directory = tmp_path / "reports" / "nested"

    written = write_reports([_run(), _broken_run()], directory)

    assert written == [
        directory / "demo.json",
        directory / "demo.html",
        directory / "broken.json",
        directory / "broken.html",
    ]
    assert all(path.is_file() for path in written)


@pytest.mark.parametrize(
    ("target", "stem"),
    [
        ("demo", "demo"),
        ("api.v2_internal-1", "api.v2_internal-1"),
        ("../../etc/passwd", "_.._.._etc_passwd"),
        ("a/b\\c d", "a_b_c_d"),
        (".hidden", "_.hidden"),
        ("..", "_.."),
        ("café", "caf_"),
        ("x" * 300, "x" * 100),
    ],
)
def test_file_names_are_sanitized(target: str, stem: str, tmp_path: Path) -> None:
    written = write_reports([_run(target=target)], tmp_path)

    assert [path.name for path in written] == [f"{stem}.json", f"{stem}.html"]
    assert all(path.parent == tmp_path for path in written)


@pytest.mark.parametrize("order", [1, -1], ids=["given-order", "reversed"])
def test_colliding_file_names_get_suffixes(order: int, tmp_path: Path) -> None:
    # "a/b" and "a b" both sanitize to "a_b", which "A_B" matches on macOS
    runs = [_run(target=name) for name in ("a_b", "a/b", "A_B", "a b")][::order]

    written = write_reports(runs, tmp_path)

    stems = {
        json.loads(p.read_text("utf-8"))["target"]: p.stem
        for p in written
        if p.suffix == ".json"
    }
    assert stems == {"A_B": "A_B", "a_b": "a_b-2", "a b": "a_b-3", "a/b": "a_b-4"}


def test_duplicate_target_names_raise(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="several runs for the same target: 'demo'"):
        write_reports([_run(), _run()], tmp_path)

    assert not list(tmp_path.iterdir())


def test_bad_run_writes_no_files(tmp_path: Path) -> None:
    bad = _run(
        target="bad",
        results=[_result("GET /items", "missing", findings=(_finding("R0-NOPE"),))],
    )

    with pytest.raises(KeyError):
        write_reports([_run(), bad], tmp_path / "reports")

    assert not (tmp_path / "reports").exists()


# --- the HTML page ----------------------------------------------------------


def _in_result(
    index: int, mutate: Callable[[dict[str, Any]], None]
) -> Callable[[Run], None]:
    return lambda run: mutate(run["results"][index])


def _observed(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda result: result["observed"].__setitem__(key, value)


def _field(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda result: result.__setitem__(key, value)


def _finding_field(position: int, key: str) -> Callable[[dict[str, Any]], None]:
    return lambda result: result["findings"][position].__setitem__(key, HOSTILE)


# Index 2 fails, 1 passes with a warning, 3 errors, 4 carries a waiver and a note, 5 skips.
HOSTILE_PLACES: dict[str, Callable[[Run], None]] = {
    "reason": _in_result(2, _observed("reason", HOSTILE)),
    "www-authenticate": _in_result(
        2, _observed("www_authenticate", ['Bearer realm="x"', HOSTILE])
    ),
    "location": _in_result(2, _observed("location", HOSTILE)),
    "body-excerpt": _in_result(2, _observed("body_excerpt", HOSTILE)),
    "warning-reason": _in_result(1, _observed("reason", HOSTILE)),
    "failure-message": _in_result(2, _field("message", HOSTILE)),
    "error-message": _in_result(3, _field("message", HOSTILE)),
    "skip-message": _in_result(5, _field("message", HOSTILE)),
    "finding-message": _in_result(2, _finding_field(0, "message")),
    "waived-finding-message": _in_result(4, _finding_field(0, "message")),
    "waiver-reason": _in_result(4, _finding_field(0, "waived")),
    "note-message": _in_result(4, _finding_field(1, "message")),
    "sent": _in_result(2, _field("sent", HOSTILE)),
    "expected": _in_result(2, _field("expected", HOSTILE)),
    "nodeid": _in_result(2, _field("nodeid", HOSTILE)),
    "endpoint": _in_result(2, _field("endpoint", "GET /" + HOSTILE)),
    "variant": _in_result(
        2, lambda result: result.update(variant=HOSTILE, id=f"malformed:{HOSTILE}")
    ),
    "target": lambda run: run.update(target=HOSTILE),
    "base-url": lambda run: run.update(base_url=HOSTILE),
    "tool-version": lambda run: run["tool"].update(version=HOSTILE),
    "problem": lambda run: run.update(problems=[HOSTILE]),
}


@pytest.mark.parametrize("place", HOSTILE_PLACES.values(), ids=HOSTILE_PLACES.keys())
def test_hostile_text_is_escaped_everywhere(place: Callable[[Run], None]) -> None:
    run = _run()
    place(run)

    html = render_html(build_report(run))

    assert "<script" not in html
    assert "<img" not in html
    assert str(markupsafe.escape(HOSTILE)) in html
    page = _Page(html)
    assert "script" not in page.tags
    assert "img" not in page.tags
    assert not [name for name in page.values("onerror")]


def test_control_characters_are_made_visible() -> None:
    # Given a challenge with an ANSI escape and a bidi override, and a CRLF body
    run = _run()
    observed = run["results"][2]["observed"]
    observed["www_authenticate"] = ['Bearer realm="a\x1b[31m\u202eb"']
    observed["body_excerpt"] = "line one\r\nline\x00two"

    html = render_html(build_report(run))

    assert "\x1b" not in html and "\u202e" not in html and "\x00" not in html
    assert "realm=&#34;a\\x1b[31m\\u202eb&#34;" in html
    assert "line one\r\nline\\x00two" in html


def test_html_loads_no_external_resources() -> None:
    html = render_html(build_report(_run()))

    page = _Page(html)
    loaders = {
        "script",
        "link",
        "img",
        "iframe",
        "object",
        "embed",
        "audio",
        "video",
        "source",
        "base",
        "form",
    }
    assert not loaders & set(page.tags)
    assert not page.values("src") and not page.values("srcset")
    assert "@import" not in page.style and "url(" not in page.style
    # The only absolute URLs are links a reader may follow to the RFCs.
    for tag, name, value in page.attributes:
        if re.search(r"https?:|//", value) and name != "content":
            assert (tag, name) == ("a", "href")
            assert value.startswith("https://www.rfc-editor.org/rfc/rfc")
    assert "refresh" not in [value.lower() for value in page.values("http-equiv")]


def test_html_header_shows_run_and_verdict() -> None:
    html = render_html(build_report(_run(), strict=True))

    assert "<title>Authentication conformance report: demo</title>" in html
    assert '<p class="verdict verdict-non-conformant">Non-conformant</p>' in html
    assert "<code>http://127.0.0.1:5000</code>" in html
    assert "2025-05-01T12:00:04.250000Z" in html
    assert "pytest-auth-conformance 0.1.0" in html
    assert "strict: SHOULD-level findings fail" in html


def test_matrix_groups_columns_by_kind() -> None:
    # Given cases listed in the reverse of the kind order
    results = [
        _result("GET /items", kind, variant)
        for kind, variant in [
            ("expired", None),
            ("wrong", "unknown-user"),
            ("malformed", "two-lines"),
            ("malformed", "empty"),
            ("missing", None),
            ("unprivileged", "reader"),
            ("valid", "admin"),
        ]
    ]

    html = render_html(build_report(_run(results=results)))

    groups = re.findall(r'class="group"[^>]*>([a-z]+)</th>', html)
    assert groups == [
        "valid",
        "unprivileged",
        "missing",
        "malformed",
        "wrong",
        "expired",
    ]
    assert '<th scope="colgroup" class="group" colspan="2">malformed</th>' in html
    assert re.findall(r'class="variant">([^<]+)</th>', html) == [
        "admin",
        "reader",
        "empty",
        "two-lines",
        "unknown-user",
    ]


def test_matrix_cells_link_to_details() -> None:
    html = render_html(build_report(_run()))

    page = _Page(html)
    links = [value[1:] for value in page.values("href") if value.startswith("#")]
    ids = set(page.values("id"))
    assert set(links) <= ids
    # fail, warn, error, waived pass and skip cells each link to their detail
    for mark in ("fail", "warn", "error", "pass", "skip"):
        assert re.search(
            rf'<td class="cell-{mark}" [^>]*><a href="#[a-z]+-\d+">', html
        ), mark


def test_failure_detail_shows_exchange_and_requirement() -> None:
    run = _run()
    run["results"][2]["observed"].update(
        www_authenticate=["Basic realm=other", "Newauth realm=x"],
        location="/login?next=%2Fitems",
    )

    html = render_html(build_report(run))

    detail = html[html.index('id="failures"') : html.index('id="warnings"')]
    assert "Authorization: Bearer &lt;43 chars&gt;  (credentials masked)" in detail
    assert "401 with a Bearer challenge" in detail
    assert "<code>403 Unauthorized</code>" in detail
    assert (
        "<li><code>Basic realm=other</code></li><li><code>Newauth realm=x</code></li>"
        in detail
    )
    assert "<code>/login?next=%2Fitems</code>" in detail
    assert (
        '<a class="req" href="https://www.rfc-editor.org/rfc/rfc9110">R9110-401-CHALLENGE</a>'
        in detail
    )
    assert '<td class="section">9110 §11.6.1, §15.5.2</td>' in detail
    assert "403 without a challenge" in detail
    assert "connection refused: could not judge" in detail
    assert "no HTTP response" in detail
    assert "nothing: no request was built" in detail


def test_waived_finding_is_never_a_pass() -> None:
    html = render_html(build_report(_run()))

    waived = html[html.index('id="waived"') : html.index('id="notes"')]
    assert "waived: the gateway strips error codes (ticket OPS-12)" in waived
    assert "R6750-ERROR-ON-FAILURE" in waived
    assert "chip-pass" not in waived
    assert "<sup>w</sup>" in html


def test_warnings_and_notes_are_listed() -> None:
    html = render_html(build_report(_run()))

    warnings = html[html.index('id="warnings"') : html.index('id="waived"')]
    notes = html[html.index('id="notes"') : html.index('id="skipped"')]
    assert "the 401 has an empty body" in warnings
    assert "R9110-4XX-BODY" in warnings
    assert "404 hides the resource" in notes
    assert "no expired credential configured" in html[html.index('id="skipped"') :]


def test_broken_target_report(tmp_path: Path) -> None:
    json_path, html_path = write_reports([_broken_run()], tmp_path)

    # The JSON keeps the problem and says the audit is incomplete
    document = json.loads(json_path.read_text("utf-8"))
    assert document["problems"] == [_broken_run()["problems"][0]]
    assert document["results"] == []
    assert document["summary"]["verdict"] == "incomplete"

    # The page says why, and runs no matrix
    html = html_path.read_text("utf-8")
    assert '<section id="problems">' in html
    assert "environment variable &#39;ADMIN_TOKEN&#39; is not set" in html
    assert "This target is broken" in html
    assert "none given" in html
    assert "No case was run." in html


def test_page_without_problems_has_no_problem_section() -> None:
    html = render_html(build_report(_run()))

    assert 'id="problems"' not in html


@pytest.mark.parametrize(
    ("run", "sentence"),
    [
        pytest.param(
            _run(),
            "1 of 6 cases failed: the API breaks at least one requirement graded <em>fail</em>."
            " 1 more case could not be judged.",
            id="non-conformant",
        ),
        pytest.param(
            _run(results=[_result("GET /items", "missing", outcome="error")]),
            "No case failed, but the audit is incomplete: 1 case could not be judged (see",
            id="incomplete-error",
        ),
        pytest.param(
            _broken_run(),
            'the target could not be audited (see <a href="#problems">',
            id="incomplete-broken",
        ),
        pytest.param(
            _run(results=[_result("GET /items", "missing", outcome="skip")]),
            "the audit is incomplete: no case could be judged. Conformance cannot be",
            id="incomplete-nothing-judged",
        ),
        pytest.param(
            _run(results=_run()["results"][:2] + _run()["results"][-1:]),
            "All 2 cases run met every requirement graded <em>fail</em>."
            ' 1 case was skipped (see <a href="#skipped">Skipped cases</a>).'
            " 1 SHOULD-level finding is reported as a warning.",
            id="conformant",
        ),
    ],
)
def test_summary_sentence_names_the_counts(run: Run, sentence: str) -> None:
    html = render_html(build_report(run))

    summary = html[html.index('id="summary"') : html.index('id="matrix"')]
    assert sentence in summary

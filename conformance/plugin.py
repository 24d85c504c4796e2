"""pytest wiring of the conformance audit: options, collection, fixtures, reports.

Without ``--target`` the plugin registers its options and does nothing else,
so an ordinary pytest run is not affected. With it, the suites shipped in
``conformance.suites`` are collected and parametrized with one test per
case of every selected target, and reports are written at the end.
"""

from __future__ import annotations

import difflib
import os
import secrets
from collections.abc import Generator
from dataclasses import replace
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from . import __name__ as _package_name
from .cases import MissingCredential, control_case, generate_cases, generated_cases
from .checks import judge, judge_no_answer
from .errors import (
    ConformanceFailure,
    ControlFailed,
    CredentialError,
    NotJudgedError,
    TargetsFileError,
    TransportError,
)
from .fuzz import DEFAULT_EXAMPLES, Fuzzer
from .model import BrokenTarget, Case, Target
from .results import Evidence, case_record, failure_message, printable
from .runner import Audit, BrokenTargetError
from .targets import DEFAULT_TARGETS_FILE, builtin_targets, load_targets
from .transport import DEFAULT_TIMEOUT

TARGET_OPTION = "--target"
TARGETS_FILE_OPTION = "--targets-file"
REPORT_DIR_OPTION = "--conformance-report-dir"
STRICT_OPTION = "--conformance-strict"
TIMEOUT_OPTION = "--conformance-timeout"
INSECURE_OPTION = "--conformance-insecure"
NO_REPORTS_OPTION = "--conformance-no-reports"
EXAMPLES_OPTION = "--conformance-examples"
# hypothesis's own option; its pytest plugin registers it.
HYPOTHESIS_SEED_OPTION = "--hypothesis-seed"

ALL_TARGETS = "all"
DEFAULT_REPORT_DIR = "reports"
KIND_MARKER = "auth_kinds"
# Marks the placeholder of a suite test that has no case for the selected
# targets (a single role has no unprivileged case); it is deselected, not
# shown as a skip that the audit's own counts would not match.
_NO_CASE_MARKER = "auth_no_case"

AUDIT_KEY = pytest.StashKey["Audit"]()
RECORDER_KEY = pytest.StashKey["ReportRecorder"]()
STREAM_KEY = pytest.StashKey["StreamSettings"]()
_EVIDENCE_KEY = pytest.StashKey[Evidence]()


# --- options -------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the audit's options; each flag CI needs has an ini twin."""
    group = parser.getgroup("auth-conformance", "HTTP authentication conformance audit")
    group.addoption(
        TARGET_OPTION,
        action="append",
        default=[],
        metavar="NAME",
        help="Audit the target NAME of the targets file. May be repeated or given as NAME,NAME; 'all' selects every target of the file",
    )
    group.addoption(
        TARGETS_FILE_OPTION,
        default=None,
        metavar="PATH",
        help=f"Targets file describing the APIs (default: ./{DEFAULT_TARGETS_FILE}, ini: conformance_targets_file)",
    )
    group.addoption(
        REPORT_DIR_OPTION,
        default=None,
        metavar="DIR",
        help=f"Directory for the JSON and HTML reports (default: ./{DEFAULT_REPORT_DIR}, ini: conformance_report_dir)",
    )
    group.addoption(
        STRICT_OPTION,
        action="store_true",
        default=None,
        help="Fail cases on SHOULD-level findings too, not only MUST-level ones (ini: conformance_strict)",
    )
    group.addoption(
        TIMEOUT_OPTION,
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"Seconds to wait for each answer (default: {DEFAULT_TIMEOUT:g}, ini: conformance_timeout)",
    )
    group.addoption(
        INSECURE_OPTION,
        action="store_true",
        default=None,
        help="Do not verify TLS certificates, for test deployments with self-signed ones (ini: conformance_insecure)",
    )
    group.addoption(
        NO_REPORTS_OPTION,
        action="store_true",
        default=False,
        help="Write no JSON or HTML report",
    )
    group.addoption(
        EXAMPLES_OPTION,
        type=int,
        default=None,
        metavar="N",
        help=f"Generated broken Authorization values sent to each endpoint, by the malformed:generated cases "
        f"(default: {DEFAULT_EXAMPLES}, 0 turns them off; ini: conformance_examples)",
    )
    parser.addini("conformance_targets", "Targets to audit when --target is not given", type="args", default=[])
    parser.addini("conformance_targets_file", "Targets file describing the APIs", default=DEFAULT_TARGETS_FILE)
    parser.addini("conformance_report_dir", "Directory for the JSON and HTML reports", default=DEFAULT_REPORT_DIR)
    parser.addini("conformance_strict", "Fail cases on SHOULD-level findings too", type="bool", default=False)
    parser.addini("conformance_timeout", "Seconds to wait for each answer", default=str(DEFAULT_TIMEOUT))
    parser.addini("conformance_insecure", "Do not verify TLS certificates", type="bool", default=False)
    parser.addini("conformance_examples", "Generated broken Authorization values sent to each endpoint", default=str(DEFAULT_EXAMPLES))


# --- configure / unconfigure ---------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    """Load and check the targets before any request is sent."""
    config.addinivalue_line("markers", f"{KIND_MARKER}(*kinds): case kinds a conformance test runs")
    config.addinivalue_line("markers", f"{_NO_CASE_MARKER}: a suite test with no case to run, deselected")
    names = config.getoption(TARGET_OPTION) or config.getini("conformance_targets")
    if not names:
        return

    targets_file, explicit = _targets_file(config)
    declared, in_file = _declared_targets(targets_file, explicit)
    selected = _select(names, declared, in_file, targets_file)

    if not hasattr(config, "workerinput") and not config.getoption(NO_REPORTS_OPTION):
        _check_report_dir(_report_dir(config))

    audit = Audit(selected, timeout=_timeout(config), verify_tls=not _flag(config, INSECURE_OPTION, "conformance_insecure"))
    config.stash[AUDIT_KEY] = audit
    config.stash[STREAM_KEY] = StreamSettings(_examples(config), _seed(config))
    recorder = ReportRecorder(config, audit, targets_file)
    config.stash[RECORDER_KEY] = recorder
    config.pluginmanager.register(recorder, "auth-conformance-recorder")
    _collect_suites(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop embedded servers and close connections."""
    audit = config.stash.get(AUDIT_KEY, None)
    if audit is not None:
        audit.close()


def _targets_file(config: pytest.Config) -> tuple[Path, bool]:
    option = config.getoption(TARGETS_FILE_OPTION)
    if option:
        return Path(option), True
    ini_value = config.getini("conformance_targets_file")
    base = config.inipath.parent if config.inipath and ini_value != DEFAULT_TARGETS_FILE else Path.cwd()
    return base / ini_value, ini_value != DEFAULT_TARGETS_FILE


def _declared_targets(path: Path, explicit: bool) -> tuple[dict[str, Target | BrokenTarget], list[str]]:
    """Every target by name, and the names the targets file itself declares."""
    declared: dict[str, Target | BrokenTarget] = dict(builtin_targets())
    if not path.exists() and not explicit:
        return declared, []  # the embedded demos need no file
    try:
        in_file = load_targets(path)
    except TargetsFileError as exc:
        raise pytest.UsageError(str(exc)) from exc
    declared.update(in_file)
    return declared, list(in_file)


def _select(
    names: list[str], declared: dict[str, Target | BrokenTarget], in_file: list[str], path: Path
) -> dict[str, Target | BrokenTarget]:
    """The targets named on the command line; 'all' means every target of the file."""
    wanted: list[str] = []
    for raw in names:
        for name in (n.strip() for n in raw.split(",")):
            if name == ALL_TARGETS:
                wanted += in_file or list(builtin_targets())
            elif name:
                wanted.append(name)
    if not wanted:
        # `--target="$TARGET"` with the variable unset in CI must not pass as an empty audit.
        raise pytest.UsageError(f"{TARGET_OPTION} names no target (got {', '.join(map(repr, names))}); give NAME, NAME,NAME or 'all'")

    unknown = [n for n in wanted if n not in declared]
    if unknown:
        known = ", ".join(sorted(declared))
        close = difflib.get_close_matches(unknown[0], list(declared), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        if not path.exists():
            # Without the file only the embedded demos exist; "no such target in" would send the user looking in it.
            raise pytest.UsageError(
                f"{TARGET_OPTION}={unknown[0]}: no such target: {path} does not exist, so the only targets are "
                f"the embedded {known}{hint}; create that file, or point {TARGETS_FILE_OPTION} at one"
            )
        raise pytest.UsageError(f"{TARGET_OPTION}={unknown[0]}: no such target in {path}{hint}; known targets: {known}")
    return {name: declared[name] for name in dict.fromkeys(wanted)}


def _report_dir(config: pytest.Config) -> Path:
    directory = Path(config.getoption(REPORT_DIR_OPTION) or config.getini("conformance_report_dir"))
    return directory if directory.is_absolute() else config.invocation_params.dir / directory


def _check_report_dir(directory: Path) -> None:
    """Refuse a report directory that cannot be made, before the audit sends anything."""
    existing = next(path for path in (directory, *directory.parents) if path.exists())
    if existing == directory and not directory.is_dir():
        raise pytest.UsageError(f"{REPORT_DIR_OPTION}={directory}: is a file, not a directory; point it at a directory")
    if not existing.is_dir():
        raise pytest.UsageError(f"{REPORT_DIR_OPTION}={directory}: cannot be created, {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise pytest.UsageError(f"{REPORT_DIR_OPTION}={directory}: cannot write in {existing}")


def _timeout(config: pytest.Config) -> float:
    value = config.getoption(TIMEOUT_OPTION)
    if value is None:
        try:
            value = float(config.getini("conformance_timeout"))
        except ValueError as exc:
            raise pytest.UsageError(f"conformance_timeout must be a number of seconds: {exc}") from exc
    if value <= 0:
        raise pytest.UsageError(f"{TIMEOUT_OPTION} must be positive, got {value!r}")
    return float(value)


class StreamSettings:
    """How many generated values each endpoint gets, and the seed they are drawn from."""

    def __init__(self, examples: int, seed: int) -> None:
        self.examples = examples
        self.seed = seed
        self.used = False


def _examples(config: pytest.Config) -> int:
    value = config.getoption(EXAMPLES_OPTION)
    if value is None:
        try:
            value = int(config.getini("conformance_examples"))
        except ValueError as exc:
            raise pytest.UsageError(f"conformance_examples must be a whole number: {exc}") from exc
    if value < 0:
        raise pytest.UsageError(f"{EXAMPLES_OPTION} must be 0 or more, got {value!r}")
    return int(value)


def _seed(config: pytest.Config) -> int:
    """The seed of the generated values: --hypothesis-seed, the controller's, or a fresh one."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and "conformance_seed" in workerinput:
        return int(workerinput["conformance_seed"])
    given = config.getoption("hypothesis_seed", None)
    if given is None:
        return secrets.randbelow(2**32)
    try:
        return int(given)
    except ValueError as exc:
        raise pytest.UsageError(f"{HYPOTHESIS_SEED_OPTION} must be a whole number for the audit, got {given!r}") from exc


def _flag(config: pytest.Config, option: str, ini: str) -> bool:
    value = config.getoption(option)
    return bool(config.getini(ini)) if value is None else bool(value)


def _collect_suites(config: pytest.Config) -> None:
    """Make pytest collect the packaged suites, even from a folder that has only targets.yaml.

    Files named explicitly are collected whatever the user's python_files
    setting; without paths of their own on the command line, only the
    suites run, not the project's other tests.
    """
    suites = str(resources.files(f"{_package_name}.suites"))
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args[:] = [suites]
    elif suites not in config.args:
        config.args.append(suites)


# --- collection ----------------------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize the suites: one test per case, IDs made from data only."""
    audit = metafunc.config.stash.get(AUDIT_KEY, None)
    if audit is None:
        return
    if "auth_target_name" in metafunc.fixturenames:
        names = list(audit.declared)
        metafunc.parametrize("auth_target_name", names, ids=names)
    if "auth_generated_case" in metafunc.fixturenames:
        generated: list[Case] = []
        if metafunc.config.stash[STREAM_KEY].examples > 0:
            for name in audit.declared:
                resolved = audit.resolve(name)
                if isinstance(resolved, Target):
                    generated += generated_cases(resolved)
        _parametrize_cases(metafunc, "auth_generated_case", generated)
    if "auth_case" not in metafunc.fixturenames:
        return

    marker = metafunc.definition.get_closest_marker(KIND_MARKER)
    kinds = set(marker.args) if marker else None
    cases: list[Case] = []
    for name in audit.declared:
        resolved = audit.resolve(name)
        if isinstance(resolved, Target):
            cases += [c for c in generate_cases(resolved) if kinds is None or c.kind in kinds]
    _parametrize_cases(metafunc, "auth_case", cases)


def _parametrize_cases(metafunc: pytest.Metafunc, argname: str, cases: list[Case]) -> None:
    if not cases:
        placeholder = pytest.param(None, marks=pytest.mark.auth_no_case, id="no-case")
        metafunc.parametrize(argname, [placeholder])
        return
    metafunc.parametrize(argname, cases, ids=[f"{c.target}-{c.endpoint.label}-{c.id}" for c in cases])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the placeholders of suite tests that have no case for these targets."""
    if config.stash.get(AUDIT_KEY, None) is None:
        return
    placeholders = [item for item in items if item.get_closest_marker(_NO_CASE_MARKER)]
    if placeholders:
        config.hook.pytest_deselected(items=placeholders)
        items[:] = [item for item in items if not item.get_closest_marker(_NO_CASE_MARKER)]


# --- fixtures ------------------------------------------------------------------


@pytest.fixture(scope="session")
def auth_audit(request: pytest.FixtureRequest) -> Audit:
    """The run's audit; only present when targets were selected."""
    audit = request.config.stash.get(AUDIT_KEY, None)
    if audit is None:
        pytest.skip(f"no target selected; run with {TARGET_OPTION}=NAME")
    return audit


@pytest.fixture
def auth_target(auth_audit: Audit, auth_target_name: str) -> Target:
    """The started target, or an error naming its problems."""
    try:
        return auth_audit.target(auth_target_name)
    except BrokenTargetError as exc:
        # from None: the problem lines say it all; the chain would repeat them.
        raise pytest.fail.Exception(f"target {auth_target_name!r} cannot be audited: {exc}", pytrace=False) from None


@pytest.fixture
def auth_evidence(request: pytest.FixtureRequest, auth_audit: Audit, auth_case: Case) -> Evidence:
    """Send the case's request, after making sure the endpoint's control works.

    Everything that prevents judging happens here, in setup, so pytest
    reports it as an error and never as a pass or a failure of the API.
    """
    target = _judgeable(request, auth_audit, auth_case)
    try:
        probe, exchange = auth_audit.send(target, auth_case)
    except MissingCredential as exc:
        pytest.skip(str(exc))
    except CredentialError as exc:
        # from None: the message says it all, pytest need not show the chain.
        raise pytest.fail.Exception(str(exc), pytrace=False) from None
    except TransportError as exc:
        verdict = judge_no_answer(target, auth_case, str(exc), dropped=exc.dropped)
        if verdict is None:
            raise pytest.fail.Exception(str(exc), pytrace=False) from None
        evidence = Evidence(target, auth_case, None, None, verdict, auth_audit.obtained(target))
        request.node.stash[_EVIDENCE_KEY] = evidence
        return evidence

    verdict = judge(target, auth_case, exchange, control_body=_control_body(auth_audit, target, auth_case), strict=_strict(request.config))
    evidence = Evidence(target, auth_case, probe, exchange, verdict, auth_audit.obtained(target))
    request.node.stash[_EVIDENCE_KEY] = evidence
    return evidence


@pytest.fixture
def auth_fuzzer(request: pytest.FixtureRequest, auth_audit: Audit, auth_generated_case: Case) -> Fuzzer:
    """A hypothesis stream of broken Authorization values for one endpoint, ready to run.

    As for every case, the endpoint's control is checked here, in setup.
    """
    case = auth_generated_case
    target = _judgeable(request, auth_audit, case)
    stream = request.config.stash[STREAM_KEY]
    stream.used = True
    obtained = auth_audit.obtained(target)

    def record(evidence: Evidence) -> None:
        request.node.stash[_EVIDENCE_KEY] = replace(evidence, obtained=obtained)

    return Fuzzer(
        target,
        case,
        auth_audit.transport(target),
        record,
        examples=stream.examples,
        seed=stream.seed,
        strict=_strict(request.config),
        control_body=_control_body(auth_audit, target, case),
    )


def _judgeable(request: pytest.FixtureRequest, audit: Audit, case: Case) -> Target:
    """The case's target, once its endpoint's control passed; an error otherwise."""
    target = audit.target(case.target)
    request.node.stash[_EVIDENCE_KEY] = Evidence(target, case, None, None)
    if not case.is_control:
        control = audit.control(target, case.endpoint)
        if not control.passed:
            # The control's reason phrase is the server's text.
            pytest.fail(printable(f"cannot judge {case.id} of {case.endpoint.label}: {control.explain()}"), pytrace=False)
    return target


def _control_body(audit: Audit, target: Target, case: Case) -> bytes | None:
    if case.is_control:
        return None
    control = audit.control(target, case.endpoint)
    return control.exchange.body if control.exchange else None


def _strict(config: pytest.Config) -> bool:
    return _flag(config, STRICT_OPTION, "conformance_strict")


def assert_conformant(evidence: Evidence) -> None:
    """Raise the failure the verdict calls for; a control's failure says what it blocks."""
    verdict = evidence.verdict
    assert verdict is not None, "the evidence fixture always judges what it sends"
    if verdict.outcome == "pass":
        return
    message = failure_message(evidence)
    case = evidence.case
    if case == control_case(evidence.target, case.endpoint):
        raise ControlFailed(message + f"\n  every other case of {case.endpoint.label} is reported as an error")
    raise ConformanceFailure(message)


# --- report hooks --------------------------------------------------------------


class ReportRecorder:
    """Collects one record per case (on the controller) and writes the reports."""

    def __init__(self, config: pytest.Config, audit: Audit, targets_file: Path) -> None:
        self.config = config
        self.audit = audit
        self.targets_file = targets_file
        self.started_at = _now()
        self.records: dict[str, list[dict[str, Any]]] = {name: [] for name in audit.declared}
        self.problems: dict[str, list[str]] = {
            name: list(t.problems) for name, t in audit.declared.items() if isinstance(t, BrokenTarget)
        }
        self.written: list[Path] = []
        self.write_error: str | None = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        not_judged = call.excinfo is not None and isinstance(call.excinfo.value, NotJudgedError)
        if call.excinfo is not None and isinstance(call.excinfo.value, (ConformanceFailure, NotJudgedError)):
            # The message says all there is to say; the suite's own frames do
            # not help, and rendering them (pytest parses each frame's source)
            # cost more than the case's request. pytest.fail(pytrace=False)
            # raises a failure pytest shows as its message alone.
            untraced = pytest.fail.Exception(str(call.excinfo.value), pytrace=False)
            call.excinfo = pytest.ExceptionInfo.from_exc_info((type(untraced), untraced, call.excinfo.tb))
        report = yield
        evidence = item.stash.get(_EVIDENCE_KEY, None)
        if evidence is None or report.when == "teardown" or (report.when == "setup" and report.passed):
            return report
        failed = "fail" if report.when == "call" and not not_judged else "error"
        outcome = {"passed": "pass", "failed": failed, "skipped": "skip"}[report.outcome]
        message = _short_message(report) if outcome != "pass" else None
        record = case_record(evidence, outcome, message, report.nodeid)  # type: ignore[arg-type]
        record["position"] = _position(self.audit, evidence)
        # Plain JSON values survive pytest-xdist's report serialisation.
        report.auth_conformance = {"target": evidence.target.name, "record": record}  # type: ignore[attr-defined]
        return report

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Give every xdist worker the controller's seed, so that they draw alike."""
        node.workerinput["conformance_seed"] = self.config.stash[STREAM_KEY].seed

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "auth_conformance", None)
        if data is not None:
            self.records.setdefault(data["target"], []).append(data["record"])

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput") or self.config.getoption(NO_REPORTS_OPTION):
            return  # only the controller writes reports
        if self.config.option.collectonly:
            return  # listing the cases must not overwrite the last audit's reports
        from .report import write_reports

        runs = [self._run(name) for name in self.records]
        directory = _report_dir(self.config)
        try:
            self.written = write_reports(runs, directory, strict=_strict(self.config))
        except OSError as exc:
            # The directory was checked at start; something changed it since. Keep pytest's own summary.
            self.write_error = f"could not write the reports to {directory}: {exc.strerror or exc}"

    def _run(self, name: str) -> dict[str, Any]:
        records = sorted(self.records.get(name, []), key=lambda r: tuple(r["position"]))
        endpoints = list(dict.fromkeys(r["endpoint"] for r in records))
        for record in records:
            record.pop("position", None)
        declared = self.audit.declared[name]
        embedded = isinstance(declared, Target) and declared.embedded
        return {
            "target": name,
            "base_url": f"embedded:{declared.embedded}" if embedded and isinstance(declared, Target) else getattr(declared, "base_url", ""),
            "scheme": getattr(declared, "scheme", None),
            "started_at": self.started_at,
            "finished_at": _now(),
            "tool": {"name": "pytest-auth-conformance", "version": _version()},
            "problems": self.problems.get(name, []),
            "endpoints": endpoints,
            "cases": self._case_count(name),
            "results": records,
        }

    def _case_count(self, name: str) -> int:
        """How many cases the target has, run or not: from its data, so every process agrees.

        Under xdist the controller collected nothing, so an embedded target
        may be started here just to be counted.
        """
        resolved = self.audit.resolve(name)
        if isinstance(resolved, BrokenTarget):
            return 0
        generated = generated_cases(resolved) if self.config.stash[STREAM_KEY].examples > 0 else []
        return len(generate_cases(resolved)) + len(generated)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput") or self.config.option.collectonly:
            return
        warned = [
            (name, record, line)
            for name, records in self.records.items()
            for record in records
            for line in _warning_lines(record)
        ]
        if warned:
            terminalreporter.section("auth conformance warnings (SHOULD-level findings)", sep="-", yellow=True)
            for name, record, line in warned:
                terminalreporter.write_line(f"{name}: {record['endpoint']} [{record['id']}] {line}")
        for name, records in self.records.items():
            counts = {o: sum(r["outcome"] == o for r in records) for o in ("pass", "fail", "error", "skip")}
            summary = ", ".join(f"{n} {o}" for o, n in counts.items())
            broken = f"; cannot be audited: {'; '.join(self.problems[name])}" if self.problems.get(name) else ""
            cases = self._case_count(name)
            partial = f"; partial run, {cases - len(records)} of {cases} cases not run" if len(records) < cases else ""
            terminalreporter.write_line(f"auth-conformance {name}: {summary}{broken}{partial}")
        stream = self.config.stash[STREAM_KEY]
        if any(r["id"] == "malformed:generated" for records in self.records.values() for r in records):
            terminalreporter.write_line(
                f"auth-conformance malformed:generated: {stream.examples} examples per endpoint, "
                f"seed {stream.seed} (repeat with {HYPOTHESIS_SEED_OPTION}={stream.seed})"
            )
        if self.written:
            terminalreporter.write_sep("-", "auth-conformance reports: " + ", ".join(str(p) for p in self.written))
        if self.write_error:
            terminalreporter.write_line(f"auth-conformance: {self.write_error}", red=True)

    def pytest_report_header(self, config: pytest.Config) -> str:
        return f"auth-conformance: targets {', '.join(self.audit.declared)} (from {self.targets_file})"


def _warning_lines(record: dict[str, Any]) -> list[str]:
    if record["outcome"] != "pass":
        return []
    return [
        printable(f"WARN {f['requirement']}: {f['message']}")
        for f in record["findings"]
        if not f["passed"] and not f["waived"] and f["grade"] == "warn"
    ]


def _position(audit: Audit, evidence: Evidence) -> list[int]:
    """Where the case stands in its target's run order: (endpoint, case within it)."""
    return list(audit.positions(evidence.target)[evidence.case.endpoint.label, evidence.case.id])


def _short_message(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    text = report.longreprtext.strip()
    for prefix in ("Failed: ", "E   "):
        text = text.removeprefix(prefix)
    return text


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pytest-auth-conformance")
    except PackageNotFoundError:
        return "0+unknown"

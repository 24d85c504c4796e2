"""Write each target's audit as a JSON document for machines and an HTML page for people.

The plugin hands over one JSON-able "run" per target. ``build_report`` copies
it field by field (so nothing the plugin did not mean to publish, such as a
credential, can slip through), adds the catalogue's level, section, summary
and link to every finding, sorts it and sums it up. The same audit gives the
same bytes whatever order the tests ran in, serially or under xdist, so two
reports can be diffed. ``render_html`` turns that document into a
self-contained page; everything in it that a server sent is hostile, so the
template always autoescapes and control characters are made visible.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from .catalogue import load_catalogue, requirement
from .model import CASE_KINDS, SCHEMES

__all__ = [
    "REPORT_VERSION",
    "build_report",
    "format_json",
    "render_html",
    "write_reports",
]

# Bumped whenever the document's shape changes (data/report.schema.json).
# 2: summary.cases and summary.not_run, and the verdict "partial".
REPORT_VERSION = 2

_OUTCOMES = ("pass", "fail", "error", "skip")
_GRADES = ("fail", "warn", "info")

_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9_.-]")
_MAX_STEM = 100

# C0/C1 controls, zero-width and bidi-override characters: in a report they
# would hide or reorder text a server sent (the "Trojan Source" trick).
_INVISIBLE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)
_LINE_BREAKS = frozenset("\t\n\r")


def build_report(run: Mapping[str, Any], *, strict: bool = False) -> dict[str, Any]:
    """Build the final JSON document of one target from the plugin's run data.

    ``run["cases"]``, when given, is how many cases the target has; results
    short of it make the run partial (deselected, or stopped early).

    Results are sorted by endpoint (in the order the run lists them), then by
    case kind (valid, unprivileged, missing, malformed, wrong, expired), then
    by variant name. An endpoint that has results but is missing from
    ``run["endpoints"]`` is appended after the listed ones, in name order.
    ``strict`` is only recorded: the plugin has already applied it to outcomes.

    Raises:
        KeyError: a finding cites a requirement ID that is not in the catalogue.
        ValueError: a result has an outcome, case kind or grade outside the model.
    """
    results = [_build_result(result) for result in run.get("results", ())]

    endpoints = list(dict.fromkeys(str(label) for label in run.get("endpoints", ())))
    endpoints += sorted({result["endpoint"] for result in results} - set(endpoints))
    position = {label: index for index, label in enumerate(endpoints)}
    results.sort(key=lambda result: _result_key(result, position))

    problems = [str(problem) for problem in run.get("problems", ())]
    scheme = run.get("scheme")
    tool = run["tool"]
    return {
        "report_version": REPORT_VERSION,
        "target": str(run["target"]),
        "base_url": str(run["base_url"]),
        # A broken target may name no scheme, or one the suite does not know.
        "scheme": scheme if scheme in SCHEMES else None,
        "started_at": str(run["started_at"]),
        "finished_at": str(run["finished_at"]),
        "tool": {"name": str(tool["name"]), "version": str(tool["version"])},
        "strict": bool(strict),
        "problems": problems,
        "endpoints": endpoints,
        "summary": _summarize(results, problems, _case_count(run, results)),
        "results": results,
    }


def format_json(report: Mapping[str, Any]) -> str:
    """Serialise a report the one way that makes equal reports equal bytes."""
    return json.dumps(report, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_reports(
    runs: Sequence[Mapping[str, Any]], directory: Path, *, strict: bool = False
) -> list[Path]:
    """Write ``<target>.json`` and ``<target>.html`` for every run; return the paths written.

    Characters outside ``[A-Za-z0-9_.-]`` in a target name become ``_`` in
    the file name; when two targets then share a name (also ignoring letter
    case, for macOS and Windows), the later one in name order gets ``-2``.
    Every report is built before the first file is written, so a bug in the
    run data leaves no half-written set behind.
    """
    targets = [str(run["target"]) for run in runs]
    duplicates = sorted({name for name in targets if targets.count(name) > 1})
    if duplicates:
        raise ValueError(
            f"several runs for the same target: {', '.join(map(repr, duplicates))}"
        )

    reports = [build_report(run, strict=strict) for run in runs]
    directory.mkdir(parents=True, exist_ok=True)

    written: list[Path] = []
    for report, stem in zip(reports, _file_stems(targets), strict=True):
        json_path = directory / f"{stem}.json"
        html_path = directory / f"{stem}.html"
        _write_text(json_path, format_json(report))
        _write_text(html_path, render_html(report))
        written += [json_path, html_path]

    return written


def render_html(report: Mapping[str, Any]) -> str:
    """Render a document from ``build_report`` as one self-contained HTML page."""
    template = _environment().get_template("report.html")
    return template.render(report=report, view=_build_view(report))


# --- building the document -------------------------------------------------


def _build_result(result: Mapping[str, Any]) -> dict[str, Any]:
    nodeid = str(result["nodeid"])
    case = _one_of(result["case"], CASE_KINDS, "case kind", nodeid)
    outcome = _one_of(result["outcome"], _OUTCOMES, "outcome", nodeid)
    variant = _optional_str(result.get("variant") or None)
    observed: Mapping[str, Any] = result.get("observed") or {}
    status = observed.get("status")

    findings = [
        _build_finding(finding, nodeid) for finding in result.get("findings", ())
    ]
    findings.sort(key=_finding_key)

    return {
        "nodeid": nodeid,
        "endpoint": str(result["endpoint"]),
        "case": case,
        "variant": variant,
        "id": str(
            result.get("id") or (case if variant is None else f"{case}:{variant}")
        ),
        "outcome": outcome,
        "expected": str(result["expected"]),
        # None when the case failed before a request could be built.
        "sent": _optional_str(result.get("sent")),
        "observed": {
            "status": None if status is None else int(status),
            "reason": _optional_str(observed.get("reason")),
            "www_authenticate": [
                str(line) for line in observed.get("www_authenticate") or ()
            ],
            "location": _optional_str(observed.get("location")),
            "body_excerpt": _optional_str(observed.get("body_excerpt")),
        },
        "message": _optional_str(result.get("message")),
        "findings": findings,
    }


def _build_finding(finding: Mapping[str, Any], nodeid: str) -> dict[str, Any]:
    row = requirement(str(finding["requirement"]))
    return {
        "requirement": row.id,
        "passed": bool(finding["passed"]),
        "grade": _one_of(finding["grade"], _GRADES, "grade", nodeid),
        "message": str(finding["message"]),
        # An empty reason is no waiver, as in model.Finding.
        "waived": _optional_str(finding.get("waived") or None),
        "level": row.level,
        "section": row.section,
        "summary": row.summary,
        "link": row.link,
    }


def _one_of(value: Any, allowed: tuple[str, ...], what: str, nodeid: str) -> str:
    if value not in allowed:
        raise ValueError(
            f"{nodeid}: {what} {value!r} is not one of {', '.join(allowed)}"
        )
    return str(value)


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _result_key(
    result: Mapping[str, Any], position: Mapping[str, int]
) -> tuple[Any, ...]:
    variant = result["variant"]
    return (
        position[result["endpoint"]],
        CASE_KINDS.index(result["case"]),
        variant is not None,
        variant or "",
        result["nodeid"],
        # Identical cases (a plugin bug) still need one order; the text gives it.
        json.dumps(result, sort_keys=True),
    )


def _finding_key(finding: Mapping[str, Any]) -> tuple[Any, ...]:
    # Broken requirements first, then in catalogue order, which reads from
    # the general (RFC 9110) to the specific (schemes, tokens, features).
    return (
        finding["passed"],
        _catalogue_position()[finding["requirement"]],
        finding["message"],
        finding["grade"],
        finding["waived"] or "",
    )


@cache
def _catalogue_position() -> dict[str, int]:
    return {
        requirement_id: index for index, requirement_id in enumerate(load_catalogue())
    }


def _case_count(run: Mapping[str, Any], results: Sequence[Mapping[str, Any]]) -> int:
    # A run that does not say how many cases its target has is taken as whole.
    cases = run.get("cases")
    return len(results) if cases is None else max(int(cases), len(results))


def _summarize(
    results: Sequence[Mapping[str, Any]], problems: Sequence[str], cases: int
) -> dict[str, Any]:
    counts = dict.fromkeys(_OUTCOMES, 0)
    for result in results:
        counts[result["outcome"]] += 1

    # Every warning counts, also one on a case that failed for another
    # reason: a stack trace in a 500 is worth knowing either way.
    warnings = sum(1 for result in results for _ in _warnings(result))
    waived = sum(1 for result in results for _ in _waived(result))
    waived_failures = any(f["grade"] == "fail" for result in results for f in _waived(result))

    not_run = cases - len(results)
    if counts["fail"]:
        # One failing case is enough to say it of the whole API.
        verdict = "non-conformant"
    elif not_run:
        # -k, --lf or -x left cases out: no claim about the whole API.
        verdict = "partial"
    elif counts["error"] or problems or not counts["pass"]:
        # Nothing failed, but something could not be judged (or nothing was).
        verdict = "incomplete"
    elif waived_failures:
        # Passing only because the owner opted out of a rule is not the same claim.
        verdict = "conformant-with-waivers"
    else:
        verdict = "conformant"

    return {
        **counts,
        "total": len(results),
        "cases": cases,
        "not_run": not_run,
        "warnings": warnings,
        "waived": waived,
        "verdict": verdict,
    }


def _broken(result: Mapping[str, Any], grade: str) -> list[Mapping[str, Any]]:
    return [
        f
        for f in result["findings"]
        if not f["passed"] and not f["waived"] and f["grade"] == grade
    ]


def _warnings(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return _broken(result, "warn")


def _waived(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        finding
        for finding in result["findings"]
        if not finding["passed"] and finding["waived"]
    ]


# --- file names -------------------------------------------------------------


def _sanitize(name: str) -> str:
    stem = _UNSAFE_FILE_CHARS.sub("_", name)[:_MAX_STEM]
    # No hidden files, no empty names, no "." or "..".
    return stem if stem and not stem.startswith(".") else f"_{stem}"


def _file_stems(targets: Sequence[str]) -> list[str]:
    # Names are handed out in name order, not run order, so that a target
    # keeps its file name however the runs arrive.
    taken: set[str] = set()
    stems: dict[str, str] = {}
    for name in sorted(
        targets, key=lambda n: (_sanitize(n).lower(), _sanitize(n) != n, n)
    ):
        base = stem = _sanitize(name)
        number = 2
        while stem.lower() in taken:
            stem = f"{base}-{number}"
            number += 1
        taken.add(stem.lower())
        stems[name] = stem

    return [stems[name] for name in targets]


def _write_text(path: Path, text: str) -> None:
    # A server may have sent bytes that decoded to lone surrogates; keep them
    # visible rather than failing the whole report.
    path.write_bytes(text.encode("utf-8", errors="backslashreplace"))


# --- HTML -------------------------------------------------------------------


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("conformance", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["visible"] = _visible
    return environment


def _visible(text: Any, multiline: bool = False) -> str:
    r"""Show control and invisible characters as escapes: ``"a\x1bb"`` → ``a\x1bb``.

    Autoescaping (not this filter) is what keeps markup inert; this keeps the
    text honest. Tabs and line breaks survive only in ``multiline`` text.
    """
    if text is None:
        return ""

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        if multiline and char in _LINE_BREAKS:
            return char
        code = ord(char)
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"

    return _INVISIBLE.sub(escape, str(text))


@dataclass(frozen=True)
class _Column:
    kind: str
    variant: str | None


@dataclass(frozen=True)
class _Group:
    """A case kind over its columns; ``merged`` when it has one column and no variant."""

    kind: str
    span: int
    merged: bool


@dataclass(frozen=True)
class _Cell:
    mark: str
    anchor: str | None
    waived: bool
    title: str


@dataclass(frozen=True)
class _Row:
    endpoint: str
    cells: tuple[_Cell | None, ...]


@dataclass(frozen=True)
class _Entry:
    """One result shown in a section, with the findings that section is about."""

    anchor: str
    result: Mapping[str, Any]
    findings: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class _View:
    groups: tuple[_Group, ...]
    columns: tuple[_Column, ...]
    subheads: tuple[_Column, ...]
    rows: tuple[_Row, ...]
    failures: tuple[_Entry, ...]
    warnings: tuple[_Entry, ...]
    waived: tuple[_Entry, ...]
    notes: tuple[_Entry, ...]
    skipped: tuple[_Entry, ...]


# Worst last; picks the mark when a cell would get two results.
_SEVERITY = ("skip", "pass", "warn", "error", "fail")
_MARK_LABELS = {
    "pass": "pass",
    "warn": "pass with warning",
    "fail": "fail",
    "error": "error",
    "skip": "skip",
}


def _build_view(report: Mapping[str, Any]) -> _View:
    results: Sequence[Mapping[str, Any]] = report["results"]
    columns = sorted(
        {_Column(result["case"], result["variant"]) for result in results},
        key=lambda c: (
            CASE_KINDS.index(c.kind),
            c.variant is not None,
            c.variant or "",
        ),
    )
    spans: dict[str, int] = {}
    for column in columns:
        spans[column.kind] = spans.get(column.kind, 0) + 1
    # A kind with one column and no variant ("missing") needs no second header row.
    merged = {
        kind
        for kind, span in spans.items()
        if span == 1 and _Column(kind, None) in columns
    }
    groups = tuple(_Group(kind, span, kind in merged) for kind, span in spans.items())

    failures: list[_Entry] = []
    warnings: list[_Entry] = []
    waived: list[_Entry] = []
    notes: list[_Entry] = []
    skipped: list[_Entry] = []
    cells: dict[tuple[str, _Column], _Cell] = {}
    for number, result in enumerate(results, start=1):
        anchor = f"case-{number}"
        mark = _mark(result)
        waivers = tuple(_waived(result))
        infos = tuple(_broken(result, "info"))
        if mark in ("fail", "error"):
            broken = [f for f in result["findings"] if not f["passed"]]
            failures.append(_Entry(anchor, result, tuple(broken)))
        elif mark == "warn":
            warnings.append(_Entry(anchor, result, tuple(_warnings(result))))
        elif mark == "skip":
            skipped.append(_Entry(anchor, result, ()))
        if waivers:
            waived.append(_Entry(f"waived-{number}", result, waivers))
        if infos:
            notes.append(_Entry(f"note-{number}", result, infos))

        # A cell links to the first section that says more about its case.
        target: str | None = anchor
        if mark == "pass":
            target = (
                f"waived-{number}" if waivers else f"note-{number}" if infos else None
            )
        title = f"{result['endpoint']} · {result['id']}: {_MARK_LABELS[mark]}"
        cell = _Cell(mark, target, bool(waivers), title)
        key = (result["endpoint"], _Column(result["case"], result["variant"]))
        # Two results for one cell would be a plugin bug; show the worse one.
        if key not in cells or _SEVERITY.index(mark) > _SEVERITY.index(cells[key].mark):
            cells[key] = cell

    rows = tuple(
        _Row(endpoint, tuple(cells.get((endpoint, column)) for column in columns))
        for endpoint in report["endpoints"]
    )
    return _View(
        groups=groups,
        columns=tuple(columns),
        subheads=tuple(column for column in columns if column.kind not in merged),
        rows=rows,
        failures=tuple(failures),
        warnings=tuple(warnings),
        waived=tuple(waived),
        notes=tuple(notes),
        skipped=tuple(skipped),
    )


def _mark(result: Mapping[str, Any]) -> str:
    outcome: str = result["outcome"]
    return "warn" if outcome == "pass" and _warnings(result) else outcome

"""The requirement catalogue: what each requirement ID means, its level and its grade.

The data file ``data/requirements.yaml`` is a copy of the project's normative
catalogue; every check cites an ID from it, and the reports show the level,
the RFC section and the one-line summary from here. ``data/hygiene.yaml``
adds the few checks no RFC makes (IDs ``HYG-...``, level ``HYGIENE``), such
as a stack trace in an error body.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from .model import Grade

_RFC_EDITOR = "https://www.rfc-editor.org/rfc/rfc{number}"
_CATALOGUE_FILES = ("data/requirements.yaml", "data/hygiene.yaml")


@dataclass(frozen=True)
class Requirement:
    """One row of the catalogue."""

    id: str
    level: str
    grade: Grade
    section: str
    spec: str
    summary: str
    applies_to: tuple[str, ...]
    requires: str

    @property
    def link(self) -> str | None:
        """Where to read the requirement: the RFC's page on the RFC Editor site."""
        number = self.spec.removeprefix("RFC ").strip()
        return _RFC_EDITOR.format(number=number) if number.isdigit() else None


@cache
def load_catalogue() -> dict[str, Requirement]:
    """Read the packaged catalogue once, keyed by requirement ID."""
    catalogue: dict[str, Requirement] = {}
    for name in _CATALOGUE_FILES:
        text = resources.files("conformance").joinpath(name).read_text("utf-8")
        document: dict[str, Any] = yaml.safe_load(text)
        for row in document["requirements"]:
            # requirements.yaml repeats a few rows verbatim; the first one wins.
            catalogue.setdefault(row["id"], _requirement(row))
    return catalogue


def _requirement(row: dict[str, Any]) -> Requirement:
    return Requirement(
        id=row["id"],
        level=row["level"],
        grade=row["grade"],
        section=str(row["section"]),
        spec=row["spec"],
        summary=row["summary"],
        applies_to=tuple(row.get("applies_to", ())),
        requires=row.get("requires", "always"),
    )


def requirement(requirement_id: str) -> Requirement:
    """Look up one requirement; an unknown ID is a bug in the suite itself."""
    try:
        return load_catalogue()[requirement_id]
    except KeyError:
        raise KeyError(f"unknown requirement ID {requirement_id!r}: not in data/requirements.yaml") from None

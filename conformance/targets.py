"""Read targets.yaml, the file that names the APIs to audit, into Target objects.

A targets file looks like this (``data/targets.schema.json`` is the full
grammar, and editors can use it)::

    targets:
      demo:
        embedded: demo
      myapi:
        base_url: https://api.example.com/v1
        scheme: bearer
        credentials: {admin: "${MYAPI_ADMIN_TOKEN}", reader: "${MYAPI_READER_TOKEN}"}
        endpoints:
          - GET /items
          - {method: DELETE, path: /items/42, roles: [admin]}

A problem with the file as a whole raises TargetsFileError. A problem inside
one target turns that target into a BrokenTarget, so the other targets still
run. Every message is one line that starts ``file:line: key.path:`` and never
shows a credential.

YAML is read with the safe loader. Mapping keys are taken as written, so a
role called ``yes`` stays the string ``"yes"`` instead of YAML 1.1's True.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode, urlsplit

import yaml
from jsonschema import Draft202012Validator

from . import variants
from .catalogue import load_catalogue
from .errors import TargetsFileError
from .model import (
    EMBEDDED_NAMES,
    ApiKeyPlacement,
    BasicCredential,
    BrokenTarget,
    ClientCredentialsGrant,
    Credential,
    Endpoint,
    JwtSettings,
    LoginRequest,
    Presentable,
    Scheme,
    Secret,
    SourceLocation,
    Target,
    TokenSource,
)

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

DEFAULT_TARGETS_FILE = "targets.yaml"

# A key path into the YAML document: ("targets", "myapi", "endpoints", 0).
_KeyPath = tuple[str | int, ...]

_ENDPOINT = re.compile(r"(?P<method>[A-Z]+) (?P<path>/\S*)")
_PATH = re.compile(r"/\S*")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REFERENCE = re.compile(
    r"\$(?:(?P<escape>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|(?P<bad>\{))"
)

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"

# Aliases let a few lines stand for an exponential tree ("billion laughs");
# a real targets file has a few thousand nodes, so this bounds memory only.
MAX_YAML_NODES = 100_000

# The schema's patterns, and what each means, said after the offending value.
_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_URL_PATTERN = "^(https?://|\\$\\{)"
_WORD_PATTERN = "^\\S+$"
_USERNAME_PATTERN = "^[^:]*$"
_METHOD_PATTERN = "^[A-Za-z]+$"
_PATH_PATTERN = "^/\\S*$"
_ENDPOINT_PATTERN = "^[A-Z]+ /\\S*$"
_REQUIREMENT_PATTERN = "^(R[0-9A-Z]+|HYG)-[A-Z0-9-]+$"
_PATTERN_PHRASES = {
    _NAME_PATTERN: "may use only letters, digits, '_', '.' and '-', starting with a letter or digit",
    _URL_PATTERN: "is not an http or https URL, like 'https://api.example.com/v1'",
    _WORD_PATTERN: "must be one word with no spaces",
    _USERNAME_PATTERN: "contains ':', which RFC 7617 §2 forbids in a user name",
    _METHOD_PATTERN: "is not an HTTP method, like 'GET'",
    _PATH_PATTERN: "must start with '/' and contain no spaces",
}

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}

_CONTROL_PROBLEM = (
    "contains a line break or other control character"
    " (a trailing newline in an environment variable?)"
)

_MISSING_KEY_HINTS = {
    "targets": " (the file must start with 'targets:')",
    "scheme": " (one of bearer, basic, api_key, digest, cookie)",
    "api_key": " (scheme api_key needs {in: header|query|cookie, name: ...})",
    "endpoints": " (list at least one, like 'GET /items')",
}


class MissingVariable(KeyError):
    """A ``${NAME}`` reference names an environment variable that is not set."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"environment variable {self.name} is not set"


def builtin_targets() -> dict[str, Target]:
    """The bundled reference APIs, usable with no targets file at all."""
    return {
        name: Target(name, scheme="bearer", base_url="", endpoints=(), embedded=name)
        for name in EMBEDDED_NAMES
    }


def parse_endpoint(text: str) -> Endpoint:
    """Read the ``METHOD /path`` shorthand of an endpoint; the inverse of ``Endpoint.label``.

    >>> parse_endpoint("GET /items")
    Endpoint(method='GET', path='/items', roles=None)

    Raises ValueError with a one-line reason (and a suggestion) otherwise.
    """
    match = _ENDPOINT.fullmatch(text)
    if match is None:
        raise ValueError(_endpoint_problem(text))

    return Endpoint(match["method"], match["path"])


def expand_env(text: str, environ: Mapping[str, str]) -> str:
    """Replace ``${VAR}`` and ``${VAR:-default}`` with values from ``environ``.

    >>> expand_env("${HOST:-localhost}:$${PORT}", {})
    'localhost:${PORT}'

    As in the shell, the default also replaces a variable set to the empty
    string. ``$$`` stands for one ``$``, and a ``$`` before anything but
    ``$`` or ``{`` is kept as is. Defaults are not expanded again. Raises
    MissingVariable for an unset variable without a default, and ValueError
    for a ``${`` that starts no valid reference.
    """
    missing: list[str] = []
    result = _substitute(text, environ, missing)
    if missing:
        raise MissingVariable(missing[0])

    return result


def load_targets(
    path: str | os.PathLike[str], environ: Mapping[str, str] | None = None
) -> dict[str, Target | BrokenTarget]:
    """Read a targets file into targets keyed by name, in file order.

    ``environ`` (``os.environ`` by default) supplies ``${VAR}`` references.
    Raises TargetsFileError when the file as a whole is unusable; a problem
    inside one target makes only that target a BrokenTarget.
    """
    environ = os.environ if environ is None else environ
    file = str(path)
    document = _Document.parse(_read(path, file), file)
    errors = list(_validator().iter_errors(document.data))
    _raise_file_problem(document, errors)

    by_target: dict[str, list[ValidationError]] = {}
    for error in errors:
        by_target.setdefault(_target_of(error), []).append(error)

    return {
        name: _load_target(name, raw, document, by_target.get(name, []), environ)
        for name, raw in document.data["targets"].items()
    }


# Reading the file


class _Document:
    """A parsed targets file: plain data plus the line of every key and item."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.data: Any = None
        self.lines: dict[_KeyPath, int] = {(): 1}
        # (path of a repeated key, its line, the line where it first appeared)
        self.duplicates: list[tuple[_KeyPath, int, int]] = []
        self._active: set[int] = set()
        self._constructed = 0

    @classmethod
    def parse(cls, text: str, file: str) -> _Document:
        """Compose the YAML safely and turn the node tree into data and line numbers."""
        document = cls(file)
        loader = None
        try:
            loader = yaml.SafeLoader(text)  # the reader checks every character here
            root = loader.get_single_node()
            if root is not None:
                document.lines[()] = root.start_mark.line + 1
                document.data = document._construct(loader, root, ())
        except yaml.YAMLError as exc:
            raise TargetsFileError(_yaml_problem(file, text, exc)) from exc
        finally:
            if loader is not None:
                loader.dispose()

        return document

    def line(self, path: _KeyPath) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while path not in self.lines:
            path = path[:-1]
        return self.lines[path]

    def _construct(
        self, loader: yaml.SafeLoader, node: yaml.Node, path: _KeyPath
    ) -> Any:
        # Counted as built, aliases included: an anchor used ten times is ten copies.
        self._constructed += 1
        if self._constructed > MAX_YAML_NODES:
            # The top-level key says where; an alias's own line is its anchor's.
            raise self._error(
                path[:1],
                f"the file expands to more than {MAX_YAML_NODES} values; "
                "are aliases (*name) nested inside each other?",
            )

        if isinstance(node, yaml.ScalarNode):
            return loader.construct_object(node)

        if node.tag not in (_MAP_TAG, _SEQ_TAG):
            raise self._error(path, f"YAML tag {node.tag!r} is not supported here")

        # An alias inside its own anchor would make the walk endless.
        if id(node) in self._active:
            raise self._error(path, "an alias refers to a node that contains it")

        self._active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return self._construct_list(loader, node, path)
            return self._construct_mapping(loader, cast(yaml.MappingNode, node), path)
        finally:
            self._active.discard(id(node))

    def _construct_list(
        self, loader: yaml.SafeLoader, node: yaml.SequenceNode, path: _KeyPath
    ) -> list[Any]:
        items = []
        for index, item in enumerate(node.value):
            self.lines[(*path, index)] = item.start_mark.line + 1
            items.append(self._construct(loader, item, (*path, index)))
        return items

    def _construct_mapping(
        self, loader: yaml.SafeLoader, node: yaml.MappingNode, path: _KeyPath
    ) -> dict[str, Any]:
        # PyYAML lets a repeated key silently win; we report it. Keys merged
        # in with ``<<: *anchor`` may be overridden, so look before merging.
        first_lines: dict[str, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key, line = self._key(key_node, path), key_node.start_mark.line + 1
            if key in first_lines:
                self.duplicates.append(((*path, key), line, first_lines[key]))
            first_lines.setdefault(key, line)

        loader.flatten_mapping(node)
        pairs = {
            self._key(key_node, path): (key_node, value)
            for key_node, value in node.value
        }

        result = {}
        for key, (key_node, value) in pairs.items():
            self.lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = self._construct(loader, value, (*path, key))
        return result

    def _key(self, node: yaml.Node, path: _KeyPath) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self._error(
                path, "a key must be plain text, not a list or mapping", node
            )
        return str(node.value)

    def _error(
        self, path: _KeyPath, message: str, node: yaml.Node | None = None
    ) -> TargetsFileError:
        line = self.line(path) if node is None else node.start_mark.line + 1
        return TargetsFileError(f"{self.file}:{line}: {_format_path(path)}: {message}")


def _read(path: str | os.PathLike[str], file: str) -> str:
    try:
        with open(path, encoding="utf-8") as stream:
            return stream.read()
    except FileNotFoundError as exc:
        raise TargetsFileError(
            f"{file}: no such file (create it, or point --targets-file at another)"
        ) from exc
    except IsADirectoryError as exc:
        raise TargetsFileError(f"{file}: is a directory, not a targets file") from exc
    except OSError as exc:
        raise TargetsFileError(
            f"{file}: cannot read it: {exc.strerror or exc}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise TargetsFileError(
            f"{file}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"
        ) from exc


def _yaml_problem(file: str, text: str, exc: yaml.YAMLError) -> str:
    # Only the problem and its position: PyYAML's own rendering quotes the
    # offending line, which may hold a credential.
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        what = exc.problem or "syntax error"
        if exc.context:
            what = f"{what} ({exc.context})"
        lines = text.splitlines()
        if "${" in (lines[mark.line] if mark.line < len(lines) else ""):
            # {admin: ${TOKEN}} is the classic: braces inside a flow mapping.
            what += "; put a value that holds ${...} in quotes"
        return f"{file}:{mark.line + 1}: YAML syntax error at column {mark.column + 1}: {_one_line(what)}"

    if isinstance(exc, yaml.reader.ReaderError):
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        line = text.count("\n", 0, exc.position) + 1
        return f"{file}:{line}: character #x{code:04x} is not allowed in YAML ({exc.reason})"

    return f"{file}: YAML syntax error: {_one_line(str(exc))}"


# Checking against the schema


@cache
def _schema() -> dict[str, Any]:
    text = (
        resources.files("conformance")
        .joinpath("data/targets.schema.json")
        .read_text("utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(_schema())


def _target_of(error: ValidationError) -> str:
    """The target an error belongs to, or "" for the file as a whole."""
    path = tuple(error.absolute_path)
    if len(path) >= 2 and path[0] == "targets":
        return str(path[1])
    if path == ("targets",) and "propertyNames" in error.absolute_schema_path:
        return str(error.instance)
    return ""


def _raise_file_problem(document: _Document, errors: list[ValidationError]) -> None:
    file = document.file
    if document.data is None:
        raise TargetsFileError(
            f"{file}:1: the file is empty; it needs a 'targets' mapping"
        )

    for path, line, first in document.duplicates:
        if len(path) <= 1:
            raise TargetsFileError(
                f"{file}:{line}: {_format_path(path[:-1])}: key {path[-1]!r} appears twice (first at line {first})"
            )

    # The most telling problem first: an unknown key may be a misspelt 'targets'.
    ranks = {"type": 0, "additionalProperties": 1, "required": 2}
    file_errors = [error for error in errors if not _target_of(error)]
    file_errors.sort(key=lambda found: ranks.get(str(found.validator), 3))
    described = [found for error in file_errors for found in _describe(error, None)]
    if described:
        path, message, where = described[0]
        raise TargetsFileError(
            f"{file}:{document.line(where)}: {_format_path(path)}: {message}"
        )


def _describe(
    error: ValidationError, scheme: object
) -> Iterator[tuple[_KeyPath, str, _KeyPath]]:
    """Say what a schema error means: (key path shown, message, key path of the line)."""
    path: _KeyPath = tuple(error.absolute_path)
    # jsonschema types these as possibly unset; for a reported error they are set.
    instance: Any = error.instance
    expected: Any = error.validator_value
    keyword = str(error.validator)
    schema: Any = error.schema

    if "propertyNames" in error.absolute_schema_path:
        yield path, _bad_key_problem(path, str(instance)), (*path, str(instance))
    elif (
        scheme not in ("basic", "digest")
        and _is_obtained_credential(path, instance)
        and keyword in ("additionalProperties", "maxProperties")
    ):
        # {username, password} under a token scheme: one message, not one per key.
        yield path, _type_problem(path, instance, "string", scheme), path
    elif keyword == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        for key in instance:
            if key not in allowed:
                yield path, _unknown_key_problem(key, allowed), (*path, key)
    elif keyword == "required":
        # A misspelt key is reported once, as unknown with a suggestion.
        allowed = list(schema.get("properties", {}))
        misspelt = {_closest(key, allowed) for key in instance if key not in allowed}
        for key in expected:
            if key not in instance and key not in misspelt:
                yield (
                    path,
                    f"missing required key {key!r}{_MISSING_KEY_HINTS.get(key, '')}",
                    path,
                )
    elif keyword == "not":
        # The schema's only "not": api_key under another scheme.
        now = f" (scheme is {scheme!r})" if isinstance(scheme, str) else ""
        yield (
            (*path, "api_key"),
            f"only scheme api_key takes this key{now}",
            (*path, "api_key"),
        )
    elif keyword == "type" and "enum" in schema:
        pass  # the enum's message lists the valid values; one message is enough
    else:
        yield path, _value_problem(path, keyword, instance, expected, scheme), path


def _value_problem(
    path: _KeyPath, keyword: str, instance: Any, expected: Any, scheme: object
) -> str:
    """Say what is wrong with the value at ``path``, never showing a credential."""
    if keyword == "type":
        return _type_problem(path, instance, expected, scheme)
    if keyword == "enum":
        return _enum_problem(instance, expected)
    if keyword == "pattern" and expected == _ENDPOINT_PATTERN:
        return _endpoint_problem(instance)
    if keyword == "pattern":
        meaning = _PATTERN_PHRASES.get(expected, f"does not match {expected}")
        return f"{_shown(path, instance)} {meaning}"
    if keyword in ("minItems", "minProperties"):
        return _empty_problem(path)
    if keyword == "maxProperties":
        return f"give only one of {', '.join(instance)}"
    if keyword == "minLength":
        return "must not be empty"
    if keyword == "uniqueItems":
        twice = next(
            item for index, item in enumerate(instance) if item in instance[:index]
        )
        return f"lists {twice!r} twice"
    return f"breaks the schema rule {keyword}: {expected!r}"


def _bad_key_problem(path: _KeyPath, key: str) -> str:
    if path[-1:] == ("waive",):
        return _unknown_requirement_problem(key)
    noun = "target name" if path == ("targets",) else "role name"
    return f"{noun} {key!r} {_PATTERN_PHRASES[_NAME_PATTERN]}"


def _unknown_key_problem(key: str, allowed: list[str]) -> str:
    valid = ", ".join(allowed)
    suggestion = _closest(key, allowed)
    if suggestion is None:
        return f"unknown key {key!r} (valid keys: {valid})"
    return f"unknown key {key!r} (did you mean {suggestion!r}?; valid keys: {valid})"


def _unknown_requirement_problem(key: str) -> str:
    suggestion = _closest(key, list(load_catalogue()))
    hint = "see conformance/data/requirements.yaml for the IDs"
    if suggestion is not None:
        hint = f"did you mean {suggestion!r}?; {hint}"
    return f"{key!r} is not a requirement ID of the catalogue ({hint})"


def _type_problem(
    path: _KeyPath, instance: object, expected: str | list[str], scheme: object
) -> str:
    wanted = " or ".join(
        _TYPE_WORDS[name]
        for name in ([expected] if isinstance(expected, str) else expected)
    )
    if path[-2:-1] == ("endpoints",):
        wanted = "'METHOD /path' or a mapping {method, path, roles}"
    elif _is_credential(path) and scheme in ("basic", "digest"):
        wanted = f"a mapping {{username, password}} (scheme {scheme})"
    elif _is_credential(path) and (path[2] == "expired" or path[2:3] == ("invalid",) and len(path) == 4):
        wanted = f"a token string (scheme {scheme})"
    elif _is_credential(path) and len(path) == 4:
        wanted = f"a token string, {{client_credentials: ...}} or {{login: ...}} (scheme {scheme})"
    elif path == ():
        wanted = "a mapping with a 'targets' key"
    elif path == ("targets",):
        wanted = "a mapping of target names to targets"

    hint = ""
    quotable = "string" in expected or (_is_credential(path) and len(path) == 4)
    if quotable and isinstance(instance, (bool, int, float)):
        hint = " (put it in quotes; YAML reads yes, no, on, off and numbers as other types)"
    return f"expected {wanted}, got {_kind(instance)}{hint}"


def _enum_problem(instance: object, choices: list[str]) -> str:
    valid = ", ".join(choices)
    if not isinstance(instance, str):
        return f"expected one of {valid}, got {_kind(instance)}"

    suggestion = _closest(instance, choices)
    if suggestion is None:
        return f"{instance!r} is not one of {valid}"
    return f"{instance!r} is not one of {valid} (did you mean {suggestion!r}?)"


def _empty_problem(path: _KeyPath) -> str:
    what = {
        "targets": "must define at least one target",
        "credentials": "must give at least one role and its credential",
        "endpoints": "must list at least one endpoint, like 'GET /items'",
        "roles": "must list at least one role (leave roles out to allow every role)",
    }
    return what.get(str(path[-1]), "must not be empty")


def _endpoint_problem(text: str) -> str:
    problem = f"{text!r} is not 'METHOD /path', like 'GET /items'"
    words = text.split()
    if len(words) == 2 and words[0].isalpha():
        candidate = f"{words[0].upper()} /{words[1].lstrip('/')}"
        if candidate != text and _ENDPOINT.fullmatch(candidate):
            problem += f" (did you mean {candidate!r}?)"
    return problem


# Building the target


class _Problems:
    """The one-line problems found in one target, sorted by line when read."""

    def __init__(self, document: _Document) -> None:
        self._document = document
        self._found: list[tuple[int, str]] = []

    def __bool__(self) -> bool:
        return bool(self._found)

    def line(self, path: _KeyPath) -> int:
        """The line of ``path`` in the file."""
        return self._document.line(path)

    def add(self, path: _KeyPath, message: str, where: _KeyPath | None = None) -> None:
        """Record a problem at ``path``, on the line of ``where`` (``path`` by default)."""
        line = self._document.line(path if where is None else where)
        self.add_line(line, f"{_format_path(path)}: {message}")

    def add_line(self, line: int, message: str) -> None:
        """Record a problem on ``line`` with a message that names its own place."""
        self._found.append((line, f"{self._document.file}:{line}: {message}"))

    def lines(self) -> tuple[str, ...]:
        """The problems by line, each once."""
        ordered = sorted(self._found, key=lambda found: found[0])
        return tuple(dict.fromkeys(text for _, text in ordered))


def _load_target(
    name: str,
    raw: Any,
    document: _Document,
    errors: list[ValidationError],
    environ: Mapping[str, str],
) -> Target | BrokenTarget:
    path: _KeyPath = ("targets", name)
    source = SourceLocation(document.file, document.line(path))
    scheme = raw.get("scheme") if isinstance(raw, dict) else None
    problems = _Problems(document)

    for error in errors:
        for shown, message, where in _describe(error, scheme):
            problems.add(shown, message, where)

    for duplicate, line, first in document.duplicates:
        if len(duplicate) > 2 and duplicate[:2] == path:
            problems.add_line(
                line,
                f"{_format_path(duplicate[:-1])}: key {duplicate[-1]!r} appears twice (first at line {first})",
            )
        elif duplicate == path:
            problems.add_line(
                line,
                f"targets: target {name!r} is defined twice (first at line {first})",
            )

    # Checked even when the schema found problems: a misspelt ID would
    # otherwise waive nothing, silently. The schema flags malformed IDs
    # with the same message, which lines() then shows once.
    waive = raw.get("waive") if isinstance(raw, dict) else None
    for key in waive if isinstance(waive, dict) else ():
        if key not in load_catalogue():
            problems.add(
                (*path, "waive"),
                _unknown_requirement_problem(key),
                (*path, "waive", key),
            )

    expanded = _expand_target(name, raw, document, environ, problems)
    if not problems:
        target = _build_target(name, expanded, source, problems)
        if not problems:
            return target

    return BrokenTarget(name, problems.lines(), source)


def _expand_target(
    name: str,
    raw: Any,
    document: _Document,
    environ: Mapping[str, str],
    problems: _Problems,
) -> Any:
    """Expand ``${VAR}`` in every string value of a target, noting unset variables once each."""
    reported: set[str] = set()

    def expand(value: Any, path: _KeyPath) -> Any:
        if isinstance(value, dict):
            return {key: expand(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [expand(item, (*path, index)) for index, item in enumerate(value)]
        if not isinstance(value, str):
            return value

        missing: list[str] = []
        try:
            result = _substitute(value, environ, missing)
        except ValueError as exc:
            problems.add(path, str(exc))
            return value

        for variable in missing:
            if variable not in reported:
                reported.add(variable)
                problems.add_line(
                    document.line(path),
                    f"target {name!r}: environment variable {variable} is not set"
                    f" (write ${{{variable}:-default}} to give a default)",
                )
        return result

    return expand(raw, ("targets", name))


def _build_target(
    name: str, raw: dict[str, Any], source: SourceLocation, problems: _Problems
) -> Target:
    """Turn a schema-valid, expanded target into a Target, recording what is still wrong."""
    path: _KeyPath = ("targets", name)
    waive = {str(key): str(reason) for key, reason in raw.get("waive", {}).items()}
    if "embedded" in raw:
        return Target(
            name, "bearer", "", (), embedded=raw["embedded"], waive=waive, source=source
        )

    scheme = cast(Scheme, raw["scheme"])
    credentials = {
        role: _build_credential(value, (*path, "credentials", role), problems)
        for role, value in raw["credentials"].items()
    }
    expired = None
    if "expired" in raw:
        built = _build_credential(raw["expired"], (*path, "expired"), problems)
        expired = cast(Presentable, built)
    invalid = {
        name: cast(Presentable, _build_credential(value, (*path, "invalid", name), problems))
        for name, value in raw.get("invalid", {}).items()
    }

    api_key = None
    if "api_key" in raw:
        placement = raw["api_key"]
        _check_word(placement["name"], (*path, "api_key", "name"), problems)
        api_key = ApiKeyPlacement(placement["in"], placement["name"])
    if scheme == "cookie":
        api_key = _session_cookie(raw, credentials, path, problems)
    elif "cookie_name" in raw:
        problems.add(
            (*path, "cookie_name"),
            f"only scheme cookie takes this key (scheme is {scheme!r})",
        )

    accepts: tuple[Scheme, ...] = tuple(raw.get("schemes", ()))
    if accepts and scheme not in accepts:
        problems.add(
            (*path, "schemes"),
            f"must include {scheme!r}, the scheme credentials are sent in",
        )

    leak_marker = raw.get("leak_marker")
    if leak_marker == "":
        problems.add(
            (*path, "leak_marker"), "is empty after expanding environment variables"
        )

    target = Target(
        name,
        scheme,
        _build_base_url(raw["base_url"], (*path, "base_url"), problems),
        _build_endpoints(raw["endpoints"], credentials, (*path, "endpoints"), problems),
        credentials=credentials,
        api_key=api_key,
        expired=expired,
        invalid=invalid,
        accepts=accepts,
        jwt=_build_jwt(raw["jwt"], (*path, "jwt"), problems) if "jwt" in raw else None,
        waive=waive,
        leak_marker=leak_marker,
        source=source,
    )
    _check_invalid_names(target, (*path, "invalid"), problems)
    return target


def _check_invalid_names(target: Target, path: _KeyPath, problems: _Problems) -> None:
    """A declared invalid credential becomes ``wrong:<name>``, so it must not shadow a built-in variant."""
    builtin = variants.builtin_wrong_variants(target)
    for name in target.invalid:
        if name in builtin:
            problems.add(
                (*path, name),
                f"{name!r} is already a wrong variant of the suite; pick another name "
                f"(taken: {', '.join(builtin)})",
            )


def _session_cookie(
    raw: dict[str, Any],
    credentials: Mapping[str, Credential],
    path: _KeyPath,
    problems: _Problems,
) -> ApiKeyPlacement:
    """Where scheme cookie sends the session: cookie_name, or the cookie a login sets."""
    name = raw.get("cookie_name")
    if name is not None:
        _check_word(name, (*path, "cookie_name"), problems)
        return ApiKeyPlacement("cookie", name)

    for credential in credentials.values():
        if isinstance(credential, LoginRequest) and credential.token.location == "cookie":
            return ApiKeyPlacement("cookie", credential.token.name)
    problems.add(
        path,
        "scheme cookie needs cookie_name (the session cookie's name, like sessionid) "
        "or a login credential with token: {cookie: NAME}",
    )
    return ApiKeyPlacement("cookie", "session")


def _build_jwt(raw: dict[str, str], path: _KeyPath, problems: _Problems) -> JwtSettings:
    key = raw.get("key")
    # A PEM key spans lines, so only emptiness is checked here.
    if key is not None and not key.strip():
        problems.add((*path, "key"), "is empty after expanding environment variables")
    public_key = raw.get("public_key")
    if public_key is not None and "PUBLIC KEY" not in public_key:
        problems.add((*path, "public_key"), "is not a PEM public key (-----BEGIN PUBLIC KEY-----)")
    return JwtSettings(
        key=Secret(key) if key is not None else None,
        algorithm=raw.get("algorithm"),
        public_key=public_key,
    )


def _build_base_url(url: str, path: _KeyPath, problems: _Problems) -> str:
    problem = _base_url_problem(url, _shown(path, url))
    if problem is not None:
        problems.add(path, problem)
    return url.rstrip("/")


def _base_url_problem(url: str, shown: str) -> str | None:
    # A base URL may come from the environment; never echo one that carries
    # userinfo or a query, where credentials like to hide.
    like = "like 'https://api.example.com/v1'"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return f"{shown} is not a valid URL, {like}"

    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password (put them under credentials)"
    if parts.query or parts.fragment:
        return "must not have a query or fragment"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{shown} is not an http or https URL with a host, {like}"
    return None


def _build_endpoints(
    items: list[Any],
    credentials: Mapping[str, Credential],
    path: _KeyPath,
    problems: _Problems,
) -> tuple[Endpoint, ...]:
    endpoints: list[Endpoint] = []
    first_seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(items):
        item_path = (*path, index)
        if isinstance(item, str):
            try:
                endpoint = parse_endpoint(item)
            except ValueError as exc:
                problems.add(item_path, str(exc))
                continue
        else:
            endpoint = _build_endpoint_object(item, credentials, item_path, problems)

        key = (endpoint.method, endpoint.path)
        if key in first_seen:
            problems.add(
                item_path,
                f"{endpoint.label!r} is listed twice (first at line {first_seen[key]})",
            )
        first_seen.setdefault(key, problems.line(item_path))
        endpoints.append(endpoint)

    return tuple(endpoints)


def _build_endpoint_object(
    item: dict[str, Any],
    credentials: Mapping[str, Credential],
    path: _KeyPath,
    problems: _Problems,
) -> Endpoint:
    method, route = item["method"], item["path"]
    if not method.isalpha() or not method.isascii():
        problems.add(
            (*path, "method"), f"{method!r} {_PATTERN_PHRASES[_METHOD_PATTERN]}"
        )
    if not _PATH.fullmatch(route):
        problems.add((*path, "path"), f"{route!r} {_PATTERN_PHRASES[_PATH_PATTERN]}")

    roles = None
    if "roles" in item:
        roles = tuple(item["roles"])
        for index, role in enumerate(roles):
            if role not in credentials:
                problems.add(
                    (*path, "roles", index),
                    _unknown_role_problem(role, list(credentials)),
                )

    return Endpoint(method.upper(), route, roles)


def _unknown_role_problem(role: str, roles: list[str]) -> str:
    valid = ", ".join(roles)
    suggestion = _closest(role, roles)
    if suggestion is None:
        return f"unknown role {role!r} (roles with credentials: {valid})"
    return f"unknown role {role!r} (did you mean {suggestion!r}?; roles with credentials: {valid})"


def _build_credential(
    value: str | dict[str, Any], path: _KeyPath, problems: _Problems
) -> Credential:
    # The schema has checked the literal text; these checks are for what
    # environment variables put in. None of them may show the value.
    if isinstance(value, dict) and "client_credentials" in value:
        return _build_grant(value["client_credentials"], (*path, "client_credentials"), problems)
    if isinstance(value, dict) and "login" in value:
        return _build_login(value["login"], (*path, "login"), problems)
    if isinstance(value, dict):
        username, password = value["username"], value["password"]
        _check_secret(username, (*path, "username"), problems)
        if ":" in username:
            problems.add(
                (*path, "username"), f"the value {_PATTERN_PHRASES[_USERNAME_PATTERN]}"
            )
        if _CONTROL.search(password):
            problems.add((*path, "password"), _CONTROL_PROBLEM)
        return BasicCredential(username, Secret(password))

    _check_secret(value, path, problems)
    return Secret(value)


def _build_grant(
    raw: dict[str, str], path: _KeyPath, problems: _Problems
) -> ClientCredentialsGrant:
    url_problem = _base_url_problem(raw["token_url"], _shown((*path, "token_url"), raw["token_url"]))
    if url_problem is not None:
        problems.add((*path, "token_url"), url_problem)
    _check_secret(raw["client_id"], (*path, "client_id"), problems)
    _check_secret(raw["client_secret"], (*path, "client_secret"), problems)
    return ClientCredentialsGrant(
        token_url=raw["token_url"],
        client_id=raw["client_id"],
        client_secret=Secret(raw["client_secret"]),
        scope=raw.get("scope") or None,
        audience=raw.get("audience"),
        client_auth=cast(Any, raw.get("client_auth", "basic")),
    )


def _build_login(raw: dict[str, Any], path: _KeyPath, problems: _Problems) -> LoginRequest:
    method, route = raw["method"], raw["path"]
    if not _PATH.fullmatch(route):
        problems.add((*path, "path"), f"{route!r} {_PATTERN_PHRASES[_PATH_PATTERN]}")
    location, name = next(iter(raw["token"].items()))
    if location != "json":
        _check_word(name, (*path, "token", location), problems)

    body, content_type = None, None
    if "json" in raw and "form" in raw:
        problems.add(path, "give json or form as the login body, not both")
    elif "json" in raw:
        body, content_type = Secret(json.dumps(raw["json"])), "application/json"
    elif "form" in raw:
        body = Secret(urlencode(raw["form"]))
        content_type = "application/x-www-form-urlencoded"
    return LoginRequest(
        method.upper(), route, TokenSource(location, name), body, content_type
    )


def _check_secret(text: str, path: _KeyPath, problems: _Problems) -> None:
    if text == "":
        problems.add(path, "is empty after expanding environment variables")
    elif _CONTROL.search(text):
        problems.add(path, _CONTROL_PROBLEM)


def _check_word(text: str, path: _KeyPath, problems: _Problems) -> None:
    if text == "":
        problems.add(path, "is empty after expanding environment variables")
    elif not re.fullmatch(r"\S+", text):
        problems.add(path, f"{text!r} {_PATTERN_PHRASES[_WORD_PATTERN]}")


def _substitute(text: str, environ: Mapping[str, str], missing: list[str]) -> str:
    """Expand references in ``text``, appending unset variable names to ``missing``."""

    def replace(match: re.Match[str]) -> str:
        if match["escape"]:
            return "$"
        if match["bad"]:
            raise ValueError(
                "'${' starts no variable reference; write ${NAME} or ${NAME:-default}, or $$ for a literal '$'"
            )

        value = environ.get(match["name"])
        if match["default"] is not None and not value:
            return match["default"]
        if value is None:
            missing.append(match["name"])
            return match[0]
        return value

    return _REFERENCE.sub(replace, text)


# Small helpers for messages


def _format_path(path: _KeyPath) -> str:
    """Render a key path as users read it: ``targets.myapi.endpoints[1].roles[0]``."""
    if not path:
        return "top level"

    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


def _closest(word: str, choices: list[str]) -> str | None:
    folded = {choice.lower(): choice for choice in choices}
    matches = difflib.get_close_matches(word.lower(), list(folded), n=1)
    return folded[matches[0]] if matches else None


def _is_credential(path: _KeyPath) -> bool:
    """Tell whether ``path`` is a credential (or inside one), whose value must never be shown."""
    return len(path) >= 3 and path[2] in ("credentials", "expired", "invalid", "jwt")


def _is_obtained_credential(path: _KeyPath, instance: object) -> bool:
    """Tell whether ``instance`` is a role's mapping that names no way to obtain a token."""
    return (
        len(path) == 4
        and path[2] == "credentials"
        and isinstance(instance, dict)
        and not {"client_credentials", "login"} & set(instance)
    )


def _shown(path: _KeyPath, value: object) -> str:
    if _is_credential(path):
        return "the value"
    if (
        path[-1:] == ("base_url",)
        and isinstance(value, str)
        and ("@" in value or "?" in value)
    ):
        return "the value"
    return repr(value)


def _kind(value: object) -> str:
    """Name the YAML type of ``value`` as users know it: ``a mapping``, ``nothing``."""
    kinds = {bool: "true or false", int: "a number", float: "a number", str: "a string"}
    kinds |= {list: "a list", dict: "a mapping", type(None): "nothing"}
    return kinds.get(type(value), f"a {type(value).__name__}")


def _one_line(text: str) -> str:
    return " ".join(text.split())

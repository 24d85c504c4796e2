"""Tests for conformance.targets: reading targets.yaml, and what it says when it cannot."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from conformance import targets as targets_module
from conformance.errors import TargetsFileError
from conformance.model import (
    SCHEMES,
    ApiKeyPlacement,
    BasicCredential,
    BrokenTarget,
    ClientCredentialsGrant,
    Endpoint,
    JwtSettings,
    LoginRequest,
    Secret,
    SourceLocation,
    Target,
    TokenSource,
)
from conformance.targets import (
    DEFAULT_TARGETS_FILE,
    EMBEDDED_NAMES,
    MissingVariable,
    builtin_targets,
    expand_env,
    load_targets,
    parse_endpoint,
)

WriteTargets = Callable[[str], Path]

# The target most error cases start from; its lines are 1 to 6.
GOOD = """\
targets:
  api:
    base_url: https://api.example.com
    scheme: bearer
    credentials: {admin: tok-admin}
    endpoints: [GET /items]
"""


@pytest.fixture
def write_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WriteTargets:
    """Write a targets.yaml in a temporary working directory and return its relative path.

    A relative path keeps the file name in messages short: ``targets.yaml:3:``.
    """
    monkeypatch.chdir(tmp_path)

    def write(text: str) -> Path:
        path = Path(DEFAULT_TARGETS_FILE)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def problems_of(
    path: Path, name: str = "api", environ: dict[str, str] | None = None
) -> tuple[str, ...]:
    """Load ``path`` and return the problems of the broken target ``name``."""
    target = load_targets(path, environ or {})[name]
    assert isinstance(target, BrokenTarget), target
    return target.problems


# A full, valid file


FULL_EXAMPLE = """\
targets:
  demo:
    embedded: demo
  myapi:
    base_url: https://api.example.com/v1/
    scheme: api_key
    api_key: {in: header, name: X-API-Key}
    credentials:
      admin: "${MYAPI_ADMIN_TOKEN}"
      reader: "${MYAPI_READER_TOKEN:-reader-default}"
    expired: "${MYAPI_EXPIRED_TOKEN}"
    invalid: {revoked: "${MYAPI_REVOKED_TOKEN:-tok-revoked}"}
    endpoints:
      - GET /items
      - {method: delete, path: /items/42, roles: [admin]}
    waive: {R6750-ERROR-ON-FAILURE: "our gateway strips the error attribute"}
    leak_marker: "secret-item-name"
  basicapi:
    base_url: http://127.0.0.1:8080
    scheme: basic
    credentials:
      alice: {username: alice, password: "${ALICE_PW}"}
    endpoints: [POST /orders]
"""


def test_full_example_loads_into_targets(write_targets: WriteTargets) -> None:
    # Given a file using every key and an environment with its variables
    path = write_targets(FULL_EXAMPLE)
    environ = {
        "MYAPI_ADMIN_TOKEN": "tok-admin",
        "MYAPI_EXPIRED_TOKEN": "tok-old",
        "ALICE_PW": "pw",
    }

    # When it is loaded
    loaded = load_targets(path, environ)

    # Then every value lands in the model, expanded, in file order
    assert list(loaded) == ["demo", "myapi", "basicapi"]
    assert loaded["demo"] == Target(
        "demo",
        "bearer",
        "",
        (),
        embedded="demo",
        source=SourceLocation("targets.yaml", 2),
    )
    assert loaded["myapi"] == Target(
        name="myapi",
        scheme="api_key",
        base_url="https://api.example.com/v1",
        endpoints=(
            Endpoint("GET", "/items"),
            Endpoint("DELETE", "/items/42", ("admin",)),
        ),
        credentials={"admin": Secret("tok-admin"), "reader": Secret("reader-default")},
        api_key=ApiKeyPlacement("header", "X-API-Key"),
        expired=Secret("tok-old"),
        invalid={"revoked": Secret("tok-revoked")},
        waive={"R6750-ERROR-ON-FAILURE": "our gateway strips the error attribute"},
        leak_marker="secret-item-name",
        source=SourceLocation("targets.yaml", 4),
    )
    assert loaded["basicapi"] == Target(
        name="basicapi",
        scheme="basic",
        base_url="http://127.0.0.1:8080",
        endpoints=(Endpoint("POST", "/orders"),),
        credentials={"alice": BasicCredential("alice", Secret("pw"))},
        source=SourceLocation("targets.yaml", 18),
    )


def test_default_environment_is_os_environ(
    write_targets: WriteTargets, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a token that only the process environment holds
    monkeypatch.setenv("API_TOKEN_FOR_TEST", "from-os-environ")
    path = write_targets(GOOD.replace("tok-admin", '"${API_TOKEN_FOR_TEST}"'))

    # Then loading without an explicit environment reads os.environ
    target = load_targets(path)["api"]
    assert isinstance(target, Target)
    assert target.credentials["admin"] == Secret("from-os-environ")


def test_anchors_and_merge_keys_are_shared(write_targets: WriteTargets) -> None:
    # Given a second target that reuses the first one's keys through YAML merge keys
    path = write_targets(
        """\
        targets:
          staging: &common
            base_url: https://staging.example.com
            scheme: bearer
            credentials: {admin: tok-admin}
            endpoints: &endpoints [GET /items]
          prod:
            <<: *common
            base_url: https://example.com
            endpoints: *endpoints
        """
    )

    # Then the second target gets the shared keys and keeps its own base_url
    loaded = load_targets(path, {})
    prod = loaded["prod"]
    assert isinstance(prod, Target)
    assert prod.base_url == "https://example.com"
    assert prod.endpoints == (Endpoint("GET", "/items"),)
    assert prod.credentials == {"admin": Secret("tok-admin")}


def test_keys_stay_the_text_written(write_targets: WriteTargets) -> None:
    # YAML 1.1 would read the key `yes` as True; a role called yes stays "yes".
    path = write_targets(GOOD.replace("{admin: tok-admin}", "{yes: tok-admin}"))

    target = load_targets(path, {})["api"]
    assert isinstance(target, Target)
    assert target.roles == ("yes",)


def test_builtin_targets_need_no_file() -> None:
    # The bundled APIs are placeholders the plugin starts itself.
    assert builtin_targets() == {
        name: Target(name, scheme="bearer", base_url="", endpoints=(), embedded=name)
        for name in EMBEDDED_NAMES
    }


# Endpoints


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /items", Endpoint("GET", "/items")),
        ("DELETE /items/42", Endpoint("DELETE", "/items/42")),
        ("GET /", Endpoint("GET", "/")),
        ("GET /search?q=a", Endpoint("GET", "/search?q=a")),
    ],
    ids=["simple", "nested", "root", "query"],
)
def test_parse_endpoint_reads_shorthand(text: str, expected: Endpoint) -> None:
    assert parse_endpoint(text) == expected
    assert parse_endpoint(text).label == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "get /items",
            "'get /items' is not 'METHOD /path', like 'GET /items' (did you mean 'GET /items'?)",
        ),
        (
            "GET items",
            "'GET items' is not 'METHOD /path', like 'GET /items' (did you mean 'GET /items'?)",
        ),
        (
            "GET  /items",
            "'GET  /items' is not 'METHOD /path', like 'GET /items' (did you mean 'GET /items'?)",
        ),
        ("/items", "'/items' is not 'METHOD /path', like 'GET /items'"),
        ("GET /a b", "'GET /a b' is not 'METHOD /path', like 'GET /items'"),
        ("", "'' is not 'METHOD /path', like 'GET /items'"),
    ],
    ids=[
        "lower-case-method",
        "no-slash",
        "two-spaces",
        "no-method",
        "space-in-path",
        "empty",
    ],
)
def test_parse_endpoint_rejects_malformed_shorthand(text: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_endpoint(text)
    assert str(excinfo.value) == message


# Environment variables


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        ("${TOKEN}", {"TOKEN": "abc"}, "abc"),
        ("Bearer-${TOKEN}-x", {"TOKEN": "abc"}, "Bearer-abc-x"),
        ("${A}${B}", {"A": "1", "B": "2"}, "12"),
        ("${TOKEN:-fallback}", {}, "fallback"),
        ("${TOKEN:-fallback}", {"TOKEN": ""}, "fallback"),
        ("${TOKEN:-fallback}", {"TOKEN": "set"}, "set"),
        ("${TOKEN:-}", {}, ""),
        ("${TOKEN}", {"TOKEN": ""}, ""),
        ("${URL:-http://localhost:8000}", {}, "http://localhost:8000"),
        ("$${TOKEN}", {"TOKEN": "abc"}, "${TOKEN}"),
        ("price: $$5", {}, "price: $5"),
        ("$$$${X}", {}, "$${X}"),
        ("costs $5", {}, "costs $5"),
        ("trailing $", {}, "trailing $"),
        ("${X:-${Y}}", {}, "${Y}"),
        ("no references", {}, "no references"),
    ],
    ids=[
        "plain",
        "embedded-in-text",
        "two-references",
        "default-when-unset",
        "default-when-empty",
        "value-beats-default",
        "empty-default",
        "set-but-empty",
        "default-with-colon",
        "escaped-reference",
        "escaped-dollar",
        "two-escapes",
        "lone-dollar-kept",
        "trailing-dollar-kept",
        "default-not-expanded-again",
        "no-references",
    ],
)
def test_expand_env_substitutes_variables(
    text: str, environ: dict[str, str], expected: str
) -> None:
    assert expand_env(text, environ) == expected


def test_expand_env_names_the_unset_variable() -> None:
    with pytest.raises(MissingVariable) as excinfo:
        expand_env("${SET}-${UNSET}", {"SET": "x"})

    assert excinfo.value.name == "UNSET"
    assert str(excinfo.value) == "environment variable UNSET is not set"
    assert isinstance(excinfo.value, KeyError)


@pytest.mark.parametrize(
    "text", ["${", "${TOKEN", "${1ABC}", "${A-b}", "${A:?x}", "${}"]
)
def test_expand_env_rejects_malformed_references(text: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        expand_env(text, {"TOKEN": "abc", "A": "a"})
    assert str(excinfo.value) == (
        "'${' starts no variable reference; write ${NAME} or ${NAME:-default}, or $$ for a literal '$'"
    )


def test_every_string_value_is_expanded(write_targets: WriteTargets) -> None:
    # Given variables in the base URL, the key placement, an endpoint and the marker
    path = write_targets(
        """\
        targets:
          api:
            base_url: ${API_URL}/
            scheme: api_key
            api_key: {in: query, name: "${KEY_PARAM}"}
            credentials: {admin: "${TOKEN}"}
            endpoints: ["GET /items/${ITEM}"]
            leak_marker: "${MARKER}"
            waive: {R6750-ERROR-ON-FAILURE: "costs $$5"}
        """
    )
    environ = {
        "API_URL": "https://x.example",
        "KEY_PARAM": "key",
        "TOKEN": "t",
        "ITEM": "42",
        "MARKER": "m",
    }

    target = load_targets(path, environ)["api"]

    assert isinstance(target, Target)
    assert target.base_url == "https://x.example"
    assert target.api_key == ApiKeyPlacement("query", "key")
    assert target.endpoints == (Endpoint("GET", "/items/42"),)
    assert target.leak_marker == "m"
    assert target.waive == {"R6750-ERROR-ON-FAILURE": "costs $5"}


# Problems inside one target: (file, one-line message)

TARGET_PROBLEMS: list[tuple[str, str, dict[str, str], str]] = [
    (
        "scheme-misspelt",
        GOOD.replace("scheme: bearer", "scheme: berer"),
        {},
        "targets.yaml:4: targets.api.scheme: 'berer' is not one of bearer, basic, api_key, digest, cookie (did you mean 'bearer'?)",
    ),
    (
        "scheme-wrong-case",
        GOOD.replace("scheme: bearer", "scheme: Bearer"),
        {},
        "targets.yaml:4: targets.api.scheme: 'Bearer' is not one of bearer, basic, api_key, digest, cookie (did you mean 'bearer'?)",
    ),
    (
        "scheme-unrelated",
        GOOD.replace("scheme: bearer", "scheme: ntlm"),
        {},
        "targets.yaml:4: targets.api.scheme: 'ntlm' is not one of bearer, basic, api_key, digest, cookie",
    ),
    (
        "scheme-not-a-string",
        GOOD.replace("scheme: bearer", "scheme: [bearer]"),
        {},
        "targets.yaml:4: targets.api.scheme: expected one of bearer, basic, api_key, digest, cookie, got a list",
    ),
    (
        "key-misspelt",
        GOOD.replace("endpoints:", "endpoint:"),
        {},
        "targets.yaml:6: targets.api: unknown key 'endpoint' (did you mean 'endpoints'?; valid keys: "
        "base_url, scheme, schemes, api_key, cookie_name, credentials, expired, invalid, jwt, endpoints, waive, leak_marker)",
    ),
    (
        "key-unknown",
        GOOD + "    timeout: 5\n",
        {},
        "targets.yaml:7: targets.api: unknown key 'timeout' (valid keys: "
        "base_url, scheme, schemes, api_key, cookie_name, credentials, expired, invalid, jwt, endpoints, waive, leak_marker)",
    ),
    (
        "key-missing",
        GOOD.replace("    base_url: https://api.example.com\n", ""),
        {},
        "targets.yaml:2: targets.api: missing required key 'base_url'",
    ),
    (
        "api-key-missing",
        GOOD.replace("scheme: bearer", "scheme: api_key"),
        {},
        "targets.yaml:2: targets.api: missing required key 'api_key' "
        "(scheme api_key needs {in: header|query|cookie, name: ...})",
    ),
    (
        "api-key-with-other-scheme",
        GOOD + "    api_key: {in: header, name: X-API-Key}\n",
        {},
        "targets.yaml:7: targets.api.api_key: only scheme api_key takes this key (scheme is 'bearer')",
    ),
    (
        "api-key-location-misspelt",
        GOOD.replace("scheme: bearer", "scheme: api_key")
        + "    api_key: {in: headers, name: X-API-Key}\n",
        {},
        "targets.yaml:7: targets.api.api_key.in: 'headers' is not one of header, query, cookie (did you mean 'header'?)",
    ),
    (
        "api-key-name-with-space",
        GOOD.replace("scheme: bearer", "scheme: api_key")
        + "    api_key: {in: header, name: X API Key}\n",
        {},
        "targets.yaml:7: targets.api.api_key.name: 'X API Key' must be one word with no spaces",
    ),
    (
        "endpoint-lower-case",
        GOOD.replace("GET /items", "get /items"),
        {},
        "targets.yaml:6: targets.api.endpoints[0]: 'get /items' is not 'METHOD /path', like 'GET /items' "
        "(did you mean 'GET /items'?)",
    ),
    (
        "endpoint-number",
        GOOD.replace("[GET /items]", "[GET /items, 42]"),
        {},
        "targets.yaml:6: targets.api.endpoints[1]: expected 'METHOD /path' or a mapping {method, path, roles}, "
        "got a number",
    ),
    (
        "endpoint-path-without-slash",
        GOOD.replace("[GET /items]", "[{method: GET, path: items}]"),
        {},
        "targets.yaml:6: targets.api.endpoints[0].path: 'items' must start with '/' and contain no spaces",
    ),
    (
        "endpoint-method-not-a-word",
        GOOD.replace("[GET /items]", "[{method: 'GET /items', path: /items}]"),
        {},
        "targets.yaml:6: targets.api.endpoints[0].method: 'GET /items' is not an HTTP method, like 'GET'",
    ),
    (
        "endpoint-unknown-key",
        GOOD.replace("[GET /items]", "[{method: GET, path: /items, role: [admin]}]"),
        {},
        "targets.yaml:6: targets.api.endpoints[0]: unknown key 'role' (did you mean 'roles'?; "
        "valid keys: method, path, roles)",
    ),
    (
        "endpoint-unknown-role",
        GOOD.replace("[GET /items]", "[{method: GET, path: /items, roles: [admni]}]"),
        {},
        "targets.yaml:6: targets.api.endpoints[0].roles[0]: unknown role 'admni' (did you mean 'admin'?; "
        "roles with credentials: admin)",
    ),
    (
        "endpoint-listed-twice",
        GOOD.replace(
            "[GET /items]",
            "\n      - GET /items\n      - {method: get, path: /items, roles: [admin]}",
        ),
        {},
        "targets.yaml:8: targets.api.endpoints[1]: 'GET /items' is listed twice (first at line 7)",
    ),
    (
        "endpoints-empty",
        GOOD.replace("[GET /items]", "[]"),
        {},
        "targets.yaml:6: targets.api.endpoints: must list at least one endpoint, like 'GET /items'",
    ),
    (
        "roles-empty",
        GOOD.replace("[GET /items]", "[{method: GET, path: /items, roles: []}]"),
        {},
        "targets.yaml:6: targets.api.endpoints[0].roles: must list at least one role "
        "(leave roles out to allow every role)",
    ),
    (
        "roles-repeated",
        GOOD.replace(
            "[GET /items]", "[{method: GET, path: /items, roles: [admin, admin]}]"
        ),
        {},
        "targets.yaml:6: targets.api.endpoints[0].roles: lists 'admin' twice",
    ),
    (
        "credentials-empty",
        GOOD.replace("{admin: tok-admin}", "{}"),
        {},
        "targets.yaml:5: targets.api.credentials: must give at least one role and its credential",
    ),
    (
        "role-name-with-space",
        GOOD.replace("{admin: tok-admin}", "{read only: tok-admin}"),
        {},
        "targets.yaml:5: targets.api.credentials: role name 'read only' may use only letters, digits, "
        "'_', '.' and '-', starting with a letter or digit",
    ),
    (
        "basic-credential-as-string",
        GOOD.replace("scheme: bearer", "scheme: basic"),
        {},
        "targets.yaml:5: targets.api.credentials.admin: expected a mapping {username, password} (scheme basic), "
        "got a string",
    ),
    (
        "bearer-credential-as-mapping",
        GOOD.replace("{admin: tok-admin}", "{admin: {username: a, password: b}}"),
        {},
        "targets.yaml:5: targets.api.credentials.admin: expected a token string, {client_credentials: ...} "
        "or {login: ...} (scheme bearer), got a mapping",
    ),
    (
        "token-read-as-number",
        GOOD.replace("tok-admin", "12345"),
        {},
        "targets.yaml:5: targets.api.credentials.admin: expected a token string, {client_credentials: ...} "
        "or {login: ...} (scheme bearer), got a number "
        "(put it in quotes; YAML reads yes, no, on, off and numbers as other types)",
    ),
    (
        "token-empty",
        GOOD.replace("tok-admin", "''"),
        {},
        "targets.yaml:5: targets.api.credentials.admin: must not be empty",
    ),
    (
        "basic-credential-key-misspelt",
        GOOD.replace("scheme: bearer", "scheme: basic").replace(
            "tok-admin", "{username: a, pasword: b}"
        ),
        {},
        "targets.yaml:5: targets.api.credentials.admin: unknown key 'pasword' (did you mean 'password'?; "
        "valid keys: username, password)",
    ),
    (
        "basic-user-name-with-colon",
        GOOD.replace("scheme: bearer", "scheme: basic").replace(
            "tok-admin", "{username: 'a:b', password: c}"
        ),
        {},
        "targets.yaml:5: targets.api.credentials.admin.username: the value contains ':', "
        "which RFC 7617 §2 forbids in a user name",
    ),
    (
        "expired-wrong-shape",
        GOOD + "    expired: {username: a, password: b}\n",
        {},
        "targets.yaml:7: targets.api.expired: expected a token string (scheme bearer), got a mapping",
    ),
    (
        "invalid-wrong-shape",
        GOOD + "    invalid: {revoked: {username: a, password: b}}\n",
        {},
        "targets.yaml:7: targets.api.invalid.revoked: expected a token string (scheme bearer), got a mapping",
    ),
    (
        "invalid-shadows-a-builtin-variant",
        GOOD + "    invalid: {random-token: tok-revoked}\n",
        {},
        "targets.yaml:7: targets.api.invalid.random-token: 'random-token' is already a wrong variant of the suite; "
        "pick another name (taken: random-token, truncated, flipped-char, misplaced)",
    ),
    (
        "base-url-not-http",
        GOOD.replace("https://api.example.com", "ftp://api.example.com"),
        {},
        "targets.yaml:3: targets.api.base_url: 'ftp://api.example.com' is not an http or https URL, "
        "like 'https://api.example.com/v1'",
    ),
    (
        "base-url-without-host",
        GOOD.replace("https://api.example.com", "${API_URL}"),
        {"API_URL": "https:///v1"},
        "targets.yaml:3: targets.api.base_url: 'https:///v1' is not an http or https URL with a host, "
        "like 'https://api.example.com/v1'",
    ),
    (
        "base-url-port-out-of-range",
        GOOD.replace("https://api.example.com", "https://api.example.com:99999"),
        {},
        "targets.yaml:3: targets.api.base_url: 'https://api.example.com:99999' is not a valid URL, "
        "like 'https://api.example.com/v1'",
    ),
    (
        "base-url-with-query",
        GOOD.replace("https://api.example.com", "https://api.example.com/?key=k"),
        {},
        "targets.yaml:3: targets.api.base_url: must not have a query or fragment",
    ),
    (
        "leak-marker-empty-after-expansion",
        GOOD + "    leak_marker: ${MARKER}\n",
        {"MARKER": ""},
        "targets.yaml:7: targets.api.leak_marker: is empty after expanding environment variables",
    ),
    (
        "waive-unknown-requirement",
        GOOD + "    waive: {R6750-ERROR-ON-FAIL: gateway}\n",
        {},
        "targets.yaml:7: targets.api.waive: 'R6750-ERROR-ON-FAIL' is not a requirement ID of the catalogue "
        "(did you mean 'R6750-ERROR-ON-FAILURE'?; see conformance/data/requirements.yaml for the IDs)",
    ),
    (
        "waive-malformed-requirement",
        GOOD + "    waive: {r6750-error-on-failure: gateway}\n",
        {},
        "targets.yaml:7: targets.api.waive: 'r6750-error-on-failure' is not a requirement ID of the catalogue "
        "(did you mean 'R6750-ERROR-ON-FAILURE'?; see conformance/data/requirements.yaml for the IDs)",
    ),
    (
        "waive-without-reason",
        GOOD + "    waive: {R6750-ERROR-ON-FAILURE: ''}\n",
        {},
        "targets.yaml:7: targets.api.waive.R6750-ERROR-ON-FAILURE: must not be empty",
    ),
    (
        "key-repeated",
        GOOD + "    scheme: bearer\n",
        {},
        "targets.yaml:7: targets.api: key 'scheme' appears twice (first at line 4)",
    ),
    (
        "variable-unset",
        GOOD.replace("tok-admin", '"${API_ADMIN_TOKEN}"'),
        {},
        "targets.yaml:5: target 'api': environment variable API_ADMIN_TOKEN is not set "
        "(write ${API_ADMIN_TOKEN:-default} to give a default)",
    ),
    (
        "variable-reference-malformed",
        GOOD.replace("tok-admin", '"${API_ADMIN_TOKEN"'),
        {},
        "targets.yaml:5: targets.api.credentials.admin: '${' starts no variable reference; "
        "write ${NAME} or ${NAME:-default}, or $$ for a literal '$'",
    ),
    (
        "token-empty-after-expansion",
        GOOD.replace("tok-admin", '"${API_ADMIN_TOKEN}"'),
        {"API_ADMIN_TOKEN": ""},
        "targets.yaml:5: targets.api.credentials.admin: is empty after expanding environment variables",
    ),
    (
        "token-with-newline-after-expansion",
        GOOD.replace("tok-admin", '"${API_ADMIN_TOKEN}"'),
        {"API_ADMIN_TOKEN": "tok\n"},
        "targets.yaml:5: targets.api.credentials.admin: contains a line break or other control character "
        "(a trailing newline in an environment variable?)",
    ),
    (
        "target-empty",
        "targets:\n  api:\n",
        {},
        "targets.yaml:2: targets.api: expected a mapping, got nothing",
    ),
    (
        "embedded-misspelt",
        "targets:\n  api:\n    embedded: dmeo\n",
        {},
        "targets.yaml:3: targets.api.embedded: 'dmeo' is not one of demo, demo-broken, demo-basic, "
        "demo-basic-broken, demo-apikey, demo-apikey-broken (did you mean 'demo'?)",
    ),
    (
        "embedded-with-api-keys",
        "targets:\n  api:\n    embedded: demo\n    base_url: http://localhost\n",
        {},
        "targets.yaml:4: targets.api: unknown key 'base_url' (valid keys: embedded, waive)",
    ),
]


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [case[1:] for case in TARGET_PROBLEMS],
    ids=[case[0] for case in TARGET_PROBLEMS],
)
def test_target_problem_is_one_line(
    write_targets: WriteTargets, text: str, environ: dict[str, str], message: str
) -> None:
    path = write_targets(text)

    assert problems_of(path, environ=environ) == (message,)


def test_target_name_must_suit_test_ids(write_targets: WriteTargets) -> None:
    # A name with a space is kept as written, but the target cannot run.
    path = write_targets(GOOD.replace("  api:", "  'api one':"))

    assert problems_of(path, "api one") == (
        "targets.yaml:2: targets: target name 'api one' may use only letters, digits, '_', '.' and '-', "
        "starting with a letter or digit",
    )


def test_target_defined_twice_is_broken(write_targets: WriteTargets) -> None:
    # PyYAML would silently keep the second; we say so instead.
    path = write_targets(GOOD + "  api:\n    embedded: demo\n")

    assert problems_of(path) == (
        "targets.yaml:7: targets: target 'api' is defined twice (first at line 2)",
    )


def test_problems_are_sorted_by_line(write_targets: WriteTargets) -> None:
    # Given a target with several problems, one of them an unset variable
    path = write_targets(
        """\
        targets:
          api:
            base_url: ftp://x
            scheme: bearer
            credentials: {admin: "${UNSET_TOKEN}"}
            endpoints: [get /items]
            colour: blue
        """
    )

    # Then each is reported once, in the order of the file
    assert problems_of(path) == (
        "targets.yaml:3: targets.api.base_url: 'ftp://x' is not an http or https URL, like 'https://api.example.com/v1'",
        "targets.yaml:5: target 'api': environment variable UNSET_TOKEN is not set "
        "(write ${UNSET_TOKEN:-default} to give a default)",
        "targets.yaml:6: targets.api.endpoints[0]: 'get /items' is not 'METHOD /path', like 'GET /items' "
        "(did you mean 'GET /items'?)",
        "targets.yaml:7: targets.api: unknown key 'colour' (valid keys: "
        "base_url, scheme, schemes, api_key, cookie_name, credentials, expired, invalid, jwt, endpoints, waive, leak_marker)",
    )


def test_unset_variable_is_reported_once(write_targets: WriteTargets) -> None:
    path = write_targets(
        GOOD.replace("{admin: tok-admin}", '{admin: "${TOKEN}", reader: "${TOKEN}"}')
    )

    assert problems_of(path) == (
        "targets.yaml:5: target 'api': environment variable TOKEN is not set (write ${TOKEN:-default} to give a default)",
    )


def test_broken_target_spares_its_siblings(write_targets: WriteTargets) -> None:
    # Given a good target between two broken ones
    path = write_targets(
        """\
        targets:
          first:
            embedded: dmeo
          good:
            base_url: https://api.example.com
            scheme: bearer
            credentials: {admin: tok-admin}
            endpoints: [GET /items]
          last:
            base_url: https://api.example.com
            scheme: bearer
            credentials: {admin: "${UNSET_TOKEN}"}
            endpoints: [GET /items]
        """
    )

    # Then only the broken ones are broken, each with its own source line
    loaded = load_targets(path, {})
    assert isinstance(loaded["first"], BrokenTarget)
    assert loaded["first"].source == SourceLocation("targets.yaml", 2)
    assert isinstance(loaded["good"], Target)
    assert loaded["good"].credentials == {"admin": Secret("tok-admin")}
    assert isinstance(loaded["last"], BrokenTarget)
    assert loaded["last"].source == SourceLocation("targets.yaml", 9)


# Problems with the whole file

FILE_PROBLEMS: list[tuple[str, str, str]] = [
    ("empty", "", "targets.yaml:1: the file is empty; it needs a 'targets' mapping"),
    (
        "only-comments",
        "# nothing yet\n",
        "targets.yaml:1: the file is empty; it needs a 'targets' mapping",
    ),
    (
        "top-level-list",
        "- api\n",
        "targets.yaml:1: top level: expected a mapping with a 'targets' key, got a list",
    ),
    (
        "targets-misspelt",
        "target:\n  api: {embedded: demo}\n",
        "targets.yaml:1: top level: unknown key 'target' (did you mean 'targets'?; valid keys: targets)",
    ),
    (
        "unknown-top-level-key",
        "targets:\n  api: {embedded: demo}\ndefaults: {}\n",
        "targets.yaml:3: top level: unknown key 'defaults' (valid keys: targets)",
    ),
    (
        "targets-missing",
        "{}\n",
        "targets.yaml:1: top level: missing required key 'targets' (the file must start with 'targets:')",
    ),
    (
        "targets-a-list",
        "targets:\n  - api\n",
        "targets.yaml:1: targets: expected a mapping of target names to targets, got a list",
    ),
    (
        "targets-empty",
        "targets: {}\n",
        "targets.yaml:1: targets: must define at least one target",
    ),
    (
        "targets-repeated",
        "targets: {a: {embedded: demo}}\ntargets: {b: {embedded: demo}}\n",
        "targets.yaml:2: top level: key 'targets' appears twice (first at line 1)",
    ),
    (
        "syntax-error",
        "targets:\n  api: [GET /items\n",
        "targets.yaml:3: YAML syntax error at column 1: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence)",
    ),
    (
        "unquoted-reference-in-braces",
        GOOD.replace("tok-admin", "${TOKEN}"),
        "targets.yaml:5: YAML syntax error at column 27: expected ',' or '}', but got '{' "
        "(while parsing a flow mapping); put a value that holds ${...} in quotes",
    ),
    (
        "tab-indent",
        "targets:\n\tapi: {}\n",
        "targets.yaml:2: YAML syntax error at column 1: found character '\\t' that cannot start any token "
        "(while scanning for the next token)",
    ),
    (
        "two-documents",
        "targets: {a: {embedded: demo}}\n---\ntargets: {}\n",
        "targets.yaml:2: YAML syntax error at column 1: but found another document "
        "(expected a single document in the stream)",
    ),
    (
        "python-tag",
        "targets: !!python/object:os.system {}\n",
        "targets.yaml:1: targets: YAML tag 'tag:yaml.org,2002:python/object:os.system' is not supported here",
    ),
    (
        "recursive-alias",
        "targets: &loop {api: *loop}\n",
        "targets.yaml:1: targets.api: an alias refers to a node that contains it",
    ),
    (
        # Eight levels of ten aliases each would expand to 10**9 values.
        "billion-laughs",
        "laughs:\n  l0: &l0 [ha, ha, ha, ha, ha, ha, ha, ha, ha, ha]\n"
        + "".join(f"  l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]\n" for n in range(1, 9))
        + "targets: {api: {embedded: demo}}\n",
        "targets.yaml:1: laughs: the file expands to more than 100000 values; "
        "are aliases (*name) nested inside each other?",
    ),
    (
        "list-as-key",
        "targets:\n  ? [a, b]\n  : {embedded: demo}\n",
        "targets.yaml:2: targets: a key must be plain text, not a list or mapping",
    ),
    (
        "control-character",
        "targets:\n  api: \x07\n",
        "targets.yaml:2: character #x0007 is not allowed in YAML (special characters are not allowed)",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"),
    [case[1:] for case in FILE_PROBLEMS],
    ids=[case[0] for case in FILE_PROBLEMS],
)
def test_file_problem_raises_one_line(
    write_targets: WriteTargets, text: str, message: str
) -> None:
    path = write_targets(text)

    with pytest.raises(TargetsFileError) as excinfo:
        load_targets(path, {})
    assert str(excinfo.value) == message


def test_missing_file_says_what_to_do(write_targets: WriteTargets) -> None:
    with pytest.raises(TargetsFileError) as excinfo:
        load_targets("absent.yaml", {})
    assert (
        str(excinfo.value)
        == "absent.yaml: no such file (create it, or point --targets-file at another)"
    )
    assert isinstance(excinfo.value.__cause__, FileNotFoundError)


def test_directory_is_not_a_targets_file(tmp_path: Path) -> None:
    with pytest.raises(TargetsFileError) as excinfo:
        load_targets(tmp_path, {})
    assert str(excinfo.value) == f"{tmp_path}: is a directory, not a targets file"


def test_file_must_be_utf8(write_targets: WriteTargets) -> None:
    path = write_targets("")
    path.write_bytes(b"targets:\n  caf\xe9: {}\n")

    with pytest.raises(TargetsFileError) as excinfo:
        load_targets(path, {})
    assert str(excinfo.value) == "targets.yaml: not UTF-8 text (byte 0xe9 at offset 14)"


def test_unreadable_path_names_the_reason(write_targets: WriteTargets) -> None:
    # A path through a regular file cannot be opened, whoever runs the tests.
    write_targets(GOOD)

    with pytest.raises(TargetsFileError) as excinfo:
        load_targets("targets.yaml/inner.yaml", {})
    assert (
        str(excinfo.value) == "targets.yaml/inner.yaml: cannot read it: Not a directory"
    )


# Secrets

SECRET = "s3cr3t-VALUE-42"


@pytest.mark.parametrize(
    ("text", "environ"),
    [
        (
            GOOD.replace("scheme: bearer", "scheme: basic").replace(
                "tok-admin", SECRET
            ),
            {},
        ),
        (GOOD.replace("tok-admin", f"{{username: alice, password: {SECRET}}}"), {}),
        (GOOD.replace("tok-admin", f"{{token: {SECRET}}}"), {}),
        (GOOD.replace("tok-admin", "12345678"), {}),
        (
            GOOD.replace("scheme: bearer", "scheme: basic").replace(
                "tok-admin", f"{{username: 'alice:{SECRET}', password: x}}"
            ),
            {},
        ),
        (
            GOOD.replace("scheme: bearer", "scheme: basic").replace(
                "tok-admin", "{username: '${USER}', password: x}"
            ),
            {"USER": f"alice:{SECRET}"},
        ),
        (GOOD.replace("tok-admin", '"${TOKEN}"'), {"TOKEN": f"{SECRET}\n"}),
        (GOOD.replace("tok-admin", f'"{SECRET}${{"'), {}),
        (GOOD + f"    expired: {{username: alice, password: {SECRET}}}\n", {}),
        (GOOD + f"    invalid: {{revoked: {{username: alice, password: {SECRET}}}}}\n", {}),
        (
            GOOD.replace(
                "https://api.example.com", f"https://alice:{SECRET}@api.example.com"
            ),
            {},
        ),
        (
            GOOD.replace(
                "https://api.example.com", f"ftp://alice:{SECRET}@api.example.com"
            ),
            {},
        ),
        (
            GOOD.replace(
                "https://api.example.com", f"https://api.example.com?key={SECRET}"
            ),
            {},
        ),
        (
            GOOD.replace("https://api.example.com", f"https://alice:{SECRET}@[::1"),
            {},
        ),
    ],
    ids=[
        "token-under-basic",
        "basic-under-bearer",
        "token-as-mapping",
        "numeric-token",
        "colon-in-literal-user-name",
        "colon-in-expanded-user-name",
        "newline-in-expanded-token",
        "malformed-reference-in-token",
        "expired-wrong-shape",
        "invalid-wrong-shape",
        "userinfo-in-base-url",
        "userinfo-in-bad-base-url",
        "key-in-base-url-query",
        "userinfo-in-invalid-base-url",
    ],
)
def test_secrets_never_reach_messages(
    write_targets: WriteTargets, text: str, environ: dict[str, str]
) -> None:
    # Given a credential that is wrong in some way
    path = write_targets(text)

    # Then the target is broken, and no message shows the credential
    problems = problems_of(path, environ=environ)
    assert problems
    for problem in problems:
        assert SECRET not in problem
        assert "12345678" not in problem


def test_secrets_never_reach_syntax_errors(write_targets: WriteTargets) -> None:
    # PyYAML's own message quotes the broken line; ours must not.
    path = write_targets(GOOD.replace("{admin: tok-admin}", f'{{admin: "{SECRET}}}'))

    with pytest.raises(TargetsFileError) as excinfo:
        load_targets(path, {})
    assert SECRET not in str(excinfo.value)


def test_secrets_never_reach_reprs(write_targets: WriteTargets) -> None:
    # Given targets holding every kind of credential
    path = write_targets(
        f"""\
        targets:
          tokens:
            base_url: https://api.example.com
            scheme: bearer
            credentials: {{admin: {SECRET}-admin}}
            expired: {SECRET}-expired
            invalid: {{revoked: {SECRET}-revoked}}
            endpoints: [GET /items]
          passwords:
            base_url: https://api.example.com
            scheme: basic
            credentials: {{alice: {{username: alice, password: {SECRET}-alice}}}}
            expired: {{username: bob, password: {SECRET}-bob}}
            endpoints: [GET /items]
        """
    )

    # Then no repr or str of what was loaded shows them
    loaded = load_targets(path, {})
    for target in loaded.values():
        assert isinstance(target, Target)
        assert SECRET not in repr(target)
        assert SECRET not in str(target)
        assert SECRET not in f"{dict(target.credentials)} {target.expired} {dict(target.invalid)}"


# The schema


def packaged_schema() -> dict[str, Any]:
    text = (
        resources.files("conformance")
        .joinpath("data/targets.schema.json")
        .read_text("utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


def subschemas(schema: Any) -> Iterator[dict[str, Any]]:
    """Every schema object nested in ``schema``, itself included."""
    if isinstance(schema, dict):
        yield schema
        for value in schema.values():
            yield from subschemas(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from subschemas(item)


def test_schema_is_valid_draft_2020_12() -> None:
    schema = packaged_schema()

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    assert schema["title"]


def test_schema_documents_every_key() -> None:
    # Editors show title and description on hover; every key gets both.
    schema = packaged_schema()
    for subschema in subschemas(schema):
        if subschema.get("additionalProperties") is not False:
            continue
        for key, definition in subschema["properties"].items():
            if "$ref" not in definition:
                assert definition.get("title"), key
                assert definition.get("description"), key

    for name, definition in schema["$defs"].items():
        assert definition.get("title"), name
        assert definition.get("description"), name


def test_schema_closes_every_mapping() -> None:
    # A misspelt key must be an error, never silently ignored.
    for subschema in subschemas(packaged_schema()):
        if subschema.get("type") == "object" and "properties" in subschema:
            assert subschema.get("additionalProperties") is False, subschema.get(
                "title"
            )


def test_schema_patterns_all_have_messages() -> None:
    # Each pattern needs wording in targets.py, or its errors read like regexes.
    explained = set(targets_module._PATTERN_PHRASES) | {
        targets_module._ENDPOINT_PATTERN,
        targets_module._REQUIREMENT_PATTERN,
    }
    patterns = {
        subschema["pattern"]
        for subschema in subschemas(packaged_schema())
        if "pattern" in subschema
    }

    assert patterns == explained


def test_schema_enums_match_the_model() -> None:
    definitions = packaged_schema()["$defs"]

    assert tuple(definitions["apiTarget"]["properties"]["scheme"]["enum"]) == SCHEMES
    assert (
        tuple(definitions["embeddedTarget"]["properties"]["embedded"]["enum"])
        == EMBEDDED_NAMES
    )


def test_schema_accepts_the_full_example() -> None:
    # Editors validate the file as written, variables unexpanded.
    document = yaml.safe_load(FULL_EXAMPLE)

    assert list(Draft202012Validator(packaged_schema()).iter_errors(document)) == []


# Issue 4: credentials obtained at run time, Digest, cookies, JWT, several schemes

RUNTIME_EXAMPLE = """\
targets:
  ops:
    base_url: https://api.example.com
    scheme: bearer
    schemes: [bearer, basic]
    credentials:
      admin: "${ADMIN_JWT}"
      ops:
        client_credentials: {token_url: https://idp.example.com/token, client_id: ops,
                             client_secret: "${OPS_SECRET}", scope: "items:write"}
      web:
        login: {method: post, path: /login, json: {user: web, password: "${PW}"},
                token: {json: data.access_token}}
      hdr:
        login: {method: POST, path: /session, form: {user: hdr, password: x}, token: {header: X-Token}}
    jwt: {key: "${JWT_SECRET}", algorithm: HS256}
    endpoints: [GET /items]
  web:
    base_url: https://web.example.com
    scheme: cookie
    credentials:
      user: {login: {method: POST, path: /login, json: {}, token: {cookie: sessionid}}}
    endpoints: [GET /me]
  dig:
    base_url: https://httpbin.example.com
    scheme: digest
    credentials: {user: {username: user, password: passwd}}
    endpoints: [GET /digest-auth/auth/user/passwd]
"""


def test_run_time_credentials_load(write_targets: WriteTargets) -> None:
    path = write_targets(RUNTIME_EXAMPLE)
    environ = {"ADMIN_JWT": "a.b.c", "OPS_SECRET": "ops-s3cret", "PW": "pw", "JWT_SECRET": "k" * 32}

    loaded = load_targets(path, environ)

    ops, web, dig = loaded["ops"], loaded["web"], loaded["dig"]
    assert isinstance(ops, Target) and isinstance(web, Target) and isinstance(dig, Target)
    assert ops.schemes == ("bearer", "basic")
    assert ops.credentials["ops"] == ClientCredentialsGrant("https://idp.example.com/token", "ops", Secret("ops-s3cret"), "items:write")
    assert ops.credentials["web"] == LoginRequest(
        "POST", "/login", TokenSource("json", "data.access_token"), Secret('{"user": "web", "password": "pw"}'), "application/json"
    )
    assert ops.credentials["hdr"] == LoginRequest(
        "POST", "/session", TokenSource("header", "X-Token"), Secret("user=hdr&password=x"), "application/x-www-form-urlencoded"
    )
    assert ops.jwt == JwtSettings(Secret("k" * 32), "HS256")
    # The session cookie's name comes from the login when cookie_name is left out.
    assert web.api_key == ApiKeyPlacement("cookie", "sessionid")
    assert dig.credentials["user"] == BasicCredential("user", Secret("passwd"))


def test_schema_accepts_the_run_time_example() -> None:
    assert list(Draft202012Validator(packaged_schema()).iter_errors(yaml.safe_load(RUNTIME_EXAMPLE))) == []


GRANT = "{client_credentials: {token_url: https://idp/token, client_id: ops, client_secret: s3cr3t}}"
LOGIN = "{login: {method: POST, path: /login, json: {u: x}, token: {json: token}}}"

RUNTIME_PROBLEMS: list[tuple[str, str, str]] = [
    (
        "schemes-without-scheme",
        GOOD + "    schemes: [basic]\n",
        "targets.yaml:7: targets.api.schemes: must include 'bearer', the scheme credentials are sent in",
    ),
    (
        "cookie-name-under-bearer",
        GOOD + "    cookie_name: sessionid\n",
        "targets.yaml:7: targets.api.cookie_name: only scheme cookie takes this key (scheme is 'bearer')",
    ),
    (
        "cookie-without-name",
        GOOD.replace("scheme: bearer", "scheme: cookie"),
        "targets.yaml:2: targets.api: scheme cookie needs cookie_name (the session cookie's name, like sessionid) "
        "or a login credential with token: {cookie: NAME}",
    ),
    (
        "login-json-and-form",
        GOOD.replace("tok-admin", "{login: {method: POST, path: /login, json: {}, form: {}, token: {json: t}}}"),
        "targets.yaml:5: targets.api.credentials.admin.login: give json or form as the login body, not both",
    ),
    (
        "login-token-two-places",
        GOOD.replace("tok-admin", "{login: {method: POST, path: /login, token: {json: t, header: X-T}}}"),
        "targets.yaml:5: targets.api.credentials.admin.login.token: give only one of json, header",
    ),
    (
        "login-without-token",
        GOOD.replace("tok-admin", "{login: {method: POST, path: /login}}"),
        "targets.yaml:5: targets.api.credentials.admin.login: missing required key 'token'",
    ),
    (
        "grant-and-login",
        GOOD.replace("tok-admin", GRANT[:-1] + ", " + LOGIN[1:]),
        "targets.yaml:5: targets.api.credentials.admin: give only one of client_credentials, login",
    ),
    (
        "grant-without-secret",
        GOOD.replace("tok-admin", "{client_credentials: {token_url: https://idp/token, client_id: ops}}"),
        "targets.yaml:5: targets.api.credentials.admin.client_credentials: missing required key 'client_secret'",
    ),
    (
        "grant-token-url-not-http",
        GOOD.replace("tok-admin", GRANT.replace("https://idp/token", "ftp://idp/token")),
        "targets.yaml:5: targets.api.credentials.admin.client_credentials.token_url: the value is not an http or https URL, "
        "like 'https://api.example.com/v1'",
    ),
    (
        "jwt-unknown-algorithm",
        GOOD + "    jwt: {algorithm: HS257}\n",
        "targets.yaml:7: targets.api.jwt.algorithm: 'HS257' is not one of HS256, HS384, HS512, RS256, RS384, RS512, "
        "PS256, PS384, PS512, ES256, ES384, ES512, EdDSA (did you mean 'HS256'?)",
    ),
    (
        "jwt-public-key-not-pem",
        GOOD + "    jwt: {public_key: not-a-pem}\n",
        "targets.yaml:7: targets.api.jwt.public_key: is not a PEM public key (-----BEGIN PUBLIC KEY-----)",
    ),
    (
        "jwt-key-empty",
        GOOD + '    jwt: {key: "${EMPTY:-}"}\n',
        "targets.yaml:7: targets.api.jwt.key: is empty after expanding environment variables",
    ),
    (
        "digest-credential-as-string",
        GOOD.replace("scheme: bearer", "scheme: digest"),
        "targets.yaml:5: targets.api.credentials.admin: expected a mapping {username, password} (scheme digest), got a string",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"),
    [case[1:] for case in RUNTIME_PROBLEMS],
    ids=[case[0] for case in RUNTIME_PROBLEMS],
)
def test_run_time_credential_problem_is_one_line(write_targets: WriteTargets, text: str, message: str) -> None:
    path = write_targets(text)

    assert problems_of(path) == (message,)


@pytest.mark.parametrize(
    "text",
    [
        GOOD.replace("tok-admin", GRANT.replace("s3cr3t", '"${SECRET}"')),
        GOOD.replace("tok-admin", GRANT.replace("https://idp/token", '"https://idp/token?k=${SECRET}"')),
    ],
    ids=["client-secret-with-newline", "secret-in-token-url"],
)
def test_run_time_secrets_never_reach_messages(write_targets: WriteTargets, text: str) -> None:
    path = write_targets(text)

    problems = problems_of(path, environ={"SECRET": f"{SECRET}\n"})
    assert problems
    assert all(SECRET not in problem for problem in problems)


def test_run_time_secrets_never_reach_reprs(write_targets: WriteTargets) -> None:
    path = write_targets(RUNTIME_EXAMPLE)

    target = load_targets(path, {"ADMIN_JWT": "a.b.c", "OPS_SECRET": SECRET, "PW": SECRET, "JWT_SECRET": SECRET})["ops"]
    assert SECRET not in repr(target) and SECRET not in str(target)


def readme_targets_examples() -> list[str]:
    text = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    return [block for block in blocks if block.startswith("targets:")]


def test_readme_examples_fit_the_schema() -> None:
    # Every targets.yaml example of the README is a file the schema accepts.
    examples = readme_targets_examples()
    validator = Draft202012Validator(packaged_schema())

    assert len(examples) >= 3
    for example in examples:
        assert list(validator.iter_errors(yaml.safe_load(example))) == [], example

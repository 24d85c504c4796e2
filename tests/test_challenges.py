"""Tests for the WWW-Authenticate challenge parser and formatter."""

from __future__ import annotations

import string
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.catalogue import load_catalogue
from conformance.challenges import (
    Challenge,
    Param,
    ParseResult,
    format_challenge,
    format_challenges,
    parse_challenges,
)

TCHARS = "!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits
TOKEN68_CHARS = "-._~+/" + string.ascii_letters + string.digits


def shape(result: ParseResult) -> list[tuple[str, Any]]:
    """Each challenge as (scheme, token68) or (scheme, [(name, value), ...])."""
    return [
        (
            c.scheme,
            c.token68
            if c.token68 is not None
            else [(p.name, p.value) for p in c.params],
        )
        for c in result.challenges
    ]


def fault_codes(result: ParseResult) -> list[tuple[str, int, int]]:
    """Each fault as (code, line, position)."""
    return [(f.code, f.line, f.position) for f in result.faults]


# --- the tricky inputs of requirements.md §2, and more edge cases --------------

CASES = [
    pytest.param(
        [
            'Basic realm="api", Custom realm="admin", type=2, title="Sign in to \\"admin\\""'
        ],
        [
            ("Basic", [("realm", "api")]),
            (
                "Custom",
                [("realm", "admin"), ("type", "2"), ("title", 'Sign in to "admin"')],
            ),
        ],
        [],
        id="01-second-challenge-with-escaped-quotes",
    ),
    pytest.param(
        ['Basic realm="a"', 'Bearer error="invalid_token"'],
        [("Basic", [("realm", "a")]), ("Bearer", [("error", "invalid_token")])],
        [],
        id="02-two-field-lines-in-order",
    ),
    pytest.param(
        ['Bearer realm="a,b", scope="x y"'],
        [("Bearer", [("realm", "a,b"), ("scope", "x y")])],
        [],
        id="03-comma-inside-quotes-is-data",
    ),
    pytest.param(
        ['Digest realm="r", nonce="n", qop="auth, auth-int", algorithm=SHA-256'],
        [
            (
                "Digest",
                [
                    ("realm", "r"),
                    ("nonce", "n"),
                    ("qop", "auth, auth-int"),
                    ("algorithm", "SHA-256"),
                ],
            )
        ],
        [],
        id="04-digest-qop-list-in-quotes",
    ),
    pytest.param(
        ['Bearer, DPoP algs="ES256 PS256"'],
        [("Bearer", []), ("DPoP", [("algs", "ES256 PS256")])],
        [],
        id="05-bare-bearer-then-dpop",
    ),
    pytest.param(
        [', Basic realm="x" , , Bearer realm="y",'],
        [("Basic", [("realm", "x")]), ("Bearer", [("realm", "y")])],
        [("empty-member", 0, 0), ("empty-member", 0, 20), ("empty-member", 0, 38)],
        id="06-empty-members-skipped-and-reported",
    ),
    pytest.param(
        ['Basic realm = "x"'],
        [("Basic", [("realm", "x")])],
        [("bws", 0, 11)],
        id="07-whitespace-around-equals",
    ),
    pytest.param(
        ['bAsIc REALM="x"'],
        [("bAsIc", [("REALM", "x")])],
        [],
        id="08-mixed-case-scheme-and-name",
    ),
    pytest.param(
        ['Negotiate YIIBhg==, Basic realm="x"'],
        [("Negotiate", "YIIBhg=="), ("Basic", [("realm", "x")])],
        [],
        id="09-token68-then-params",
    ),
    pytest.param(
        ["Newauth abc="], [("Newauth", "abc=")], [], id="10a-token68-with-padding"
    ),
    pytest.param(
        ["Newauth abc=="],
        [("Newauth", "abc==")],
        [],
        id="10a-token68-with-double-padding",
    ),
    pytest.param(
        ["Newauth abc=def=="],
        [],
        [("bad-token68", 0, 12)],
        id="10b-equals-inside-token68",
    ),
    pytest.param(
        ['Bearer error="invalid_token", error="invalid_request"'],
        [("Bearer", [("error", "invalid_token"), ("error", "invalid_request")])],
        [("duplicate-param", 0, 30)],
        id="11-duplicate-param",
    ),
    pytest.param(
        ["Basic realm=simple"],
        [("Basic", [("realm", "simple")])],
        [],
        id="12-unquoted-realm",
    ),
    pytest.param(
        ['Basic realm="x\\y"'],
        [("Basic", [("realm", "xy")])],
        [("needless-escape", 0, 14)],
        id="13-needless-escape",
    ),
    pytest.param(
        ['Basic realm="unterminated'],
        [],
        [("unterminated-quote", 0, 12)],
        id="14a-unterminated-quote",
    ),
    pytest.param(
        ['Basic\trealm="x"'],
        [],
        [("htab-after-scheme", 0, 5)],
        id="14b-htab-after-scheme",
    ),
    pytest.param(
        ['realm="x", Basic'],
        [("Basic", [])],
        [("param-before-scheme", 0, 0)],
        id="15-param-before-scheme",
    ),
    pytest.param(
        ['Basic realm="a", Basic realm="b"'],
        [("Basic", [("realm", "a")]), ("Basic", [("realm", "b")])],
        [],
        id="16-same-scheme-two-realms",
    ),
    pytest.param([""], [], [], id="17-empty-field-value"),
    pytest.param(
        ['Bearer realm="caf\xc3\xa9"'],
        [("Bearer", [("realm", "caf\xc3\xa9")])],
        [],
        id="18-utf8-bytes-as-obs-text",
    ),
    # Beyond the table of §2.
    pytest.param([], [], [], id="no-field-lines"),
    pytest.param([" \t "], [], [], id="whitespace-only-line"),
    pytest.param([","], [], [("empty-member", 0, 0)], id="single-comma"),
    pytest.param([",, ,"], [], [("empty-member", 0, 0)], id="only-commas"),
    pytest.param(
        ['Bearer realm="日本語"'],
        [("Bearer", [("realm", "日本語")])],
        [],
        id="unicode-in-quotes",
    ),
    pytest.param(
        ['Bäsic realm="x"'], [], [("unexpected-char", 0, 1)], id="unicode-in-scheme"
    ),
    pytest.param(
        ['Bearer , Basic realm="x"'],
        [("Bearer", []), ("Basic", [("realm", "x")])],
        [],
        id="rule3-scheme-without-data",
    ),
    pytest.param(
        ['Bearer, realm="x"'],
        [("Bearer", [("realm", "x")])],
        [("empty-member", 0, 6)],
        id="rule2-param-after-comma-joins-scheme",
    ),
    pytest.param(
        ['Negotiate abc==, realm="x"'],
        [],
        [("token68-not-alone", 0, 17)],
        id="token68-with-param",
    ),
    pytest.param(
        ['Basic  realm="x"'],
        [("Basic", [("realm", "x")])],
        [],
        id="two-spaces-after-scheme",
    ),
    pytest.param(
        ['Basic \trealm="x"'],
        [],
        [("htab-after-scheme", 0, 6)],
        id="space-then-htab-after-scheme",
    ),
    pytest.param(
        ["Basic\t, Bearer"], [("Basic", []), ("Bearer", [])], [], id="htab-before-comma"
    ),
    pytest.param(
        ['Basic realm="a\\"b\\\\c\\d"'],
        [("Basic", [("realm", 'a"b\\cd')])],
        [("needless-escape", 0, 20)],
        id="quoted-pairs-unescaped",
    ),
    pytest.param(
        ['Bearer max_age=5, Custom max_age="5"'],
        [("Bearer", [("max_age", "5")]), ("Custom", [("max_age", "5")])],
        [],
        id="token-and-quoted-value-alike",
    ),
    pytest.param(
        ['Bearer realm="a", REALM="b", Realm="c"'],
        [("Bearer", [("realm", "a"), ("REALM", "b"), ("Realm", "c")])],
        [("duplicate-param", 0, 18)],
        id="duplicate-in-any-case-reported-once",
    ),
    pytest.param(
        ['Basic realm="x" error="y", Bearer'],
        [("Bearer", [])],
        [("unexpected-char", 0, 16)],
        id="missing-comma",
    ),
    pytest.param(
        ['Basic realm="x", title="unterminated'],
        [],
        [("unterminated-quote", 0, 23)],
        id="unterminated-later-param",
    ),
    pytest.param(
        ["Bearer ab cd"], [], [("unexpected-char", 0, 10)], id="two-words-after-scheme"
    ),
    pytest.param(
        ['Bearer "x"'], [], [("unexpected-char", 0, 7)], id="quoted-string-after-scheme"
    ),
    pytest.param(
        ["Basic a!b"], [], [("missing-value", 0, 9)], id="token-that-is-not-token68"
    ),
    pytest.param(
        ["Bearer a ="], [], [("missing-value", 0, 10)], id="equals-without-value"
    ),
    pytest.param(
        ["Basic=, Bearer"],
        [("Bearer", [])],
        [("unexpected-char", 0, 5)],
        id="equals-after-scheme",
    ),
    pytest.param(
        ['@@@, Basic realm="x"'],
        [("Basic", [("realm", "x")])],
        [("unexpected-char", 0, 0)],
        id="garbage-member-resyncs",
    ),
    pytest.param(
        ['Basic realm="a\x00b", Bearer'],
        [("Bearer", [])],
        [("ctl-char", 0, 14)],
        id="nul-in-quotes",
    ),
    pytest.param(['Basic realm="x"\r\n'], [], [("ctl-char", 0, 15)], id="cr-lf-at-end"),
    pytest.param(["Bea\x7frer"], [], [("ctl-char", 0, 3)], id="del-in-scheme"),
    pytest.param(
        ["\x01, Basic"], [("Basic", [])], [("ctl-char", 0, 0)], id="ctl-as-member"
    ),
    # RFC 9110 §5.3: the lines are one list joined with ", ", so a challenge
    # may go on in the next line; a parameter may not open the first one.
    pytest.param(
        ["Basic", 'realm="x"'],
        [("Basic", [("realm", "x")])],
        [],
        id="challenge-goes-on-in-the-next-line",
    ),
    pytest.param(
        ['Bearer realm="a"', "", 'error="invalid_token"', 'Basic realm="b"'],
        [("Bearer", [("realm", "a"), ("error", "invalid_token")]), ("Basic", [("realm", "b")])],
        [],
        id="parameters-continue-past-a-blank-line",
    ),
    pytest.param(
        ['Bearer realm="a"', 'realm="b"'],
        [("Bearer", [("realm", "a"), ("realm", "b")])],
        [("duplicate-param", 1, 0)],
        id="repeat-across-lines-is-a-repeat",
    ),
    pytest.param(
        ['realm="x"', "Basic"],
        [("Basic", [])],
        [("param-before-scheme", 0, 0)],
        id="parameter-before-the-first-scheme",
    ),
    pytest.param(
        ['Basic realm="a"', "", 'Bearer realm = "b"'],
        [("Basic", [("realm", "a")]), ("Bearer", [("realm", "b")])],
        [("bws", 2, 12)],
        id="fault-position-on-its-line",
    ),
]


@pytest.mark.parametrize(("lines", "challenges", "faults"), CASES)
def test_field_lines_parse_as_specified(
    lines: list[str],
    challenges: list[tuple[str, Any]],
    faults: list[tuple[str, int, int]],
) -> None:
    result = parse_challenges(lines)

    assert shape(result) == challenges
    assert fault_codes(result) == faults


# --- faults --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "requirement", "fatal"),
    [
        pytest.param(", Basic", "R9110-LIST-NO-EMPTY", False, id="empty-member"),
        pytest.param('Basic realm= "x"', "R9110-BWS-SEND", False, id="bws"),
        pytest.param(
            'Basic realm="\\x"', "R9110-QPAIR-SEND", False, id="needless-escape"
        ),
        pytest.param(
            "Basic a=1, a=2", "R9110-PARAM-UNIQUE", False, id="duplicate-param"
        ),
        pytest.param(
            'Basic realm="x', "R9110-401-CHALLENGE", True, id="unterminated-quote"
        ),
        pytest.param("Basic\ta=1", "R9110-401-CHALLENGE", True, id="htab-after-scheme"),
        pytest.param(
            "a=1, Basic", "R9110-401-CHALLENGE", True, id="param-before-scheme"
        ),
        pytest.param("Newauth a=b=", "R9110-401-CHALLENGE", True, id="bad-token68"),
        pytest.param(
            "Newauth ab=, c=d", "R9110-401-CHALLENGE", True, id="token68-not-alone"
        ),
        pytest.param("Basic a=\x00", "R9110-401-CHALLENGE", True, id="ctl-char"),
        pytest.param("Basic a=1 2", "R9110-401-CHALLENGE", True, id="unexpected-char"),
        pytest.param("Basic a =", "R9110-401-CHALLENGE", True, id="missing-value"),
    ],
)
def test_each_fault_cites_its_requirement(
    line: str, requirement: str, fatal: bool
) -> None:
    # Given a line with exactly one fault
    (fault,) = parse_challenges([line]).faults

    # Then the fault cites a catalogue row and says whether it was fatal
    assert fault.requirement == requirement
    assert fault.requirement in load_catalogue()
    assert fault.fatal is fatal


@pytest.mark.parametrize(
    ("line", "message"),
    [
        pytest.param(
            ", Basic", "A leading comma makes an empty list member", id="leading"
        ),
        pytest.param(
            "Basic,", "A trailing comma makes an empty list member", id="trailing"
        ),
        pytest.param(
            "Basic,,, Bearer", "Doubled commas make 2 empty list members", id="doubled"
        ),
        pytest.param(
            ",,", "The line holds only commas: 3 empty list members", id="only-commas"
        ),
        pytest.param(
            'Bearer, realm="x"',
            "A comma between scheme 'Bearer' and its first parameter 'realm' makes an empty member",
            id="comma-before-first-param",
        ),
        pytest.param(
            'Basic realm ="x"',
            "Whitespace surrounds the '=' of parameter 'realm'",
            id="bws",
        ),
        pytest.param(
            'Basic realm="\\x"',
            "A backslash escapes 'x' in parameter 'realm', though only '\"' and '\\' need it",
            id="needless-escape",
        ),
        pytest.param(
            'Basic realm="a", Realm="b"',
            "Parameter 'Realm' occurs more than once in challenge 'Basic'",
            id="duplicate-param",
        ),
        pytest.param(
            "a=1, a=2",
            "Parameter 'a' occurs more than once in the parameters before any scheme",
            id="duplicate-param-before-scheme",
        ),
        pytest.param(
            'Basic realm="x',
            "The quoted value of parameter 'realm' has no closing '\"'",
            id="unterminated-quote",
        ),
        pytest.param(
            "Basic\trealm=x",
            "A tab separates scheme 'Basic' from its data, where only spaces are allowed",
            id="htab-after-scheme",
        ),
        pytest.param(
            'realm="x"',
            "Parameter 'realm' comes before any scheme of the field",
            id="param-before-scheme",
        ),
        pytest.param(
            "Newauth abc=def==",
            "'abc=def==' is neither a parameter nor a token68, whose '=' may only pad the end",
            id="bad-token68",
        ),
        pytest.param(
            "Negotiate abc, realm=x",
            "Parameter 'realm' follows a token68, which must be the only data of 'Negotiate'",
            id="token68-not-alone",
        ),
        pytest.param(
            'Basic realm="\r"',
            "Control character '\\r' inside the quoted value of parameter 'realm'",
            id="ctl-char-in-quotes",
        ),
        pytest.param(
            "\x00",
            "Control character '\\x00' where a scheme or a parameter should start",
            id="ctl-char-as-member",
        ),
        pytest.param(
            "@",
            "Unexpected character '@' where a scheme or a parameter should start",
            id="bad-member-start",
        ),
        pytest.param(
            "Basic/x",
            "Unexpected character '/' right after scheme 'Basic', where a space or a comma should follow",
            id="after-scheme",
        ),
        pytest.param(
            'Basic "x"',
            "Unexpected character '\"' where a parameter or a token68 should start",
            id="bad-data-start",
        ),
        pytest.param(
            "Basic a b",
            "Unexpected character 'b' after parameter name 'a', where '=' should follow",
            id="after-name",
        ),
        pytest.param(
            "Basic a=@",
            "Unexpected character '@' where the value of parameter 'a' should start",
            id="bad-value-start",
        ),
        pytest.param(
            "Basic a=1 2",
            "Unexpected character '2' after the value of parameter 'a',"
            " where a comma or the end of the line should follow",
            id="after-value",
        ),
        pytest.param(
            "Basic a/b c",
            "Unexpected character 'c' after token68 'a/b', where a comma or the end of the line should follow",
            id="after-token68",
        ),
        pytest.param(
            "Basic a!b",
            "'a!b' is neither a token68 nor a parameter with '=' and a value",
            id="no-equals",
        ),
        pytest.param(
            "Basic a =",
            "Parameter 'a' has nothing after its '='",
            id="nothing-after-equals",
        ),
        pytest.param(
            "p" * 50 + '="x"',
            "Parameter 'pppppppppppppppppppppppppppppppppppppppp'... comes before any scheme of the field",
            id="long-name-cut-short",
        ),
    ],
)
def test_fault_messages_render_fully(line: str, message: str) -> None:
    # The fault of interest is the last one (a parameter before any scheme
    # is reported before its duplicate).
    fault = parse_challenges([line]).faults[-1]

    assert fault.message == message


def test_fatal_fault_drops_only_its_challenge() -> None:
    # Given a broken challenge between two good ones
    result = parse_challenges(
        ['Basic realm="a", Broken\tx=1, title="t", Bearer realm="b"']
    )

    # Then its later parameters go with it, and its neighbours survive
    assert result.schemes() == ("basic", "bearer")
    assert [f.code for f in result.faults] == ["htab-after-scheme"]
    assert not result.ok


def test_send_faults_leave_result_ok() -> None:
    result = parse_challenges([', Basic realm = "a\\b", realm="c",'])

    assert result.ok
    assert {f.code for f in result.faults} == {
        "empty-member",
        "bws",
        "needless-escape",
        "duplicate-param",
    }
    assert not any(f.fatal for f in result.faults)


# --- what a challenge records --------------------------------------------------


@pytest.mark.parametrize(
    ("line", "param"),
    [
        pytest.param('Basic realm="x"', Param("realm", "x", quoted=True), id="quoted"),
        pytest.param("Basic realm=x", Param("realm", "x", quoted=False), id="token"),
        pytest.param(
            'Basic realm = "x"', Param("realm", "x", quoted=True, bws=True), id="bws"
        ),
        pytest.param(
            "Basic realm=\tx", Param("realm", "x", bws=True), id="htab-after-equals"
        ),
        pytest.param(
            'Basic realm="\\x"',
            Param("realm", "x", quoted=True, needless_escape=True),
            id="needless-escape",
        ),
        pytest.param(
            'Basic realm="\\"\\\\"',
            Param("realm", '"\\', quoted=True),
            id="needed-escapes",
        ),
    ],
)
def test_param_records_how_it_was_sent(line: str, param: Param) -> None:
    (challenge,) = parse_challenges([line]).challenges

    assert challenge.params == (param,)


def test_challenges_remember_their_line() -> None:
    result = parse_challenges(['Basic realm="a"', 'Bearer realm="b", Negotiate'])

    assert [(c.scheme, c.line) for c in result.challenges] == [
        ("Basic", 0),
        ("Bearer", 1),
        ("Negotiate", 1),
    ]


def test_lookups_ignore_letter_case() -> None:
    # Given challenges in mixed case
    result = parse_challenges(['bAsIc REALM="a", BEARER realm="b", Bearer realm="c"'])

    # Then schemes, find and param all compare case-insensitively
    assert result.schemes() == ("basic", "bearer", "bearer")
    assert [c.param("realm") for c in result.find("bearer")] == ["b", "c"]
    basic = result.challenges[0]
    assert basic.scheme_lower == "basic"
    assert basic.param("Realm") == "a"
    assert basic.has_param("realm")
    assert not basic.has_param("charset")
    assert basic.param("charset") is None


def test_param_lookup_returns_first_occurrence() -> None:
    (challenge,) = parse_challenges(['Bearer error="a", ERROR="b"']).challenges

    assert challenge.param("error") == "a"


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("," * 100_000, id="commas"),
        pytest.param("Negotiate " + "A" * 100_000, id="long-token68"),
        pytest.param('Basic realm="' + "a" * 100_000 + '"', id="long-quoted"),
        pytest.param('Basic realm="' + "a" * 100_000, id="long-unterminated"),
        pytest.param('Basic realm="' + "\\" * 100_000, id="backslashes"),
        pytest.param('"' * 100_000, id="quotes"),
        pytest.param(
            "Basic " + ", ".join(f"p{i}=v" for i in range(12_000)), id="many-params"
        ),
        pytest.param(
            "Basic " + ", ".join("p=v" for _ in range(20_000)), id="many-duplicates"
        ),
        pytest.param(", ".join("B" for _ in range(33_000)), id="many-schemes"),
        pytest.param("Newauth a" + "=" * 100_000 + "b", id="long-padding"),
        pytest.param("Basic a" + " " * 50_000 + "=" + "\t" * 50_000, id="long-bws"),
        pytest.param("\x00" * 100_000, id="nuls"),
    ],
)
def test_huge_input_parses_quickly(line: str) -> None:
    started = time.perf_counter()
    result = parse_challenges([line])
    elapsed = time.perf_counter() - started

    assert elapsed < 2.0
    assert len(result.faults) <= 2


# --- formatting ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("challenge", "text"),
    [
        pytest.param(
            Challenge("Basic", (Param("realm", "api"),)),
            'Basic realm="api"',
            id="realm-always-quoted",
        ),
        pytest.param(Challenge("Bearer"), "Bearer", id="no-data"),
        pytest.param(
            Challenge("Negotiate", token68="YIIBhg=="),
            "Negotiate YIIBhg==",
            id="token68",
        ),
        pytest.param(
            Challenge(
                "Bearer", (Param("error", "invalid_token"), Param("scope", "a b"))
            ),
            'Bearer error=invalid_token, scope="a b"',
            id="token-bare-other-quoted",
        ),
        pytest.param(Challenge("X", (Param("a", ""),)), 'X a=""', id="empty-value"),
        pytest.param(
            Challenge("X", (Param("a", 'say "hi" \\o/'),)),
            'X a="say \\"hi\\" \\\\o/"',
            id="escapes",
        ),
        pytest.param(
            Challenge("X", (Param("a", "b", quoted=True),)),
            'X a="b"',
            id="keeps-quoted-flag",
        ),
        pytest.param(
            Challenge("X", (Param("a", "tab\there"),)),
            'X a="tab\there"',
            id="htab-allowed",
        ),
    ],
)
def test_challenge_formats_as_expected(challenge: Challenge, text: str) -> None:
    assert format_challenge(challenge) == text


def test_several_challenges_join_with_commas() -> None:
    challenges = [Challenge("Basic", (Param("realm", "a"),)), Challenge("Bearer")]

    assert format_challenges(challenges) == 'Basic realm="a", Bearer'
    assert format_challenges([]) == ""


@pytest.mark.parametrize(
    ("challenge", "message"),
    [
        pytest.param(
            Challenge("Bad scheme"),
            "scheme 'Bad scheme' is not a token (RFC 9110 §5.6.2)",
            id="scheme",
        ),
        pytest.param(
            Challenge("X", (Param("a b", "c"),)),
            "parameter name 'a b' is not a token (RFC 9110 §5.6.2)",
            id="name",
        ),
        pytest.param(
            Challenge("X", token68="a=b"),
            "'a=b' is not a token68 (RFC 9110 §11.2)",
            id="token68",
        ),
        pytest.param(
            Challenge("X", (Param("a", "b"),), token68="c"),
            "challenge 'X' has a token68 and parameters; RFC 9110 §11.3 allows one",
            id="both",
        ),
        pytest.param(
            Challenge("X", (Param("a", "line\nbreak"),)),
            "parameter 'a' has a control character, which no field value may carry (RFC 9110 §5.5)",
            id="control-character",
        ),
    ],
)
def test_unsendable_challenge_is_refused(challenge: Challenge, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        format_challenge(challenge)

    assert str(excinfo.value) == message


# --- properties ----------------------------------------------------------------

tokens = st.text(alphabet=TCHARS, min_size=1, max_size=12)
token68s = st.builds(
    lambda body, padding: body + "=" * padding,
    st.text(alphabet=TOKEN68_CHARS, min_size=1, max_size=24),
    st.integers(min_value=0, max_value=3),
)
values = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=24) | st.text(
    alphabet=TCHARS + '"\\,= \t', max_size=12
)


@st.composite
def challenges(draw: st.DrawFn) -> Challenge:
    scheme = draw(tokens)
    if draw(st.booleans()):
        return Challenge(scheme, token68=draw(token68s))
    names = draw(st.lists(tokens, max_size=4, unique_by=str.lower))
    return Challenge(scheme, tuple(Param(name, draw(values)) for name in names))


def content(
    items: tuple[Challenge, ...] | list[Challenge],
) -> list[tuple[str, str | None, list[tuple[str, str]]]]:
    return [(c.scheme, c.token68, [(p.name, p.value) for p in c.params]) for c in items]


@given(st.lists(challenges(), max_size=5))
def test_formatted_challenges_parse_back_unchanged(items: list[Challenge]) -> None:
    result = parse_challenges([format_challenges(items)])

    assert result.faults == ()
    assert content(result.challenges) == content(items)


# Text near the grammar reaches deeper paths than arbitrary text does.
grammar_text = st.text(alphabet='Basic realm="x\\y",= \t\x00\r/é')


@given(st.lists(st.text() | grammar_text, max_size=4))
def test_parser_never_raises(lines: list[str]) -> None:
    result = parse_challenges(lines)

    catalogue = load_catalogue()
    for fault in result.faults:
        assert 0 <= fault.line < len(lines)
        assert 0 <= fault.position <= len(lines[fault.line])
        assert fault.requirement in catalogue
    assert all(0 <= c.line < len(lines) for c in result.challenges)


@given(st.text() | grammar_text)
def test_parsed_challenges_format_and_reparse(line: str) -> None:
    # Whatever the parser accepts, the formatter can send and read back.
    parsed = parse_challenges([line])

    again = parse_challenges([format_challenges(parsed.challenges)])

    assert content(again.challenges) == content(parsed.challenges)
    assert {f.code for f in again.faults} <= {"duplicate-param"}

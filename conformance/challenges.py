"""Parse and format the challenges of WWW-Authenticate and Proxy-Authenticate (RFC 9110 §11).

The parser reads what a lenient client would read and records, as
``SyntaxFault`` values, everything a strict reading objects to: that list is
what the checks report. It never raises on server input. The grammar, the
disambiguation rules and the tricky inputs it follows are in section 2 of
the project's requirements.

Several field lines of one response form one list (RFC 9110 §5.3): the
challenges read are those of the lines joined with ", ", so a challenge whose
parameters go on in the next line is one challenge. Faults are still found
line by line, so that a fault's position refers to one line, and the send
checks (empty members, whitespace) look at the lines as they were sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "Challenge",
    "Param",
    "ParseResult",
    "SyntaxFault",
    "format_challenge",
    "format_challenges",
    "parse_challenges",
]

# RFC 9110 §5.6.2: tchar is ALPHA, DIGIT and fifteen marks. Explicit ASCII
# ranges, because str.isalnum() would let non-ASCII letters in.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 §11.2: "=" only as trailing padding.
_TOKEN68 = re.compile(r"[\-._~+/0-9A-Za-z]+=*")
_TOKEN68_OR_EQUALS = re.compile(r"[\-._~+/0-9A-Za-z=]+")
_WS = re.compile(r"[ \t]*")
# A quoted-string with its closing quote optional, so that matching never
# fails (and never backtracks) once the opening quote is seen.
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)("?)', re.DOTALL)
# What splits a line into list members: a top-level comma. Quoted strings
# are matched whole so that their commas stay data (rule 1 of §2).
_QUOTED_OR_COMMA = re.compile(r'"(?:[^"\\]|\\.)*"?|,', re.DOTALL)
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)
# Every CTL but HTAB (RFC 9110 §5.5, §5.6.4).
_CTL = re.compile(r"[\x00-\x08\n-\x1f\x7f]")

# Faults a lenient recipient reads past, and the send rule each one breaks.
# Every other fault makes its challenge unreadable, so the response does not
# hold the challenge it meant to (R9110-401-CHALLENGE).
_SEND_FAULTS = {
    "empty-member": "R9110-LIST-NO-EMPTY",
    "bws": "R9110-BWS-SEND",
    "needless-escape": "R9110-QPAIR-SEND",
    "duplicate-param": "R9110-PARAM-UNIQUE",
}
_UNREADABLE = "R9110-401-CHALLENGE"
_SHOWN_CHARS = 40


@dataclass(frozen=True)
class Param:
    """One auth-param of a challenge: ``realm="api"`` (RFC 9110 §11.2).

    ``value`` is unescaped. The flags say how it was sent: as a
    quoted-string, with whitespace around ``=``, or with a backslash before
    something other than a DQUOTE or a backslash.
    """

    name: str
    value: str
    quoted: bool = False
    bws: bool = False
    needless_escape: bool = False


@dataclass(frozen=True)
class Challenge:
    """One challenge: a scheme with either parameters or a token68 (RFC 9110 §11.3).

    ``line`` is the index of the field line it came from.
    """

    scheme: str
    params: tuple[Param, ...] = ()
    token68: str | None = None
    line: int = 0

    @property
    def scheme_lower(self) -> str:
        """The scheme in lower case, for comparison (RFC 9110 §11.1)."""
        return self.scheme.lower()

    def param(self, name: str) -> str | None:
        """Return the value of the first parameter called ``name`` in any letter case.

        ``Basic Realm="api"`` → ``param("realm") == "api"`` (RFC 9110 §11.2).
        """
        wanted = name.lower()
        for param in self.params:
            if param.name.lower() == wanted:
                return param.value
        return None

    def has_param(self, name: str) -> bool:
        """Tell whether a parameter called ``name`` in any letter case is present."""
        return self.param(name) is not None


@dataclass(frozen=True)
class SyntaxFault:
    """One thing wrong in a challenge field line, and the requirement it breaks.

    ``position`` is a character offset inside line number ``line`` (both
    count from 0). ``fatal`` is True when the challenge holding the fault
    could not be read and was left out of the result.
    """

    line: int
    position: int
    code: str
    message: str
    requirement: str
    fatal: bool


@dataclass(frozen=True)
class ParseResult:
    """The challenges read from a response and the faults found on the way."""

    challenges: tuple[Challenge, ...]
    faults: tuple[SyntaxFault, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every challenge could be read (send-side faults aside)."""
        return not any(fault.fatal for fault in self.faults)

    def schemes(self) -> tuple[str, ...]:
        """The schemes offered, lower-cased and in order: ``("basic", "bearer")``."""
        return tuple(challenge.scheme_lower for challenge in self.challenges)

    def find(self, scheme: str) -> tuple[Challenge, ...]:
        """The challenges of ``scheme`` in any letter case, in order."""
        wanted = scheme.lower()
        return tuple(c for c in self.challenges if c.scheme_lower == wanted)


def parse_challenges(lines: Sequence[str]) -> ParseResult:
    """Parse all raw field lines of one response (several lines = one list, RFC 9110 §5.3).

    ``['Basic realm="a", Bearer']`` → challenges ``Basic`` (realm ``a``) and
    ``Bearer`` (no data), no faults (RFC 9110 §11.6.1, §5.6.1).
    """
    challenges: list[Challenge] = []
    faults: list[SyntaxFault] = []
    open_challenge: _Draft | None = None
    for index, line in enumerate(lines):
        reader = _LineReader(index, line, open_challenge)
        reader.read()
        open_challenge = reader.take_open_challenge()
        challenges.extend(reader.challenges)
        faults.extend(reader.faults)
    if open_challenge is not None:
        challenges.extend(_finished(open_challenge))
    return ParseResult(tuple(challenges), tuple(faults))


def format_challenges(challenges: Sequence[Challenge]) -> str:
    """Serialize to one field value; inverse of parse for anything it produces.

    ``[Challenge("Basic", (Param("realm", "a"),)), Challenge("Bearer")]`` →
    ``'Basic realm="a", Bearer'`` (RFC 9110 §11.6.1). Raises ``ValueError``
    for what no valid field could carry (see ``format_challenge``).
    """
    return ", ".join(format_challenge(challenge) for challenge in challenges)


def format_challenge(challenge: Challenge) -> str:
    """Serialize one challenge, quoting every value that is not a token, and ``realm`` always.

    ``Challenge("Basic", (Param("realm", 'say "hi"'),))`` →
    ``'Basic realm="say \\"hi\\""'`` (RFC 9110 §11.3, §11.5, §5.6.4). Raises
    ``ValueError`` for a scheme, name or token68 outside its grammar, for a
    challenge with both a token68 and parameters, and for a value holding a
    control character other than HTAB.
    """
    _require_token(challenge.scheme, "scheme")
    if challenge.token68 is not None:
        if challenge.params:
            message = f"challenge {challenge.scheme!r} has a token68 and parameters; RFC 9110 §11.3 allows one"
            raise ValueError(message)
        if not _TOKEN68.fullmatch(challenge.token68):
            raise ValueError(f"{challenge.token68!r} is not a token68 (RFC 9110 §11.2)")
        return f"{challenge.scheme} {challenge.token68}"

    if not challenge.params:
        return challenge.scheme
    params = ", ".join(_format_param(param) for param in challenge.params)
    return f"{challenge.scheme} {params}"


def _format_param(param: Param) -> str:
    _require_token(param.name, "parameter name")
    # RFC 9110 §11.5: realm is always a quoted-string.
    as_token = not param.quoted and param.name.lower() != "realm"
    if as_token and _TOKEN.fullmatch(param.value):
        return f"{param.name}={param.value}"

    if _CTL.search(param.value):
        message = f"parameter {param.name!r} has a control character, which no field value may carry (RFC 9110 §5.5)"
        raise ValueError(message)
    escaped = param.value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{param.name}="{escaped}"'


def _require_token(text: str, what: str) -> None:
    if not _TOKEN.fullmatch(text):
        raise ValueError(f"{what} {text!r} is not a token (RFC 9110 §5.6.2)")


# --- reading one line ----------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    """A fault before it knows its line: where, what, and a sentence without location."""

    position: int
    code: str
    message: str


@dataclass(frozen=True)
class _ParamRead:
    """A parameter read in full, with the send-side faults it carries."""

    param: Param
    position: int
    problems: tuple[_Problem, ...] = ()


@dataclass
class _Draft:
    """The challenge being read; ``broken`` once a fatal fault hits it."""

    scheme: str | None
    line: int = 0
    params: list[Param] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    repeated: set[str] = field(default_factory=set)
    token68: str | None = None
    broken: bool = False


class _LineReader:
    """Reads one field line into challenges and faults.

    ``carried`` is the challenge the previous line ended with: parameters at
    the start of this line belong to it, as they would in the joined value.
    """

    def __init__(self, index: int, line: str, carried: _Draft | None = None) -> None:
        self.index = index
        self.line = line
        self.challenges: list[Challenge] = []
        self.faults: list[SyntaxFault] = []
        self._draft: _Draft | None = carried

    def take_open_challenge(self) -> _Draft | None:
        """The challenge the line ended with, which the next line may go on with."""
        draft, self._draft = self._draft, None
        return draft

    def read(self) -> None:
        """Read every list member of the line in turn."""
        members = _split_members(self.line)
        empty_run: list[int] = []
        for number, (start, end) in enumerate(members):
            start, end = _trim(self.line, start, end)
            if start < end:
                self._report_empty_run(empty_run, members)
                empty_run = []
                comma = members[number - 1][1] if number else None
                self._read_member(start, end, comma)
            elif len(members) > 1:
                # A blank line is an empty list, not an empty member.
                empty_run.append(number)

        self._report_empty_run(empty_run, members)

    def _read_member(self, start: int, end: int, comma: int | None) -> None:
        # Rule 2 of §2: a token followed by "=" and the start of a value is a
        # parameter of the current challenge; anything else opens a new one.
        name = _TOKEN.match(self.line, start, end)
        if name is None:
            self._close_draft()
            self._draft = _Draft(scheme=None, broken=True)
            where = "where a scheme or a parameter should start"
            self._add(_unexpected(self.line, start, where))
            return

        equals = _skip_ws(self.line, name.end(), end)
        if equals < end and self.line[equals] == "=":
            value = _skip_ws(self.line, equals + 1, end)
            if value < end and (
                self.line[value] == '"' or _TOKEN.match(self.line, value, end)
            ):
                self._read_param_member(name.group(), start, end, comma)
                return
        self._read_challenge(name.group(), start + len(name.group()), end)

    def _read_param_member(
        self, name: str, start: int, end: int, comma: int | None
    ) -> None:
        draft = self._draft
        scheme = _show(draft.scheme if draft else None)
        if draft is None:
            draft = self._draft = _Draft(scheme=None, broken=True)
            message = f"Parameter {_show(name)} comes before any scheme of the field"
            self._add(_Problem(start, "param-before-scheme", message))
        elif draft.token68 is not None and not draft.broken:
            draft.broken = True
            message = f"Parameter {_show(name)} follows a token68, which must be the only data of {scheme}"
            self._add(_Problem(start, "token68-not-alone", message))
        elif draft.scheme and not (draft.params or draft.broken) and comma is not None:
            # `Bearer, realm="x"`: the parameter list of Bearer starts with
            # an empty element (RFC 9110 §5.6.1.1).
            message = f"A comma between scheme {scheme} and its first parameter {_show(name)} makes an empty member"
            self._add(_Problem(comma, "empty-member", message))

        read = _read_param(self.line, start, end)
        if isinstance(read, _Problem):
            draft.broken = True
            self._add(read)
        else:
            self._add_param(draft, read)

    def _read_challenge(self, scheme: str, scheme_end: int, end: int) -> None:
        self._close_draft()
        draft = self._draft = _Draft(scheme=scheme, line=self.index)
        if scheme_end == end:
            return

        # RFC 9110 §11.3: one or more SP, never HTAB, before the data.
        data = _skip_ws(self.line, scheme_end, end)
        tab = self.line.find("\t", scheme_end, data)
        if data == scheme_end:
            where = f"right after scheme {_show(scheme)}, where a space or a comma should follow"
            problem = _unexpected(self.line, data, where)
        elif tab != -1:
            message = f"A tab separates scheme {_show(scheme)} from its data, where only spaces are allowed"
            problem = _Problem(tab, "htab-after-scheme", message)
        else:
            read = _read_data(self.line, data, end)
            if isinstance(read, str):
                draft.token68 = read
                return
            if isinstance(read, _ParamRead):
                self._add_param(draft, read)
                return
            problem = read

        draft.broken = True
        self._add(problem)

    def _add_param(self, draft: _Draft, read: _ParamRead) -> None:
        for problem in read.problems:
            self._add(problem)

        # RFC 9110 §11.2: each name once per challenge. Only the first repeat
        # of a name is reported, so a flood of copies gives one fault.
        folded = read.param.name.lower()
        if folded in draft.names and folded not in draft.repeated:
            draft.repeated.add(folded)
            where = "the parameters before any scheme"
            if draft.scheme:
                where = f"challenge {_show(draft.scheme)}"
            message = (
                f"Parameter {_show(read.param.name)} occurs more than once in {where}"
            )
            self._add(_Problem(read.position, "duplicate-param", message))
        draft.names.add(folded)
        draft.params.append(read.param)

    def _report_empty_run(self, run: list[int], members: list[tuple[int, int]]) -> None:
        if not run:
            return
        first, last = run[0], run[-1]
        count = (
            f"{len(run)} empty list members" if len(run) > 1 else "an empty list member"
        )
        if first == 0 and last == len(members) - 1:
            position, what = members[0][1], f"The line holds only commas: {count}"
        elif first == 0:
            position, what = members[0][1], f"A leading comma makes {count}"
        elif last == len(members) - 1:
            position, what = members[first][0] - 1, f"A trailing comma makes {count}"
        else:
            position, what = members[first][1], f"Doubled commas make {count}"
        self._add(_Problem(position, "empty-member", what))

    def _close_draft(self) -> None:
        draft = self._draft
        self._draft = None
        if draft is not None:
            self.challenges.extend(_finished(draft))

    def _add(self, problem: _Problem) -> None:
        requirement = _SEND_FAULTS.get(problem.code, _UNREADABLE)
        fatal = problem.code not in _SEND_FAULTS
        fault = SyntaxFault(
            self.index,
            problem.position,
            problem.code,
            problem.message,
            requirement,
            fatal,
        )
        self.faults.append(fault)


def _finished(draft: _Draft) -> list[Challenge]:
    """The challenge a draft makes, or none if it had no scheme or could not be read."""
    if draft.scheme is None or draft.broken:
        return []
    return [Challenge(draft.scheme, tuple(draft.params), draft.token68, draft.line)]


def _read_data(line: str, start: int, end: int) -> _ParamRead | str | _Problem:
    """Read what follows a scheme and its spaces: a parameter or a token68 (rule 3 of §2)."""
    param = _read_param(line, start, end)
    if isinstance(param, _ParamRead):
        return param
    token68 = _TOKEN68.match(line, start, end)
    after = start if token68 is None else _skip_ws(line, token68.end(), end)
    if token68 is not None and after == end:
        return token68.group()

    # Neither reading works. `abc=def==` looks like a token68 with "=" in
    # the middle; otherwise blame the reading that got further.
    word = _TOKEN68_OR_EQUALS.match(line, start, end)
    if word is not None and word.end() == end:
        padding = line.find("=", start, end)
        position = start if padding == start else _skip_equals(line, padding, end)
        message = f"{_show(word.group())} is neither a parameter nor a token68, whose '=' may only pad the end"
        return _Problem(position, "bad-token68", message)
    if token68 is not None and after > param.position:
        where = f"after token68 {_show(token68.group())}, where a comma or the end of the line should follow"
        return _unexpected(line, after, where)
    return param


def _read_param(line: str, start: int, end: int) -> _ParamRead | _Problem:
    """Read ``name bws "=" bws value`` filling ``line[start:end]`` (RFC 9110 §11.2, §5.6.3)."""
    name = _TOKEN.match(line, start, end)
    if name is None:
        return _unexpected(line, start, "where a parameter or a token68 should start")
    shown = _show(name.group())
    equals = _skip_ws(line, name.end(), end)
    if equals == end:
        message = f"{shown} is neither a token68 nor a parameter with '=' and a value"
        return _Problem(equals, "missing-value", message)
    if line[equals] != "=":
        where = f"after parameter name {shown}, where '=' should follow"
        return _unexpected(line, equals, where)
    value_start = _skip_ws(line, equals + 1, end)
    if value_start == end:
        message = f"Parameter {shown} has nothing after its '='"
        return _Problem(value_start, "missing-value", message)

    value = _read_value(line, value_start, end, shown)
    if isinstance(value, _Problem):
        return value
    text, value_end, escape = value
    after = _skip_ws(line, value_end, end)
    if after != end:
        where = f"after the value of parameter {shown}, where a comma or the end of the line should follow"
        return _unexpected(line, after, where)

    # RFC 9110 §5.6.3 and §5.6.4: read past these, but report them.
    problems: list[_Problem] = []
    bws = equals > name.end() or value_start > equals + 1
    if bws:
        position = name.end() if equals > name.end() else equals + 1
        message = f"Whitespace surrounds the '=' of parameter {shown}"
        problems.append(_Problem(position, "bws", message))
    if escape is not None:
        message = f"A backslash escapes {line[escape + 1]!r} in parameter {shown}, though only '\"' and '\\' need it"
        problems.append(_Problem(escape, "needless-escape", message))

    quoted = line[value_start] == '"'
    param = Param(name.group(), text, quoted, bws, needless_escape=escape is not None)
    return _ParamRead(param, start, tuple(problems))


def _read_value(
    line: str, start: int, end: int, shown: str
) -> tuple[str, int, int | None] | _Problem:
    """Read a token or quoted-string value: its text, where it ends, the first needless escape."""
    if line[start] != '"':
        token = _TOKEN.match(line, start, end)
        if token is None:
            where = f"where the value of parameter {shown} should start"
            return _unexpected(line, start, where)
        return token.group(), token.end(), None

    quoted = _QUOTED.match(line, start, end)
    assert quoted is not None  # the pattern cannot fail after a DQUOTE
    content_start, content_end = quoted.span(1)
    control = _CTL.search(line, content_start, content_end)
    if control is not None:
        message = f"Control character {control.group()!r} inside the quoted value of parameter {shown}"
        return _Problem(control.start(), "ctl-char", message)
    if not quoted.group(2):
        message = f"The quoted value of parameter {shown} has no closing '\"'"
        return _Problem(start, "unterminated-quote", message)

    # RFC 9110 §5.6.4: a backslash stands for the octet after it; senders
    # should escape only DQUOTE and backslash.
    escape: int | None = None
    for pair in _QUOTED_PAIR.finditer(line, content_start, content_end):
        if pair.group(1) not in '"\\':
            escape = pair.start()
            break
    text = _QUOTED_PAIR.sub(r"\1", quoted.group(1))
    return text, quoted.end(), escape


def _split_members(line: str) -> list[tuple[int, int]]:
    """Cut the line at its top-level commas into ``(start, end)`` spans."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _QUOTED_OR_COMMA.finditer(line):
        if match.group() == ",":
            spans.append((start, match.start()))
            start = match.end()
    spans.append((start, len(line)))
    return spans


def _trim(line: str, start: int, end: int) -> tuple[int, int]:
    start = _skip_ws(line, start, end)
    while end > start and line[end - 1] in " \t":
        end -= 1
    return start, end


def _skip_ws(line: str, start: int, end: int) -> int:
    match = _WS.match(line, start, end)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _skip_equals(line: str, start: int, end: int) -> int:
    while start < end and line[start] == "=":
        start += 1
    return start


def _unexpected(line: str, position: int, where: str) -> _Problem:
    """A fault for the character at ``position``, a control character or any other."""
    char = line[position]
    if _CTL.match(char):
        return _Problem(position, "ctl-char", f"Control character {char!r} {where}")
    return _Problem(
        position, "unexpected-char", f"Unexpected character {char!r} {where}"
    )


def _show(text: str | None) -> str:
    """Quote server text for a message, cut short so a huge token cannot flood it."""
    text = text or ""
    if len(text) > _SHOWN_CHARS:
        return repr(text[:_SHOWN_CHARS]) + "..."
    return repr(text)

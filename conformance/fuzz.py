"""The hypothesis stream behind ``malformed:generated``: broken Authorization values, sent and judged.

The fixed ``malformed`` catalogue names the classic mistakes; this stream
looks around them. Each example is one or two ``Authorization`` lines of raw
bytes, drawn from:

- control characters inside the value (NUL, BEL, ESC, DEL...; never CR or
  LF, which would split the request into other header lines),
- over-long values (8, 16 or 64 KiB),
- stray whitespace: leading, trailing, tabs, several spaces,
- another scheme (``Basic``, ``Token``, ``Negotiate``...),
- bytes that are not UTF-8,
- two Authorization lines (RFC 9110 §5.3 allows one only).

No example holds a real credential. Every example is judged by the checks of
the ``malformed`` cases; the first that fails is shrunk by hypothesis to the
smallest value that still fails, and that value is what the report shows.
An example that gets no answer the checks can grade (a timeout, or a dropped
connection on a value of 8 KiB or less) stops the stream with an error.
Examples are drawn from a seed the run prints, so ``--hypothesis-seed``
repeats a run. Shrinking sends more requests than ``max_examples`` (at most
a few hundred, and only after a failure).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from .checks import INVALID_FIELD_VARIANT, LARGE_FIELD_BYTES, judge, judge_no_answer
from .errors import ConformanceFailure, NotJudgedError, TransportError
from .model import Case, Finding, Probe, Target, Verdict
from .results import Evidence, failure_message
from .transport import Transport
from .variants import TOKEN_ALPHABET

DEFAULT_EXAMPLES = 25

_CONTROL_BYTES = [bytes([c]) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]
_CONTROL_SET = frozenset(b[0] for b in _CONTROL_BYTES)
_NOT_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\x80", b"\xe9t\xe9"]
_WHITESPACE = [b" ", b"  ", b"\t", b" \t ", b"   "]
_OTHER_SCHEMES = [b"Basic", b"Bearer", b"Digest", b"Token", b"JWT", b"Negotiate", b"ApiKey", b"Foo"]
_LENGTHS = [8 * 1024, 16 * 1024, 64 * 1024]


@dataclass(frozen=True)
class Generated:
    """One generated example: the Authorization line(s) to send, as bytes."""

    values: tuple[bytes, ...]

    @property
    def invalid_field(self) -> bool:
        """Tell whether a value holds a control character, which no field value may (RFC 9110 §5.5)."""
        return any(byte in _CONTROL_SET for value in self.values for byte in value)

    @property
    def large(self) -> bool:
        """Tell whether the lines are larger than a server may refuse to read (RFC 9110 §5.4)."""
        return sum(len(value) for value in self.values) > LARGE_FIELD_BYTES

    def show(self) -> str:
        """The value(s) as a report shows them: Python bytes literals, one per line sent."""
        shown = [repr(v) if len(v) <= 120 else f"{v[:60]!r}... ({len(v)} bytes)" for v in self.values]
        return " + ".join(f"Authorization: {s}" for s in shown)


def authorization_values(scheme_word: str) -> st.SearchStrategy[Generated]:
    """Broken Authorization values for a target whose scheme is ``scheme_word``."""
    word = scheme_word.encode("ascii")
    token = st.text(alphabet=TOKEN_ALPHABET, min_size=1, max_size=40).map(str.encode)

    control = st.builds(
        lambda head, ctl, tail: word + b" " + head + ctl + tail,
        st.binary(max_size=0) | token,
        st.sampled_from(_CONTROL_BYTES),
        st.binary(max_size=0) | token,
    )
    over_long = st.sampled_from(_LENGTHS).map(lambda n: word + b" " + b"A" * n)
    whitespace = st.builds(
        lambda lead, mid, tok, trail: lead + word + mid + tok + trail,
        st.sampled_from([b"", *_WHITESPACE]),
        st.sampled_from(_WHITESPACE),
        token,
        st.sampled_from([b"", *_WHITESPACE]),
    )
    other_scheme = st.builds(
        lambda scheme, tok: scheme + b" " + tok,
        st.sampled_from([s for s in _OTHER_SCHEMES if s.lower() != word.lower()]),
        token,
    )
    not_utf8 = st.builds(lambda tok, bad: word + b" " + tok + bad, token, st.sampled_from(_NOT_UTF8))
    single = st.one_of(control, whitespace, other_scheme, not_utf8, over_long)
    duplicated = st.tuples(single, single).map(lambda pair: Generated(pair))
    return st.one_of(single.map(lambda v: Generated((v,))), duplicated)


@dataclass
class Fuzzer:
    """Sends a hypothesis stream of broken values to one endpoint and judges each answer.

    ``record`` receives the evidence of each example as it is judged, so
    that the test's report record describes the last one (after a failure,
    the shrunk one).
    """

    target: Target
    case: Case
    transport: Transport
    record: Callable[[Evidence], None]
    examples: int = DEFAULT_EXAMPLES
    seed: int = 0
    strict: bool = False
    control_body: bytes | None = None

    def run(self) -> None:
        """Send the stream; raise ConformanceFailure for the smallest failing example.

        Raises NotJudgedError, after sending nothing more, at the first example
        that got no answer the catalogue can grade: each further one could
        wait out the whole timeout too.
        """
        warnings: dict[tuple[str, str], Finding] = {}
        last: list[Evidence] = []
        failing: list[bool] = []
        unjudged: list[NotJudgedError] = []

        @hypothesis_seed(self.seed)
        @settings(
            max_examples=self.examples,
            derandomize=False,
            database=None,
            deadline=None,
            phases=(Phase.explicit, Phase.generate, Phase.shrink),
            report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck),
        )
        @given(authorization_values(_scheme_word(self.target)))
        def example(generated: Generated) -> None:
            if unjudged and not failing:
                return  # hypothesis cannot be stopped mid-stream; it draws on, nothing is sent
            try:
                evidence = self.judge(generated)
            except NotJudgedError as exc:
                # While hypothesis shrinks a failure, an unanswered smaller
                # value just does not fail; the failure found is reported.
                if not failing:
                    unjudged.append(exc)
                return
            last[:] = [evidence]
            self.record(evidence)
            assert evidence.verdict is not None
            if evidence.verdict.outcome != "pass":
                failing.append(True)
                raise ConformanceFailure(failure_message(evidence) + self._repeat_hint())
            for item in evidence.verdict.warnings:
                warnings.setdefault((item.requirement, item.message), item)

        example()
        if unjudged:
            raise unjudged[0]
        if last:
            # The record of a passing stream keeps every warning it met.
            final = last[0]
            assert final.verdict is not None
            findings = tuple(f for f in final.verdict.findings if f.passed) + tuple(warnings.values())
            self.record(replace(final, verdict=Verdict("pass", findings)))

    def judge(self, generated: Generated) -> Evidence:
        """Send one example and judge the answer as a malformed case.

        Raises NotJudgedError when no answer came that the catalogue grades
        (see ``judge_no_answer``), after recording the example.
        """
        url = self.target.base_url + self.case.endpoint.path
        probe = Probe(
            self.case.endpoint.method,
            url,
            raw_headers=tuple((b"Authorization", value) for value in generated.values),
            sent="a generated broken Authorization value",
        )
        try:
            exchange = self.transport.send(probe)
        except TransportError as exc:
            verdict = judge_no_answer(self.target, self.case, str(exc), dropped=exc.dropped, large=generated.large)
            if verdict is None:
                self.record(Evidence(self.target, self.case, probe, None, generated=generated.show()))
                raise NotJudgedError(
                    f"{exc}\n  sent:     {probe.sent}: {generated.show()}\n"
                    f"  only a dropped connection in answer to a value over {LARGE_FIELD_BYTES // 1024} KiB "
                    "is graded (R9110-FIELD-TOO-LARGE); the stream stopped at this example" + self._repeat_hint(shrunk=False)
                ) from exc
            return Evidence(self.target, self.case, probe, None, verdict, generated=generated.show())

        # The record keeps the case's own ID; only the verdict's rules change.
        judged = replace(self.case, variant=INVALID_FIELD_VARIANT) if generated.invalid_field else self.case
        verdict = judge(self.target, judged, exchange, control_body=self.control_body, strict=self.strict)
        return Evidence(self.target, self.case, probe, exchange, verdict, generated=generated.show())

    def _repeat_hint(self, *, shrunk: bool = True) -> str:
        why = " (hypothesis shrank the value to the smallest that fails)" if shrunk else ""
        return f"\n  repeat: --hypothesis-seed={self.seed}{why}"


def _scheme_word(target: Target) -> str:
    return {"bearer": "Bearer", "basic": "Basic", "digest": "Digest"}.get(target.scheme, "Bearer")

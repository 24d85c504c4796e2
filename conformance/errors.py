"""Every exception the suite raises on purpose.

The tree::

    ConformanceError                 base of everything below
    ├── TargetsFileError             targets.yaml cannot be read or does not fit the schema
    ├── TargetStartError             an embedded target could not be started
    ├── TransportError               a request got no HTTP answer (refused, timeout, reset)
    ├── NotJudgedError               a generated example got no answer the catalogue can grade
    └── CredentialError              a role's login or token request failed

    AssertionError
    └── ConformanceFailure           the API broke a requirement; pytest shows it as a failure
        └── ControlFailed            valid credentials were refused, so nothing else can be judged

Setup problems are ``ConformanceError``; what the API did wrong is an
``AssertionError`` so that pytest reports it as a failed test, not a crash.
"""

from __future__ import annotations


class ConformanceError(Exception):
    """Base class of the suite's own errors."""


class TargetsFileError(ConformanceError):
    """A targets file is unreadable or breaks the schema.

    The message is one line that names the file, the line and the key.
    """


class TargetStartError(ConformanceError):
    """An embedded target could not be started."""


class TransportError(ConformanceError):
    """A request got no HTTP answer, so the case cannot be judged.

    ``dropped`` is true when the server closed or reset the connection
    instead of answering, which is the one failure a check may grade (a
    server may drop a request whose header is too large, RFC 9110 §5.4).
    """

    def __init__(self, message: str, *, dropped: bool = False) -> None:
        super().__init__(message)
        self.dropped = dropped


class NotJudgedError(ConformanceError):
    """The hypothesis stream met an example it cannot judge, and stopped there.

    It is raised in the test's call, so pytest counts a failed test; the
    report records it as an error, never as a pass or a failure of the API.
    """


class CredentialError(ConformanceError):
    """A role's credential could not be obtained at run time (login or token request).

    The message is one line naming the role and the endpoint asked, never
    the credential or the answer's body.
    """


class ConformanceFailure(AssertionError):
    """The API answered a case in a way the requirement catalogue forbids."""


class ControlFailed(ConformanceFailure):
    """Valid, privileged credentials did not get a 2xx.

    Without a working control every negative verdict is meaningless, so the
    endpoint's other cases become errors that point here.
    """

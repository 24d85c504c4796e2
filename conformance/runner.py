"""The audit of a run: targets, their embedded servers, transports and controls.

One ``Audit`` lives in each pytest process (the controller and every xdist
worker). It starts embedded targets when first needed, keeps one transport
per target, and remembers each endpoint's control answer so that a worker
sends a control at most once per endpoint, whatever order the cases run in.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .cases import build_probe, control_case, generate_cases, generated_cases
from .credentials import Wallet
from .errors import ConformanceError, CredentialError, TargetStartError, TransportError
from .model import BrokenTarget, Case, Endpoint, Exchange, Probe, Secret, Target
from .transport import DEFAULT_TIMEOUT, Transport


class BrokenTargetError(ConformanceError):
    """The target cannot be audited; the message lists why, one problem a line."""


@dataclass(frozen=True)
class ControlResult:
    """The answer to an endpoint's control case, or why there is none."""

    case: Case | None
    exchange: Exchange | None = None
    error: str | None = None
    unsent: bool = False

    @property
    def passed(self) -> bool:
        """Valid credentials got a 2xx."""
        return self.exchange is not None and 200 <= self.exchange.status < 300

    def explain(self) -> str:
        """Why the control failed, in one line."""
        if self.case is None:
            return "no role may call this endpoint, so there is no valid request to compare with"
        if self.error is not None and self.unsent:
            return f"the control {self.case.id} could not be sent: {self.error}"
        if self.error is not None:
            return f"the control {self.case.id} got no answer: {self.error}"
        assert self.exchange is not None
        return f"the control {self.case.id} got {self.exchange.status} {self.exchange.reason}, not a 2xx".rstrip()


class Audit:
    """Per-process state of an audit: who is under test and what came back."""

    def __init__(
        self,
        targets: Mapping[str, Target | BrokenTarget],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        verify_tls: bool = True,
    ) -> None:
        self.declared = dict(targets)
        self.timeout = timeout
        self.verify_tls = verify_tls
        self._started: dict[str, Target | BrokenTarget] = {}
        self._stoppers: list[object] = []
        self._transports: dict[str, Transport] = {}
        self._wallets: dict[str, Wallet] = {}
        self._controls: dict[tuple[str, str], ControlResult] = {}
        self._positions: dict[str, dict[tuple[str, str], tuple[int, int]]] = {}
        self._lock = threading.Lock()

    def target(self, name: str) -> Target:
        """The usable target ``name``, starting it if it is embedded.

        Raises BrokenTargetError when its description has problems or its
        embedded server does not start.
        """
        resolved = self.resolve(name)
        if isinstance(resolved, BrokenTarget):
            raise BrokenTargetError("; ".join(resolved.problems))
        return resolved

    def resolve(self, name: str) -> Target | BrokenTarget:
        """Like ``target`` but returns a BrokenTarget instead of raising."""
        with self._lock:
            if name not in self._started:
                self._started[name] = self._start(self.declared[name])
            return self._started[name]

    def _start(self, declared: Target | BrokenTarget) -> Target | BrokenTarget:
        if isinstance(declared, BrokenTarget) or declared.embedded is None:
            return declared
        # Imported here: the demo server is only needed when a target asks for it.
        from .demo import start_demo

        try:
            running = start_demo(declared.embedded)
        except TargetStartError as exc:
            return BrokenTarget(declared.name, (str(exc),), declared.source)
        self._stoppers.append(running)
        started = running.target
        return replace(
            started,
            name=declared.name,
            embedded=declared.embedded,
            waive={**started.waive, **declared.waive},
            source=declared.source,
        )

    def positions(self, target: Target) -> Mapping[tuple[str, str], tuple[int, int]]:
        """Run order of every case of ``target``, keyed by (endpoint label, case id).

        Reports list cases in this order; computed once per target because
        a target can have thousands of cases.
        """
        with self._lock:
            known = self._positions.get(target.name)
        if known is not None:
            return known
        order: dict[tuple[str, str], tuple[int, int]] = {}
        endpoint_index = {endpoint.label: i for i, endpoint in enumerate(target.endpoints)}
        for case in generate_cases(target) + generated_cases(target):
            label = case.endpoint.label
            # The second index only has to sort the cases of one endpoint.
            order.setdefault((label, case.id), (endpoint_index[label], len(order)))
        with self._lock:
            return self._positions.setdefault(target.name, order)

    def transport(self, target: Target) -> Transport:
        """The keep-alive transport of ``target``."""
        with self._lock:
            if target.name not in self._transports:
                self._transports[target.name] = Transport(timeout=self.timeout, verify_tls=self.verify_tls)
            return self._transports[target.name]

    def wallet(self, target: Target) -> Wallet:
        """The credentials of ``target`` in this process, fetched when first needed."""
        transport = self.transport(target)
        with self._lock:
            if target.name not in self._wallets:
                self._wallets[target.name] = Wallet(target, transport)
            return self._wallets[target.name]

    def obtained(self, target: Target) -> tuple[Secret, ...]:
        """The credentials this process fetched for ``target`` so far."""
        with self._lock:
            wallet = self._wallets.get(target.name)
        return wallet.obtained() if wallet is not None else ()

    def probe(self, target: Target, case: Case) -> Probe:
        """Build the probe of ``case``, fetching the credentials it needs.

        Raises CredentialError when a login or token request fails, and
        MissingCredential when the case needs what the target lacks.
        """
        return build_probe(target, case, self.wallet(target).view())

    def send(self, target: Target, case: Case) -> tuple[Probe, Exchange]:
        """Build and send the probe of ``case``; TransportError if no answer came."""
        probe = self.probe(target, case)
        exchange = self.transport(target).send(probe)
        if case == control_case(target, case.endpoint):
            self._remember_control((target.name, case.endpoint.label), ControlResult(case, exchange))
        return probe, exchange

    def control(self, target: Target, endpoint: Endpoint) -> ControlResult:
        """The control answer of ``endpoint``, sending it if this process has none yet."""
        key = (target.name, endpoint.label)
        with self._lock:
            known = self._controls.get(key)
        if known is not None:
            return known

        case = control_case(target, endpoint)
        if case is None:
            result = ControlResult(None)
        else:
            try:
                result = ControlResult(case, self.transport(target).send(self.probe(target, case)))
            except CredentialError as exc:
                result = ControlResult(case, error=str(exc), unsent=True)
            except TransportError as exc:
                result = ControlResult(case, error=str(exc))
        return self._remember_control(key, result)

    def _remember_control(self, key: tuple[str, str], result: ControlResult) -> ControlResult:
        # The first answer wins, so every case of the endpoint sees the same control.
        with self._lock:
            return self._controls.setdefault(key, result)

    def close(self) -> None:
        """Close every transport and stop every embedded server."""
        for transport in self._transports.values():
            transport.close()
        for running in self._stoppers:
            running.stop()  # type: ignore[attr-defined]
        self._transports.clear()
        self._wallets.clear()
        self._stoppers.clear()

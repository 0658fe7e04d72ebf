"""A kind's external client that reads for real and records its writes instead of making them.

`mlopsctl plan` hands this to the kind's own `reconcile`, so the plan is decided by the controller's code.
Which methods read and which write is declared next to each kind's Protocol (`REGISTRY_READS`, ...); a
method declared as neither is refused here rather than called, so a new write can never slip through.
A write returns what the real call would (a created object, an id) from the kind's `Simulated` answers,
and later reads of what the plan made up are answered from them too, so the reconcile goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.clients.redaction import redact

PASS: Any = object()
"""What a `Simulated` read answers when the real client is to be asked."""

_SHOWN_CHARACTERS = 160


class UndeclaredCall(TypeError):
    """The reconcile called a client method that is declared neither read nor write."""


@dataclass(frozen=True)
class Call:
    """One write the controller would make: the client method and its arguments."""

    method: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]

    def describe(self) -> str:
        """`set_alias('main.risk.fraud', 'champion', 3)`: credentials masked, long values shortened."""
        shown = [_short(value) for value in self.args] + [f"{k}={_short(v)}" for k, v in self.kwargs.items()]
        return redact(f"{self.method}({', '.join(shown)})")


class Simulated:
    """A kind's answers to writes (and to reads of what those writes made up); subclasses hold per kind.

    A method named like a write is called with the write's arguments and returns what the real call
    would; a method named like a read returns PASS to let the real client answer.
    """

    def __init__(self, real: Any) -> None:
        self.real = real


@dataclass
class Recorder:
    """Passes declared reads to `real`, records declared writes, refuses anything else."""

    real: Any
    reads: frozenset[str]
    writes: frozenset[str]
    simulated: Simulated
    calls: list[Call] = field(default_factory=list)

    def fresh(self) -> Recorder:
        """Another recorder over the same client, with nothing recorded or made up yet."""
        return Recorder(self.real, self.reads, self.writes, type(self.simulated)(self.real))

    def __getattr__(self, name: str) -> Any:
        if name in self.writes:
            return self._write(name)
        if name in self.reads:
            return self._read(name)
        value = getattr(self.real, name)
        if callable(value):
            raise UndeclaredCall(f"{type(self.real).__name__}.{name} is declared neither a read nor a write")
        return value  # a plain attribute (Registry.creates_versions)

    def _write(self, name: str) -> Callable[..., Any]:
        answer = getattr(self.simulated, name, None)

        def record(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(Call(name, args, kwargs))
            return answer(*args, **kwargs) if answer is not None else None

        return record

    def _read(self, name: str) -> Any:
        real = getattr(self.real, name)
        answer = getattr(self.simulated, name, None)
        if answer is None or not callable(real):
            return real  # a property (ConnectionProbe.notices) or a read nothing in the plan changes

        def read(*args: Any, **kwargs: Any) -> Any:
            found = answer(*args, **kwargs)
            return real(*args, **kwargs) if found is PASS else found

        return read


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARACTERS else text[: _SHOWN_CHARACTERS - 3] + "..."

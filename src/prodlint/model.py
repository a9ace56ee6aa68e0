"""The data that flows through the pipeline: findings and what can be done about them."""

from __future__ import annotations

import enum
import pickle
from dataclasses import dataclass, field
from typing import TypeVar


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class FixSafety(str, enum.Enum):
    """How much a fix can be trusted.

    SAFE fixes keep behaviour and are applied by ``prodlint fix``; UNSAFE fixes may change
    behaviour (signals, ordering, messages) and need ``--unsafe-fixes``; NONE means the rule
    only reports.
    """

    SAFE = "safe"
    UNSAFE = "unsafe"
    NONE = "none"


@dataclass(frozen=True)
class FixAnchor:
    """Where a fix edits, when that is not the range shown to the user: a ``with`` fix
    rewrites the body of the block around the acquiring call the finding points at.

    Lines are 1-based, columns 0-based characters (libcst's positions); ``node_type`` is
    the libcst class name of the node at that range.
    """

    line: int
    col: int
    end_line: int
    end_col: int
    node_type: str


class FixPayload:
    """Base of what a detector hands its fix: each fixable rule declares its own frozen
    dataclass subclass (module level, so findings pickle across processes and into the
    cache) and reads it back typed with ``Finding.payload_as``."""

    __slots__ = ()


PayloadT = TypeVar("PayloadT", bound=FixPayload)


@dataclass(frozen=True)
class _PackedPayload(FixPayload):
    """A payload as pickled bytes: loading a cache or a worker's findings must not import
    the rule modules the payload classes live in (the warm path imports no rules); the
    bytes are unpacked only when a fix asks for them."""

    data: bytes


@dataclass(frozen=True)
class Finding:
    """One problem at one place. Lines are 1-based; columns are 1-based characters."""

    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    code: str
    message: str
    severity: Severity
    fix: FixSafety = FixSafety.NONE
    # The node the fix is handed; None means the node whose range is the finding's.
    fix_anchor: FixAnchor | None = field(default=None, compare=False, repr=False)
    # What the detector learnt that the fix needs, as the rule's payload class; read it with
    # ``payload_as`` (after pickling it is held packed until then).
    payload: FixPayload | None = field(default=None, compare=False, repr=False)

    def payload_as(self, kind: type[PayloadT]) -> PayloadT:
        """The payload, checked to be the rule's own class (a finding made by another rule
        or version of it fails loudly instead of fixing with the wrong data)."""
        value = self.payload
        if isinstance(value, _PackedPayload):
            value = pickle.loads(value.data)
            object.__setattr__(self, "payload", value)
        if not isinstance(value, kind):
            raise TypeError(
                f"{self.code} finding carries {type(value).__name__}, not {kind.__name__}"
            )
        return value

    def __reduce__(self) -> tuple[object, ...]:
        payload = self.payload
        if payload is not None and not isinstance(payload, _PackedPayload):
            payload = _PackedPayload(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
        return (
            Finding,
            (
                self.path,
                self.line,
                self.col,
                self.end_line,
                self.end_col,
                self.code,
                self.message,
                self.severity,
                self.fix,
                self.fix_anchor,
                payload,
            ),
        )

    @property
    def fixable(self) -> bool:
        return self.fix is not FixSafety.NONE

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.col, self.code)

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line,
            "end_col": self.end_col,
            "code": self.code,
            "message": self.message,
            "severity": self.severity.value,
            "fix": None if self.fix is FixSafety.NONE else {"safety": self.fix.value},
        }


# Code reserved for "this file could not be checked at all" (syntax error, undecodable...).
UNCHECKABLE_CODE = "PRD000"

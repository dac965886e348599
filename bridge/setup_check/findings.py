"""What a check finds: one line each that says what to do, and the last report for /status."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    level: Level
    text: str


def ok(text: str) -> Finding:
    return Finding(Level.OK, text)


def warning(text: str) -> Finding:
    return Finding(Level.WARNING, text)


def error(text: str) -> Finding:
    return Finding(Level.ERROR, text)


@dataclass
class SetupReport:
    """The start-up check's result, for /status: empty until it has run."""

    findings: list[Finding] = field(default_factory=list)
    #: wall time it finished, None while it runs
    finished_at: float | None = None

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.level is not Level.OK]

"""Where messages go."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.config import Settings
from bridge.payloads import Payload


@dataclass(frozen=True)
class Target:
    """A chat (and optionally a forum topic) that receives messages."""

    chat_id: int
    thread_id: int | None = None
    silent: bool = False
    #: the language of this chat's messages; None for the bridge's default
    language: str | None = None


class Routes:
    """Decides which targets receive an event."""

    def __init__(self, targets: list[Target]) -> None:
        self._targets = targets

    @classmethod
    def from_settings(cls, settings: Settings) -> Routes:
        targets = [] if settings.telegram_chat_id is None else [Target(settings.telegram_chat_id)]
        return cls(targets)

    @property
    def configured(self) -> bool:
        return bool(self._targets)

    def targets_for(self, payload: Payload) -> list[Target]:
        return list(self._targets)

"""What the reconciler last found for each store, for /status and the metrics."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class StoreBoard:
    """One store's gap filling, as the last pass left it."""

    #: wall time of the last pass that finished (or failed), None before the first
    last_pass: float | None = None
    #: "ok: 2 recovered" or what went wrong, in words safe to show (no secret)
    last_result: str = "not run yet"
    #: passes finished (or failed) since the start
    passes: int = 0
    #: the store's webhooks that deliver to this bridge, by status ("active": 3)
    webhooks: dict[str, int] = field(default_factory=dict)
    #: what is wrong with them, one short line each (empty: all deliver)
    webhook_problems: list[str] = field(default_factory=list)


class RecoveryBoard:
    """Each store's board; stores without a REST API key have none."""

    def __init__(self, stores: tuple[str, ...] = (), without_key: tuple[str, ...] = ()) -> None:
        self.stores = {name: StoreBoard() for name in stores}
        #: the stores that have no REST API key (no gap filling), for /status to say so
        self.without_key = without_key

    def of(self, store: str) -> StoreBoard:
        return self.stores.setdefault(store, StoreBoard())

"""What a stock message shows: the crossing, in the reader's language, and the variation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridge.render.formatting import Formatter
from bridge.render.labels import STOCK_STATUSES
from bridge.render.views import objects, text

#: `stock` of every message that is not a stock message
NO_STOCK: Mapping[str, object] = {
    "kind": "",
    "before": "",
    "before_label": "",
    "after_label": "",
    "before_quantity": "",
    "after_quantity": "",
    "attributes": "",
}


def variation_attributes(data: Mapping[str, Any]) -> str:
    """A variation's attributes (`Size: M, Color: Black`); "" for a simple product, whose
    attributes list options rather than one chosen value."""
    shown = []
    for attribute in objects(data.get("attributes")):
        name, option = text(attribute.get("name")), text(attribute.get("option"))
        if name and option:
            shown.append(f"{name}: {option}")
    return ", ".join(shown)


def stock_view(
    crossing: Mapping[str, object], data: Mapping[str, Any], fmt: Formatter
) -> dict[str, Any]:
    """The router's crossing (kind, before, the statuses and quantities) with
    the statuses named in the reader's language."""
    return {
        "kind": text(crossing.get("kind")),
        "before": text(crossing.get("before")),
        "before_label": fmt.label(STOCK_STATUSES, crossing.get("before_status")),
        "after_label": fmt.label(STOCK_STATUSES, crossing.get("after_status")),
        "before_quantity": fmt.number(crossing.get("before_quantity")),
        "after_quantity": fmt.number(crossing.get("after_quantity")),
        "attributes": variation_attributes(data),
    }

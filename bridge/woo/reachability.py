"""Will WooCommerce deliver to this URL? WordPress refuses more than a bad format."""

from __future__ import annotations

import ipaddress

from yarl import URL

#: the only ports wp_safe_remote_request() delivers to
SAFE_PORTS = (80, 443, 8080)


def delivery_problem(delivery_url: str) -> str | None:
    """Why WooCommerce would fail every delivery to `delivery_url`, or None."""
    url = URL(delivery_url)
    port = url.port or (443 if url.scheme == "https" else 80)
    if port not in SAFE_PORTS:
        return (
            f"WooCommerce only delivers to ports 80, 443 and 8080, not {port}: publish the "
            "bridge on one of them (e.g. behind a reverse proxy on 443)"
        )
    host = url.host or ""
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return f"{host} is not reachable from the store: use the bridge's public address"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not address.is_global:
        return (
            f"{host} is a private or local address that WooCommerce refuses to deliver to: "
            "use the bridge's public address"
        )
    return None

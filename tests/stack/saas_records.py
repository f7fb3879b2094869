"""What each SaaS simulator holds for a customer, read over its public API as an operator would."""

from __future__ import annotations

from collections.abc import Mapping

import httpx


def live_records(urls: Mapping[str, str], cust_no: str, http: httpx.Client | None = None) -> dict[str, int]:
    """How many live records each SaaS holds for ``cust_no`` (deleted support users are not live)."""
    get = http.get if http is not None else httpx.get
    support = get(f"{urls['support']}/api/v2/users/search.json", params={"external_id": cust_no})
    commerce = get(
        f"{urls['commerce']}/admin/api/2024-10/customers/search.json",
        params={"query": f"multipass_identifier:{cust_no}"},
    )
    membership = get(f"{urls['membership']}/members", params={"member_no": cust_no})
    return {
        "support": len(support.json()["users"]),
        "commerce": len(commerce.json()["customers"]),
        "membership": len(membership.json()["members"]),
    }

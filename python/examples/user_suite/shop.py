"""A shop's recharge counter: the application code the suite beside it
tests through the ``aopay`` pytest plugin."""

from __future__ import annotations

import aopay

GEOCODE = "23.6784,76.8764"
JIO_PREPAID = 518


def sell(client: aopay.Client, number: str, rupees: int) -> str:
    """Sell a recharge; the status to show the customer."""
    try:
        r = client.mobile_recharge(product_id=JIO_PREPAID, amount=rupees, customer_number=number, geocode=GEOCODE)
    except aopay.OutcomeUnknownError:
        return "CHECKING"  # never sold again: reconciled later
    if not r.is_final and r.reference_id is not None:
        r = client.wait_for_final(r.reference_id, timeout=30.0, initial_interval=0.05)
    return r.status


async def sell_async(client: aopay.AsyncClient, number: str, rupees: int) -> str:
    r = await client.mobile_recharge(product_id=JIO_PREPAID, amount=rupees, customer_number=number, geocode=GEOCODE)
    return r.status

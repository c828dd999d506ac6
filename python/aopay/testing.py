"""Helpers for your own test suite: assertions about what the sandbox
received, and (through the ``aopay`` pytest plugin, installed with the
package) the fixtures ``aopay_sandbox``, ``aopay_client`` and
``aopay_async_client``.

>>> import aopay, aopay.testing
>>> with aopay.Sandbox() as sb:
...     client = aopay.Client("AOP-554", base_url=sb.url)
...     _ = client.mobile_recharge(product_id=518, amount=10, customer_number="9876543210",
...                                geocode="23.6784,76.8764")
...     aopay.testing.assert_recharged_once(sb, "9876543210")
"""

from __future__ import annotations

from ._aopay import Sandbox, _mask_digits

__all__ = ["assert_recharged_once", "assert_not_recharged", "assert_paid_once", "assert_nothing_sent"]


def _masked(number: "str | int") -> str:
    return _mask_digits(str(number))


def assert_recharged_once(sandbox: Sandbox, customer_number: "str | int") -> None:
    """Exactly one MobileRecharge request named this number: not zero (it
    was never sent), not two (a retry paid twice)."""
    n = sandbox.recharges_for(customer_number)
    if n != 1:
        raise AssertionError(f"{_masked(customer_number)} was recharged {n} times, expected exactly once")


def assert_not_recharged(sandbox: Sandbox, customer_number: "str | int") -> None:
    """No MobileRecharge request named this number (an order refused before
    sending, or one your code must not have placed)."""
    n = sandbox.recharges_for(customer_number)
    if n != 0:
        raise AssertionError(f"{_masked(customer_number)} was recharged {n} times, expected never")


def assert_paid_once(sandbox: Sandbox, account: str) -> None:
    """Exactly one payment (DoRecharge, bill payment, FASTag top-up) is
    recorded for this account; a refusal of a reused reference is not one."""
    n = sandbox.recorded_payments_for(account)
    if n != 1:
        raise AssertionError(f"{_masked(account)} was paid {n} times, expected exactly once")


def assert_nothing_sent(sandbox: Sandbox) -> None:
    """The sandbox received no request at all: what every check made before
    sending promises for bad input."""
    stats = sandbox.stats()
    counts: dict[str, int] = {**stats["requests"]}
    counts.update((k, v) for k, v in stats.items() if isinstance(v, int))
    received = {k: v for k, v in counts.items() if v}
    if received:
        raise AssertionError(f"the sandbox received requests: {received}")

"""A user's own suite, on the fixtures of the ``aopay`` pytest plugin
(``pytest -p aopay``; loaded anyway where aopay is installed)."""

from __future__ import annotations

import pytest

import aopay
from aopay.testing import assert_nothing_sent, assert_not_recharged, assert_recharged_once
from shop import sell, sell_async


def test_a_sale_recharges_exactly_once(aopay_client: aopay.Client, aopay_sandbox: aopay.Sandbox) -> None:
    assert sell(aopay_client, "9876543210", 10) == "SUCCESS"
    assert_recharged_once(aopay_sandbox, "9876543210")


def test_a_pending_sale_is_waited_for_not_sold_again(aopay_client: aopay.Client, aopay_sandbox: aopay.Sandbox) -> None:
    assert sell(aopay_client, "9000000002", 10) == "SUCCESS"  # PENDING, then SUCCESS
    assert_recharged_once(aopay_sandbox, "9000000002")


def test_an_unknown_outcome_is_never_sold_twice(aopay_client: aopay.Client, aopay_sandbox: aopay.Sandbox) -> None:
    assert sell(aopay_client, "9000000006", 10) == "CHECKING"  # recorded, then HTTP 500
    assert_recharged_once(aopay_sandbox, "9000000006")


def test_a_bad_number_sends_nothing(aopay_client: aopay.Client, aopay_sandbox: aopay.Sandbox) -> None:
    with pytest.raises(aopay.ValidationError):
        sell(aopay_client, "98765x4321", 10)
    with pytest.raises(aopay.ValidationError):
        sell(aopay_client, "9876543210", 0)  # zero rupees
    assert_not_recharged(aopay_sandbox, "9876543210")
    assert_nothing_sent(aopay_sandbox)


def test_the_helpers_fail_when_they_should(aopay_client: aopay.Client, aopay_sandbox: aopay.Sandbox) -> None:
    with pytest.raises(AssertionError, match="recharged 0 times"):
        assert_recharged_once(aopay_sandbox, "9876543210")
    sell(aopay_client, "9876543210", 10)
    sell(aopay_client, "9876543210", 10)
    with pytest.raises(AssertionError, match=r"98XXXXXX10 was recharged 2 times"):
        assert_recharged_once(aopay_sandbox, "9876543210")
    with pytest.raises(AssertionError, match="received requests"):
        assert_nothing_sent(aopay_sandbox)


async def test_an_async_sale(aopay_async_client: aopay.AsyncClient, aopay_sandbox: aopay.Sandbox) -> None:
    assert await sell_async(aopay_async_client, "9876543211", 10) == "SUCCESS"
    assert_recharged_once(aopay_sandbox, "9876543211")

"""The metrics hook: ``on_call`` gets one ``aopay.CallEvent`` per call, on
both clients, with no secret; a failing hook never changes a result."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

import aopay
from conftest import GEO, REG, recharge_kwargs

SECRET = "tok-SECRET-77aa"


def make(flavour: Any, url: str, events: list[aopay.CallEvent], **extra: Any) -> Any:
    return flavour(REG, url, timeout=1.0, headers={"X-Api-Key": SECRET}, on_call=events.append, **extra)



async def _await(x: Any) -> Any:
    return await x


def call(result: Any) -> Any:
    """A sync result, or an AsyncClient call's awaitable run to its end."""
    if hasattr(result, "__await__") and not isinstance(result, aopay.Recharge):
        return asyncio.run(_await(result))
    return result


@pytest.mark.parametrize("flavour", [aopay.Client, aopay.AsyncClient])
def test_one_event_per_call_with_masked_number_and_no_secret(sandbox: aopay.Sandbox, flavour: Any) -> None:
    events: list[aopay.CallEvent] = []
    client = make(flavour, sandbox.url, events)
    r = call(client.mobile_recharge(**recharge_kwargs(9876543210)))
    call(client.recharge_status(r.reference_id))
    assert [e.endpoint for e in events] == ["MobileRecharge", "RechargeStatus"]
    write = events[0]
    assert (write.outcome, write.error, write.retry_safe) == ("SUCCESS", None, None)
    assert (write.attempts, write.http_status) == (1, 200)
    assert write.customer_number == "98XXXXXX10"
    assert write.reference_id == r.reference_id
    assert isinstance(write.duration_us, int) and write.duration_us > 0
    for e in events:
        shown = repr(e)
        assert shown.startswith("CallEvent(endpoint='") and "Some(" not in shown, shown
        assert SECRET not in shown and "9876543210" not in shown, shown


@pytest.mark.parametrize("flavour", [aopay.Client, aopay.AsyncClient])
def test_errors_are_events_and_a_read_counts_its_retries(sandbox: aopay.Sandbox, flavour: Any) -> None:
    events: list[aopay.CallEvent] = []
    client = make(flavour, sandbox.url, events)
    with pytest.raises(aopay.OutcomeUnknownError):
        call(client.mobile_recharge(**recharge_kwargs(9000000006)))  # recorded, then HTTP 500
    with pytest.raises(aopay.RateLimitError):
        call(client.mobile_recharge(**recharge_kwargs(9000000005)))
    r = call(client.mobile_recharge(**recharge_kwargs(9000000010)))  # status: 503 twice
    patient = flavour(REG, sandbox.url, timeout=10.0, on_call=events.append)
    call(patient.recharge_status(r.reference_id))
    unknown, limited, _, status = events
    assert (unknown.outcome, unknown.error, unknown.retry_safe) == ("error", "AOPAY_OUTCOME_UNKNOWN", False)
    # MobileRecharge has no reference of the caller's: the API gives one.
    assert (unknown.http_status, unknown.reference_id) == (500, None)
    assert (limited.error, limited.retry_safe, limited.http_status) == ("AOPAY_RATE_LIMIT", True, 429)
    assert (status.endpoint, status.attempts, status.outcome) == ("RechargeStatus", 3, "SUCCESS")


def test_a_failing_hook_is_reported_and_changes_no_result(
    sandbox: aopay.Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)

    def broken(event: aopay.CallEvent) -> None:
        raise RuntimeError("metrics backend down")

    client = aopay.Client(REG, sandbox.url, on_call=broken)
    r = client.mobile_recharge(**recharge_kwargs(9876543210))
    assert r.status == "SUCCESS"
    assert sandbox.recharges_for(9876543210) == 1
    assert len(reported) == 1
    assert isinstance(reported[0].exc_value, RuntimeError)


@pytest.mark.parametrize("flavour", [aopay.Client, aopay.AsyncClient])
def test_a_hook_that_is_not_callable_is_refused_before_sending(sandbox: aopay.Sandbox, flavour: Any) -> None:
    with pytest.raises(aopay.ValidationError) as info:
        flavour(REG, sandbox.url, on_call="print")
    assert info.value.field == "on_call"
    assert sandbox.stats()["requests"]["mobile_recharge"] == 0


def test_events_from_several_threads_and_loops(sandbox: aopay.Sandbox) -> None:
    import threading

    events: list[aopay.CallEvent] = []
    client = aopay.AsyncClient(REG, sandbox.url, on_call=events.append)

    async def some(n: int) -> None:
        await asyncio.gather(*(
            client.mobile_recharge(product_id=518, amount=10, customer_number=str(9876500000 + n * 10 + i), geocode=GEO)
            for i in range(5)
        ))

    threads = [threading.Thread(target=asyncio.run, args=(some(n),)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(events) == 20
    assert {e.outcome for e in events} == {"SUCCESS"}


@pytest.mark.parametrize("flavour", [aopay.Client, aopay.AsyncClient])
def test_a_batchs_orders_are_events_too(sandbox: aopay.Sandbox, flavour: Any, tmp_path: Any) -> None:
    events: list[aopay.CallEvent] = []
    client = flavour(REG, sandbox.url, journal=str(tmp_path / "j.db"), on_call=events.append)
    rows = [{"order_id": f"o-{i}", "product_id": 518, "amount": 10, "customer_number": f"98765000{i:02d}"} for i in range(6)]
    if flavour is aopay.Client:
        results = list(client.run_batch(rows, geocode=GEO, create_journal=True))
    else:
        async def collect() -> list[Any]:
            return [r async for r in client.run_batch(rows, geocode=GEO, create_journal=True)]
        results = asyncio.run(collect())
    assert len(results) == 6
    writes = [e for e in events if e.endpoint == "MobileRecharge"]
    assert len(writes) == 6 and {e.outcome for e in writes} == {"SUCCESS"}
    assert {e.customer_number for e in writes} == {f"98XXXXXX{i:02d}" for i in range(6)}

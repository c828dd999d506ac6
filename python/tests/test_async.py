from __future__ import annotations

import asyncio

import pytest

import aopay
from conftest import BAD_INPUTS, OUTCOME_UNKNOWN, REG, SCENARIOS, recharge_kwargs


@pytest.mark.parametrize("number", sorted(SCENARIOS))
async def test_magic_scenarios(aclient: aopay.AsyncClient, sandbox: aopay.Sandbox, number: int) -> None:
    expected, http_status, retry_safe = SCENARIOS[number]
    if isinstance(expected, str):
        r = await aclient.mobile_recharge(**recharge_kwargs(number))  # type: ignore[arg-type]
        assert r.status == expected
        assert r.http_status == http_status
    else:
        assert isinstance(expected, type)
        with pytest.raises(expected) as info:
            await aclient.mobile_recharge(**recharge_kwargs(number))  # type: ignore[arg-type]
        err = info.value
        assert isinstance(err, aopay.AopayError)
        assert err.retry_safe is retry_safe
        assert err.http_status == http_status
    assert sandbox.recharges_for(number) == 1


@pytest.mark.parametrize("number", OUTCOME_UNKNOWN)
async def test_outcome_unknown_is_never_resent(aclient: aopay.AsyncClient, sandbox: aopay.Sandbox, number: int) -> None:
    with pytest.raises(aopay.OutcomeUnknownError):
        await aclient.mobile_recharge(**recharge_kwargs(number))  # type: ignore[arg-type]
    assert sandbox.stats()["requests"]["mobile_recharge"] == 1


@pytest.mark.parametrize("field,override", BAD_INPUTS, ids=[f"{f}-{o}" for f, o in BAD_INPUTS])
async def test_bad_inputs_raise_before_awaiting(aclient: aopay.AsyncClient, sandbox: aopay.Sandbox, field: str, override: dict[str, object]) -> None:
    # Validation happens at call time, before a coroutine even exists.
    with pytest.raises(aopay.ValidationError) as info:
        aclient.mobile_recharge(**recharge_kwargs(**override))  # type: ignore[arg-type]
    assert info.value.field == field
    assert sandbox.stats()["requests"]["mobile_recharge"] == 0


async def test_wait_for_final_and_status(aclient: aopay.AsyncClient, sandbox: aopay.Sandbox) -> None:
    r = await aclient.mobile_recharge(**recharge_kwargs(9000000003))  # type: ignore[arg-type]
    assert r.status == "PENDING" and r.reference_id is not None
    f = await aclient.wait_for_final(r.reference_id, timeout=10.0, initial_interval=0.01, max_interval=0.05)
    assert f.status == "FAILED"
    s = await aclient.recharge_status(r.reference_id)
    assert s.status == "FAILED"
    with pytest.raises(aopay.ApiError):
        await aclient.recharge_status("nope")


async def test_500_concurrent_calls_on_one_client(sandbox: aopay.Sandbox) -> None:
    c = aopay.AsyncClient(registration_id=REG, base_url=sandbox.url, timeout=30.0)
    results = await asyncio.gather(
        *[c.mobile_recharge(**recharge_kwargs(7000000000 + i)) for i in range(500)]  # type: ignore[arg-type]
    )
    assert {r.status for r in results} == {"SUCCESS"}
    assert len({r.reference_id for r in results}) == 500
    assert sandbox.stats()["requests"]["mobile_recharge"] == 500


async def test_cancelling_a_wait_stops_it() -> None:
    async with aopay.Sandbox(pending_checks=10_000) as sb:
        c = aopay.AsyncClient(registration_id=REG, base_url=sb.url)
        r = await c.mobile_recharge(**recharge_kwargs(9000000002))  # type: ignore[arg-type]
        assert r.reference_id is not None
        task = asyncio.ensure_future(c.wait_for_final(r.reference_id, timeout=60.0, initial_interval=0.02, max_interval=0.02))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        checks = sb.stats()["requests"]["recharge_status"]
        assert checks >= 2
        await asyncio.sleep(0.3)
        assert sb.stats()["requests"]["recharge_status"] <= checks + 1, "the wait kept polling after cancel"


async def test_timeouts_are_outcome_unknown_and_the_loop_stays_free(sandbox: aopay.Sandbox) -> None:
    c = aopay.AsyncClient(registration_id=REG, base_url=sandbox.url, timeout=0.5)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    t = asyncio.ensure_future(ticker())
    with pytest.raises(aopay.OutcomeUnknownError):
        await c.mobile_recharge(**recharge_kwargs(9000000007))  # type: ignore[arg-type]
    t.cancel()
    assert ticks >= 10, "the event loop was blocked"

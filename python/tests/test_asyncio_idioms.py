"""AsyncClient methods return awaitables that bind to the event loop when
first awaited: every asyncio idiom works, under the default loop and uvloop,
and cancelling a caller never loses a journaled recharge's outcome."""

from __future__ import annotations

import asyncio
import collections.abc
import warnings
from pathlib import Path
from typing import Any, Callable, Coroutine, Iterator, TypeVar

import pytest

import aopay
from conftest import GEO, REG

T = TypeVar("T")
KW: dict[str, Any] = {"product_id": 518, "amount": 10, "geocode": GEO}

try:
    import uvloop
except ImportError:  # pragma: no cover - scripts/test installs it
    uvloop = None  # type: ignore[assignment]

LOOPS: list[Any] = [pytest.param(asyncio.new_event_loop, id="asyncio")]
LOOPS.append(
    pytest.param(
        uvloop.new_event_loop if uvloop else None,
        id="uvloop",
        marks=pytest.mark.skipif(uvloop is None, reason="uvloop not installed"),
    )
)


@pytest.fixture(params=LOOPS)
def run(request: pytest.FixtureRequest) -> Iterator[Callable[[Coroutine[Any, Any, T]], T]]:
    """`asyncio.run` on the loop under test (a new loop per call)."""
    factory = request.param

    def run_one(coro: Coroutine[Any, Any, T]) -> T:
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(coro)

    yield run_one


@pytest.fixture
def aclient(sandbox: aopay.Sandbox) -> aopay.AsyncClient:
    return aopay.AsyncClient(registration_id=REG, base_url=sandbox.url, timeout=5.0)


def test_asyncio_run_of_a_call(aclient: aopay.AsyncClient, run: Any) -> None:
    r = run(aclient.mobile_recharge(customer_number="9876543210", **KW))
    assert r.status == "SUCCESS"
    assert asyncio.run(aclient.recharge_status(r.reference_id)).status == "SUCCESS"


def test_calls_created_before_the_loop_runs(aclient: aopay.AsyncClient, sandbox: aopay.Sandbox, run: Any) -> None:
    calls = [aclient.mobile_recharge(customer_number=f"98765000{i:02d}", **KW) for i in range(5)]
    assert sandbox.stats()["requests"]["mobile_recharge"] == 0, "sent before being awaited"
    assert all(asyncio.iscoroutine(c) for c in calls)
    assert all(isinstance(c, collections.abc.Coroutine) for c in calls)

    async def gather() -> list[aopay.Recharge]:
        return await asyncio.gather(*calls)

    assert [r.status for r in run(gather())] == ["SUCCESS"] * 5
    assert sandbox.stats()["requests"]["mobile_recharge"] == 5


def test_one_client_over_successive_loops(aclient: aopay.AsyncClient, run: Any) -> None:
    for i in range(4):
        assert run(aclient.mobile_recharge(customer_number=f"98765001{i:02d}", **KW)).status == "SUCCESS"


def test_wait_for_timeout_and_tasks(sandbox: aopay.Sandbox, run: Any) -> None:
    slow = aopay.AsyncClient(registration_id=REG, base_url=sandbox.url, timeout=10.0)

    async def main() -> tuple[str, str, str]:
        task = asyncio.create_task(slow.mobile_recharge(customer_number="9876500200", **KW))
        a = await asyncio.wait_for(slow.mobile_recharge(customer_number="9876500201", **KW), 5.0)
        async with asyncio.timeout(5.0):
            b = await slow.recharge_status(a.reference_id or "")
        try:
            await asyncio.wait_for(slow.mobile_recharge(customer_number="9000000007", **KW), 0.2)
            timed_out = "no"
        except asyncio.TimeoutError:
            timed_out = "yes"
        return (await task).status, b.status, timed_out

    assert run(main()) == ("SUCCESS", "SUCCESS", "yes")


def test_an_awaitable_runs_once(aclient: aopay.AsyncClient, sandbox: aopay.Sandbox) -> None:
    call = aclient.mobile_recharge(customer_number="9876500300", **KW)

    async def twice() -> None:
        await call
        with pytest.raises(RuntimeError):
            await call

    asyncio.run(twice())
    assert sandbox.recharges_for(9876500300) == 1


def test_a_call_never_awaited_sends_nothing_and_warns(aclient: aopay.AsyncClient, sandbox: aopay.Sandbox) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call = aclient.mobile_recharge(customer_number="9876500301", **KW)
        del call
    assert any("never awaited" in str(w.message) for w in caught), caught
    assert sandbox.stats()["requests"]["mobile_recharge"] == 0


def test_a_task_cancelled_before_it_starts_sends_nothing(aclient: aopay.AsyncClient, sandbox: aopay.Sandbox) -> None:
    async def main() -> None:
        task = asyncio.ensure_future(aclient.mobile_recharge(customer_number="9876500302", **KW))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert sandbox.stats()["requests"]["mobile_recharge"] == 0


@pytest.mark.parametrize("how", ["cancel", "wait_for"])
def test_cancelling_a_journaled_recharge_keeps_its_outcome(tmp_path: Path, run: Any, how: str) -> None:
    with aopay.Sandbox(slow_delay=0.5) as sb:
        c = aopay.AsyncClient(registration_id=REG, base_url=sb.url, timeout=5.0, journal=str(tmp_path / "j.db"))
        slow = {"customer_number": "9000000007", "idempotency_key": f"order-{how}", **KW}

        async def abandon() -> None:
            if how == "cancel":
                task = asyncio.ensure_future(c.mobile_recharge(**slow))
                await asyncio.sleep(0.1)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            else:
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(c.mobile_recharge(**slow), 0.1)

        run(abandon())

        async def settle() -> aopay.Recharge:
            # The call finishes in the background and records its outcome.
            for _ in range(100):
                if not await c.journal_pending():
                    break
                await asyncio.sleep(0.05)
            assert await c.journal_pending() == []
            return await c.mobile_recharge(**slow)

        assert run(settle()).status == "SUCCESS"
        assert sb.recharges_for(9000000007) == 1


# pytest-asyncio gives each test its own loop: one client serves them all.
_SHARED: dict[str, aopay.AsyncClient] = {}


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[aopay.Sandbox]:
    with aopay.Sandbox() as sb:
        _SHARED["client"] = aopay.AsyncClient(registration_id=REG, base_url=sb.url)
        yield sb


@pytest.mark.parametrize("i", range(3))
async def test_one_client_across_pytest_asyncio_loops(shared_sandbox: aopay.Sandbox, i: int) -> None:
    r = await _SHARED["client"].mobile_recharge(customer_number=f"98765004{i:02d}", **KW)
    assert r.status == "SUCCESS"

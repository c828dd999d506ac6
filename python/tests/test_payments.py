"""The referenced writes from Python, end to end against the sandbox: a bill
fetched, shown, paid and waited for; a bill paid in another "request" from
what was stored; unknown outcomes resolved by the reference; exact money;
the journal (SQLite and PostgreSQL) paying each key once."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest

import aopay
from conftest import REG
from test_journal import journal  # noqa: F401 - the fixture (SQLite, PostgreSQL, over TLS)

GEO = "27.2232,78.26535"


def test_fetch_show_pay_wait(sandbox: aopay.Sandbox) -> None:
    client = aopay.Client(REG, base_url=sandbox.url)
    bill = client.fetch_bill(operator=11, account="102277100")
    assert (bill.amount, bill.accept_part_pay, bill.account) == (Decimal("820.50"), False, "102277100")
    paid = client.pay_bill(bill, geocode=GEO)
    assert paid.status == "SUCCESS" and paid.is_final and paid.amount is None
    assert paid.reference_id.isdigit() and len(paid.reference_id) == 25
    assert (paid.opening, paid.closing) == (Decimal("10000.00"), Decimal("9179.50"))
    again = client.bill_status(paid.reference_id)
    assert (again.status, again.amount, again.comm, again.tds) == ("SUCCESS", Decimal("820.50"), Decimal("2.05"), Decimal("0.10"))
    assert client.wait_for_final(paid) == again
    stats = sandbox.stats()
    assert (stats["requests"]["fetch_bill"], stats["requests"]["pay_bill"], stats["requests"]["bill_status"]) == (1, 1, 2)


def test_a_bill_stored_as_json_or_raw_is_paid_in_another_request(sandbox: aopay.Sandbox) -> None:
    client = aopay.Client(REG, base_url=sandbox.url)
    fetched = client.fetch_bill(operator=11, account="9000000202")  # part payment accepted
    stored = json.dumps(fetched.to_dict())  # what a web app keeps between requests
    paid = client.pay_bill(json.loads(stored), amount=Decimal("500.25"), geocode=GEO, reference_id="order-77")
    assert (paid.status, paid.reference_id) == ("SUCCESS", "order-77")
    assert client.bill_status("order-77").amount == Decimal("500.25")
    # Only the raw answer: it does not say which account it is for.
    with pytest.raises(aopay.ValidationError) as info:
        client.pay_bill(fetched.raw, geocode=GEO)
    assert info.value.field == "bill"
    restored = aopay.Bill.from_raw(fetched.raw, operator=11, account="9000000202", mode="online")
    assert restored == fetched
    assert client.pay_bill(restored, amount="1", geocode=GEO).status == "SUCCESS"
    assert sandbox.stats()["requests"]["pay_bill"] == 2


def test_money_is_exact_and_floats_are_refused(sandbox: aopay.Sandbox) -> None:
    client = aopay.Client(REG, base_url=sandbox.url)
    for amount in (Decimal("10"), "10", 10, Decimal("1E+1"), Decimal("10.00")):
        assert client.do_recharge(operator=11, number="9876543210", amount=amount).status == "SUCCESS"
    for amount in (10.0, 10.5, Decimal("NaN"), Decimal("10.001"), True, "ten"):
        with pytest.raises(aopay.ValidationError) as info:
            client.do_recharge(operator=11, number="9876543210", amount=amount)  # type: ignore[arg-type]
        assert info.value.field == "amount", amount
    with pytest.raises(aopay.ValidationError, match="not exact"):
        client.do_recharge(operator=11, number="9876543210", amount=10.0)  # type: ignore[arg-type]
    assert sandbox.stats()["requests"]["do_recharge"] == 5


@pytest.mark.parametrize(
    ("write", "status_call"),
    [("do_recharge", "do_recharge_status"), ("pay_bill", "bill_status"), ("fastag_recharge", "fastag_status")],
)
@pytest.mark.parametrize("account", ["9000000305", "9000000306"])
def test_an_unknown_outcome_is_resolved_by_its_reference(
    sandbox: aopay.Sandbox, write: str, status_call: str, account: str
) -> None:
    client = aopay.Client(REG, base_url=sandbox.url)
    kwargs = _write_kwargs(client, write, account)
    with pytest.raises(aopay.OutcomeUnknownError) as info:
        getattr(client, write)(**kwargs, reference_id=f"lost-{account}")
    e = info.value
    assert e.retry_safe is False and e.reference_id == f"lost-{account}"
    # The answer was lost; the payment was made: its own status call says so.
    found = getattr(client, status_call)(e.reference_id)
    assert (found.status, found.reference_id, found.status_call) == ("SUCCESS", e.reference_id, status_call)
    # A resend with the same reference pays nothing more, and says a
    # payment under it exists: never safe to send again.
    with pytest.raises(aopay.DuplicateReferenceError) as dup:
        getattr(client, write)(**kwargs, reference_id=e.reference_id)
    assert (dup.value.api_code, dup.value.http_status) == (18, 402)
    assert dup.value.reference_id == e.reference_id and dup.value.retry_safe is False
    assert sandbox.stats()["payments"] == 1


def _write_kwargs(client: aopay.Client, write: str, account: str) -> dict[str, Any]:
    if write == "do_recharge":
        return {"operator": 11, "number": account, "amount": 10}
    if write == "pay_bill":
        return {"bill": client.fetch_bill(operator=11, account=account), "geocode": GEO}
    return {"bill": client.fetch_fastag(operator=311, vehicle=account), "amount": 500, "geocode": GEO}


def test_pending_then_success_and_a_refund_are_waited_for(sandbox: aopay.Sandbox) -> None:
    client = aopay.Client(REG, base_url=sandbox.url)
    pending = client.do_recharge(operator=11, number="9000000301", amount=10)
    assert (pending.status, pending.is_final) == ("PENDING", False)
    assert client.wait_for_final(pending, initial_interval=0.01).status == "SUCCESS"
    tag = client.fetch_fastag(operator=311, vehicle="9000000302")
    pending = client.fastag_recharge(tag, amount="150.50", geocode=GEO)
    refunded = client.wait_for_final(pending, 10, initial_interval=0.01)
    assert (refunded.status, refunded.is_final, refunded.refunded) == ("REFUNDED", True, True)
    assert refunded.refund_txn_id and refunded.refunded_at
    with pytest.raises(aopay.ValidationError):
        client.fastag_recharge(tag, amount="99.99", geocode=GEO)  # under the FASTag's minimum


def test_async_payments_on_two_loops(sandbox: aopay.Sandbox) -> None:
    async def main() -> None:
        client = aopay.AsyncClient(REG, base_url=sandbox.url)
        bill = await client.fetch_bill(operator=11, account="9000000301")
        pending = await client.pay_bill(bill, geocode=GEO)
        assert pending.status == "PENDING"
        final = await client.wait_for_final(pending, initial_interval=0.01)
        assert final.status == "SUCCESS" and final.reference_id == pending.reference_id

    asyncio.run(main())
    asyncio.run(main())
    assert sandbox.stats()["requests"]["pay_bill"] == 2


def test_sixteen_threads_one_key_pay_one_bill(sandbox: aopay.Sandbox, journal: Any) -> None:  # noqa: F811
    fetched = aopay.Client(REG, base_url=sandbox.url).fetch_bill(operator=11, account="102277100")
    key = f"order-{uuid.uuid4()}"
    results: list[Any] = []

    def call() -> None:
        c = aopay.Client(REG, base_url=sandbox.url, journal=journal)
        try:
            results.append(c.pay_bill(fetched, geocode=GEO, idempotency_key=key))
        except BaseException as e:  # noqa: BLE001 - asserted below
            results.append(e)

    threads = [threading.Thread(target=call) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, aopay.Payment) for r in results), results
    assert len({r.reference_id for r in results}) == 1
    assert sandbox.stats()["requests"]["pay_bill"] == 1
    c = aopay.Client(REG, base_url=sandbox.url, journal=journal)
    # The same key for another write is a conflict; nothing is sent.
    with pytest.raises(aopay.IdempotencyConflictError):
        c.do_recharge(operator=11, number="9876543210", amount=10, idempotency_key=key)
    assert sandbox.stats()["requests"]["do_recharge"] == 0


def test_a_lost_keyed_payment_is_reconciled_through_its_own_status_call(
    sandbox: aopay.Sandbox, journal: Any  # noqa: F811
) -> None:
    c = aopay.Client(REG, base_url=sandbox.url, journal=journal)
    tag = c.fetch_fastag(operator=311, vehicle="9000000306")  # recorded, then the connection drops
    key = f"tag-{uuid.uuid4()}"
    with pytest.raises(aopay.OutcomeUnknownError) as info:
        c.fastag_recharge(tag, amount=500, geocode=GEO, idempotency_key=key)
    reference = info.value.reference_id
    assert reference
    pending = [e for e in c.journal_pending() if e["key"] == key]
    assert [(e["endpoint"], e["state"], e["reference_id"]) for e in pending] == [("fastag_recharge", "unknown", reference)]
    # The same key again resolves it through FASTag RechargeStatus: no second top-up.
    again = c.fastag_recharge(tag, amount=500, geocode=GEO, idempotency_key=key)
    assert (again.status, again.reference_id) == ("SUCCESS", reference)
    assert sandbox.stats()["requests"]["fastag_recharge"] == 1 and sandbox.stats()["requests"]["fastag_status"] == 1
    assert not [e for e in c.journal_pending() if e["key"] == key]
    assert c.fastag_recharge(tag, amount=500, geocode=GEO, idempotency_key=key) == again

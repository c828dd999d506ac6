"""The generated endpoint methods (aopay._endpoints), sync and async, against
the sandbox over loopback, row by row from testdata/contract.json: the good
call's typed answer, each magic input and what it cost, each bad input
refused with nothing sent."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from decimal import Decimal
from typing import Any

import pytest

import aopay
from aopay import _aopay

from conftest import CONTRACT, REG

ROWS: dict[str, Any] = {k: v for k, v in CONTRACT["endpoints"].items() if k != "about"}
GENERATED = sorted(m for m, e in _aopay.ENDPOINTS.items() if e["generated"])


def test_every_generated_endpoint_has_a_method_and_contract_rows() -> None:
    assert GENERATED == sorted(ROWS)
    for method in GENERATED:
        e = _aopay.ENDPOINTS[method]
        assert callable(getattr(aopay.Client, method))
        assert asyncio.iscoroutinefunction(getattr(aopay.AsyncClient, method))
        answer = getattr(aopay, e["answer"])
        assert [f.name for f in dataclasses.fields(answer)] == e["fields"]


def _bad_rows(method: str) -> list[dict[str, Any]]:
    """The contract's bad inputs of an endpoint, and those its arguments' kinds give (the core's table)."""
    derived = [{"field": a["name"], "override": {a["name"]: v}}
               for a in _aopay.ENDPOINTS[method]["args"] for v in a["bad"]]
    return list(ROWS[method].get("bad", [])) + derived


def _good(client: aopay.Client, method: str) -> dict[str, Any]:
    """A status read's good arguments need its write's reference (the contract's `after`)."""
    rows = ROWS[method]
    good = dict(rows["good"])
    if "after" in rows:
        good["reference_id"] = getattr(client, rows["after"])(**ROWS[rows["after"]]["good"]).reference_id
    return good


def _check_error(e: aopay.AopayError, row: dict[str, Any]) -> None:
    # A read's failure is always safe to repeat; a write's says.
    assert (e.http_status, e.api_code, e.retry_safe) == (row["http_status"], row["api_code"], row.get("retry_safe", True))
    if row.get("reference"):
        assert e.reference_id, row


def _check_answer(method: str, answer: object) -> None:
    e = _aopay.ENDPOINTS[method]
    assert type(answer).__name__ == e["answer"]
    as_dict = getattr(answer, "to_dict")()
    for field, expected in ROWS[method]["answer"].items():
        assert as_dict[field] == expected, field
    assert isinstance(getattr(answer, "raw"), dict)
    assert getattr(answer, "to_dict")()["http_status"] == 200


@pytest.mark.parametrize("method", GENERATED)
def test_good_magic_and_bad_rows_sync(sandbox: aopay.Sandbox, method: str) -> None:
    # The default deadline (30 s), so that a retried read makes every attempt.
    client = aopay.Client(REG, base_url=sandbox.url)
    rows = ROWS[method]
    call = getattr(client, method)
    good = _good(client, method)
    _check_answer(method, call(**good))
    for row in rows["magic"]:
        before = sandbox.stats()["requests"][method]
        if "answer" in row:
            got = call(**{**good, **row["override"]}).to_dict()
            assert {k: got[k] for k in row["answer"]} == row["answer"], row
            assert sandbox.stats()["requests"][method] - before == row["requests"]
            continue
        with pytest.raises(getattr(aopay, row["error"])) as info:
            call(**{**good, **row["override"]})
        _check_error(info.value, row)
        assert sandbox.stats()["requests"][method] - before == row["requests"]
    # A bill to pay or a lone argument goes by position too; the rest by keyword only.
    first = next(iter(inspect.signature(call).parameters.values()))
    if first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
        rest = {k: v for k, v in good.items() if k != first.name}
        assert call(good[first.name], **rest).http_status == 200
    before = sandbox.stats()
    for row in _bad_rows(method):
        with pytest.raises(aopay.ValidationError) as bad:
            call(**{**good, **row["override"]})
        assert bad.value.field == row["field"], row
        assert bad.value.retry_safe is True
    if len(good) > 1:
        with pytest.raises(TypeError):
            call(*good.values())
    assert sandbox.stats() == before, "a refused input reached the sandbox"


@pytest.mark.parametrize("method", GENERATED)
def test_good_magic_and_bad_rows_async(sandbox: aopay.Sandbox, method: str) -> None:
    rows = ROWS[method]

    async def main() -> None:
        client = aopay.AsyncClient(REG, base_url=sandbox.url)
        call = getattr(client, method)
        good = dict(rows["good"])
        if "after" in rows:
            paid = await getattr(client, rows["after"])(**ROWS[rows["after"]]["good"])
            good["reference_id"] = paid.reference_id
        _check_answer(method, await call(**good))
        # Several in flight on one client, on one loop.
        answers = await asyncio.gather(*(call(**good) for _ in range(8)))
        assert len({a.http_status for a in answers}) == 1
        for row in rows["magic"]:
            if "answer" in row:
                got = (await call(**{**good, **row["override"]})).to_dict()
                assert {k: got[k] for k in row["answer"]} == row["answer"], row
                continue
            with pytest.raises(getattr(aopay, row["error"])) as info:
                await call(**{**good, **row["override"]})
            _check_error(info.value, row)
        before = sandbox.stats()
        for row in _bad_rows(method):
            with pytest.raises(aopay.ValidationError) as bad:
                await call(**{**good, **row["override"]})
            assert bad.value.field == row["field"], row
        assert sandbox.stats() == before

    asyncio.run(main())
    # And again on a second loop with the same rows: nothing is bound to the first.
    asyncio.run(main())


def test_a_bill_is_restored_from_its_raw(client: aopay.Client) -> None:
    import json

    bill = client.fetch_bill(operator=11, account="102277100")
    restored = aopay.Bill.from_raw(json.loads(json.dumps(bill.raw)))
    assert restored == bill and restored.amount == Decimal("820.50")
    assert "Sandbox Consumer" not in repr(bill)
    with pytest.raises(aopay.ValidationError):
        aopay.Bill.from_raw([1, 2])  # type: ignore[arg-type]
    with pytest.raises(aopay.ProtocolError):
        aopay.Bill.from_raw({"status": True})


def test_plans_are_typed_all_the_way_down(client: aopay.Client) -> None:
    plans = client.browse_plans(operator="Jio", circle="Delhi NCR")
    first = plans.categories[0].plans[1]
    assert isinstance(first, aopay.Plan) and first.amount == Decimal("666.50")
    assert isinstance(plans.categories, tuple) and plans.categories[1].name == "True 5G Unlimited Plans"


def test_dth_info_answer_is_exact_money_and_hides_personal_data(client: aopay.Client) -> None:
    info = client.dth_info(operator="Jio", number="62638787325776", circle="Delhi NCR")
    assert info.balance == Decimal("245.50") and info.monthly_amount == Decimal("320")
    assert "Sandbox Customer" not in repr(info) and "raw" not in repr(info)
    assert info.customer_name == "Sandbox Customer"
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.plan = "x"  # type: ignore[misc]
    assert info == client.dth_info(operator="Jio", number="62638787325776", circle="Delhi NCR")


def test_a_cancelled_read_stops_and_the_client_stays_usable(sandbox: aopay.Sandbox) -> None:
    async def main() -> None:
        client = aopay.AsyncClient(REG, base_url=sandbox.url)
        # The failed lookup retries with backoff: cancel it part-way.
        task = asyncio.ensure_future(client.dth_info(operator="Jio", number="9000000102", circle="x"))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        info = await client.dth_info(operator="Jio", number="62638787325776", circle="x")
        assert info.http_status == 200

    asyncio.run(main())


@pytest.mark.parametrize("heading", ["### Credentials from a provider", "## 8.", "## 9."])
def test_the_guides_snippets_run(heading: str) -> None:
    import re
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "guide.md").read_text("utf-8")
    section = re.split(r"\n##+ ", guide.split(heading, 1)[1], maxsplit=1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks, f"the guide's {heading!r} section has a Python snippet"
    for code in blocks:
        exec(compile(code, "docs/guide.md", "exec"), {})

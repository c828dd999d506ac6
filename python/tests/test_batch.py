"""Batches from Python, through the built wheel against the sandbox over
loopback: orders from dicts or a file, each paid once (a rerun sends
nothing), bad rows reported with their line and never sent, every option
checked before anything is read or sent, and the async iterator."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

import aopay
from conftest import REG
from test_journal import journal  # noqa: F401 - the fixture (SQLite, PostgreSQL, over TLS)

GEO = "23.6784,76.8764"


def orders(n: int, tag: str) -> list[dict[str, Any]]:
    return [
        {"order_id": f"{tag}-{i}", "product_id": 518, "amount": 10, "customer_number": f"98765{i:05d}"}
        for i in range(n)
    ]


def test_a_batch_pays_each_order_once_and_a_rerun_sends_nothing(sandbox: aopay.Sandbox, journal: Any) -> None:  # noqa: F811
    client = aopay.Client(REG, base_url=sandbox.url, journal=journal)
    tag = uuid.uuid4().hex
    rows = orders(30, tag) + [
        {"order_id": f"{tag}-p", "product_id": 518, "amount": 10, "customer_number": "9000000002"},
        {"order_id": f"{tag}-bad", "product_id": 518, "amount": 10.5, "customer_number": "9876500099"},
        {"order_id": f"{tag}-0", "product_id": 518, "amount": 10, "customer_number": "9876500000"},
        {"order_id": f"{tag}-1", "product_id": 518, "amount": 99, "customer_number": "9876500001"},
        {"product_id": 518},
    ]
    results = {r["line"]: r for r in client.run_batch(rows, geocode=GEO, concurrency=8, create_journal=True)}
    assert len(results) == len(rows)
    for line in range(1, 31):
        assert results[line]["status"] == "SUCCESS", results[line]
        assert results[line]["amount"] == "10.00" and results[line]["is_final"]
    assert results[31]["status"] == "SUCCESS", "followed to its end"
    assert results[32]["status"] == "ValidationError"
    assert results[32]["error"]["field"] == "amount" and "float" in results[32]["error"]["message"]
    assert (results[33]["status"], results[33]["duplicate_of"]) == ("DUPLICATE", 1)
    assert results[34]["status"] == "IdempotencyConflictError"
    assert results[35]["error"]["field"] == "order_id"
    assert sandbox.stats()["requests"]["mobile_recharge"] == 31

    again = list(client.run_batch(rows, geocode=GEO))
    assert sandbox.stats()["requests"]["mobile_recharge"] == 31, "nothing sent again"
    assert {r["line"]: r["reference_id"] for r in again} == {k: v["reference_id"] for k, v in results.items()}


def test_orders_from_a_csv_file(sandbox: aopay.Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,product_id,amount,customer_number\n"
        "a,518,10,9876543210\n"
        "b,518,x,9876543211\n"
        "c,518,20,9000000001\n",
        encoding="utf-8",
    )
    client = aopay.Client(REG, base_url=sandbox.url, journal=str(tmp_path / "j.db"))
    results = sorted(client.run_batch(path, geocode=GEO, create_journal=True), key=lambda r: int(r["line"]))
    assert [(r["line"], r["status"]) for r in results] == [(2, "SUCCESS"), (3, "ValidationError"), (4, "FAILED")]
    assert "product_id" in results[1]["error"]["message"] or "amount" in results[1]["error"]["message"]
    assert sandbox.stats()["requests"]["mobile_recharge"] == 2


def test_every_option_is_checked_before_anything_is_read_or_sent(sandbox: aopay.Sandbox, tmp_path: Path) -> None:
    client = aopay.Client(REG, base_url=sandbox.url, journal=str(tmp_path / "j.db"))
    read: list[int] = []

    def lazy() -> Iterator[dict[str, Any]]:
        read.append(1)
        yield from orders(1, "never")

    for kwargs, field in [
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 2000}, "concurrency"),
        ({"rate": "fast"}, "rate"),
        ({"rate": 0}, "rate"),
        ({"rate": True}, "rate"),
        ({"attempts": 0}, "attempts"),
        ({"wait_timeout": "soon"}, "wait_timeout"),
        ({"wait_timeout": -1}, "wait_timeout"),
        ({"resend_unarrived": "yes"}, "resend_unarrived"),
        ({"resend_unarrived": 1}, "resend_unarrived"),
        ({"create_journal": "yes"}, "create_journal"),
        ({"create_journal": 1}, "create_journal"),
    ]:
        with pytest.raises(aopay.ValidationError) as e:
            client.run_batch(lazy(), **kwargs)
        assert e.value.field == field, kwargs
    with pytest.raises(aopay.ValidationError) as e:
        aopay.Client(REG, base_url=sandbox.url).run_batch(lazy())
    assert e.value.field == "journal"
    # A journal that does not exist: refused unless the batch may create it
    # (a mistyped or deleted journal would pay every order again).
    with pytest.raises(aopay.ValidationError, match="does not exist") as e:
        client.run_batch(lazy())
    assert e.value.field == "journal" and not (tmp_path / "j.db").exists()
    with pytest.raises(aopay.ValidationError) as e:
        client.run_batch(tmp_path / "missing.csv", create_journal=True)
    assert e.value.field == "orders"
    # A file that is not an orders file at all: refused before anything is sent.
    (tmp_path / "semicolons.csv").write_text("order_id;product_id;amount;customer_number\n1;518;10;9876543210\n")
    with pytest.raises(aopay.ValidationError, match="order_id") as e:
        client.run_batch(tmp_path / "semicolons.csv", create_journal=True)
    assert e.value.field == "orders"
    with pytest.raises(aopay.ValidationError):
        client.run_batch(42, create_journal=True)  # type: ignore[arg-type]
    assert read == [] and sandbox.stats()["requests"]["mobile_recharge"] == 0


def test_resend_unarrived_settles_a_write_its_status_call_did_not_see_yet(sandbox: aopay.Sandbox, tmp_path: Path) -> None:
    # 9000000307: recorded, the connection dropped, unknown to the first
    # status check. By default it stays unknown (its next status check
    # would find it); resent under its reference, the reuse refusal proves
    # it arrived and the status call settles it. Paid once either way.
    client = aopay.Client(REG, base_url=sandbox.url, journal=str(tmp_path / "j.db"))
    order = {"order_id": "lag-1", "kind": "do_recharge", "operator": 11, "number": "9000000307", "amount": 10}
    [plain] = client.run_batch([order], create_journal=True)
    assert plain["status"] == "OutcomeUnknownError" and not plain["is_final"], plain
    assert plain["reference_id"], "the unknown carries its reference"
    order2 = {**order, "order_id": "lag-2"}
    [resent] = client.run_batch([order2], resend_unarrived=True)
    assert resent["status"] == "SUCCESS" and resent["is_final"], resent
    assert sandbox.stats()["requests"]["do_recharge"] == 3, "two first sends and one refused resend"


def test_an_iterable_that_raises_ends_the_orders_with_a_row_error(sandbox: aopay.Sandbox, tmp_path: Path) -> None:
    client = aopay.Client(REG, base_url=sandbox.url, journal=str(tmp_path / "j.db"))

    def broken() -> Iterator[Any]:
        yield from orders(2, "ok")
        yield "not a dict"
        raise RuntimeError("the export failed")

    results = sorted(client.run_batch(broken(), geocode=GEO, create_journal=True), key=lambda r: int(r["line"]))
    assert [r["status"] for r in results] == ["SUCCESS", "SUCCESS", "ValidationError", "ValidationError"]
    assert "the export failed" in results[3]["error"]["message"]
    assert sandbox.stats()["requests"]["mobile_recharge"] == 2


def test_the_async_client_yields_results_as_an_async_iterator(sandbox: aopay.Sandbox, tmp_path: Path) -> None:
    async def main() -> list[dict[str, Any]]:
        client = aopay.AsyncClient(REG, base_url=sandbox.url, journal=str(tmp_path / "j.db"))
        return [r async for r in client.run_batch(orders(20, "async"), geocode=GEO, rate="1000/s", create_journal=True)]

    results = asyncio.run(main())
    assert len(results) == 20 and all(r["status"] == "SUCCESS" for r in results)
    assert sandbox.stats()["requests"]["mobile_recharge"] == 20
    # A second event loop, the same journal: nothing is sent again.
    again = asyncio.run(main())
    assert sorted(r["reference_id"] for r in again) == sorted(r["reference_id"] for r in results)
    assert sandbox.stats()["requests"]["mobile_recharge"] == 20


def test_stop_takes_no_new_order(sandbox: aopay.Sandbox, tmp_path: Path) -> None:
    client = aopay.Client(REG, base_url=sandbox.url, journal=str(tmp_path / "j.db"))
    run = client.run_batch(orders(500, "stop"), geocode=GEO, concurrency=2, rate=100, create_journal=True)
    first = next(run)
    run.stop()
    rest = list(run)
    assert first["status"] == "SUCCESS"
    assert 1 + len(rest) < 500, "no new order after stop"
    assert sandbox.stats()["requests"]["mobile_recharge"] == 1 + len(rest)


def test_the_stubs_list_every_batch_option_of_the_core_with_its_default() -> None:
    """run_batch's keywords in the .pyi are the core's batch options, with
    the core's defaults (None where the core has none)."""
    import ast

    stub = Path(aopay.__file__).with_name("_aopay.pyi")
    tree = ast.parse(stub.read_text("utf-8"))
    checked = 0
    for cls in [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name in ("Client", "AsyncClient")]:
        fn = next(f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "run_batch")
        defaults = {a.arg: ast.literal_eval(d) for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults) if d is not None}
        assert set(defaults) == set(aopay._aopay.BATCH_OPTIONS), (cls.name, set(defaults) ^ set(aopay._aopay.BATCH_OPTIONS))
        for name, default in aopay._aopay.BATCH_OPTIONS.items():
            stub_default = defaults[name]
            if default == "":
                assert stub_default is None, (cls.name, name)
            elif isinstance(stub_default, bool):
                assert str(stub_default).lower() == default, (cls.name, name)
            else:
                assert float(stub_default) == float(default), (cls.name, name, stub_default)
        checked += 1
    assert checked == 2


def test_an_unknown_batch_option_is_refused_naming_the_options(sandbox: aopay.Sandbox, tmp_path: Path) -> None:
    client = aopay.Client(REG, sandbox.url, journal=str(tmp_path / "j.db"))
    for bad in ["concurency", "waitTimeoutMs"]:
        with pytest.raises(aopay.ValidationError) as e:
            client.run_batch([], create_journal=True, **{bad: 1})
        assert e.value.field == "options" and "wait_timeout" in str(e.value), bad


def test_the_guide_lists_every_batch_option() -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "guide.md").read_text("utf-8")
    table = guide[guide.index("## 10. Batches"):]
    for name in aopay._aopay.BATCH_OPTIONS:
        assert f"| `{name}` |" in table, name

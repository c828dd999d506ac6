"""Idempotent recharges from Python: the journal on SQLite and PostgreSQL,
plain and over verified TLS (``AOPAY_TEST_POSTGRES`` and
``AOPAY_TEST_POSTGRES_CA``, from scripts/postgres; required under CI)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

import aopay
from conftest import REG, recharge_kwargs

PG = os.environ.get("AOPAY_TEST_POSTGRES")
PG_CA = os.environ.get("AOPAY_TEST_POSTGRES_CA")
if os.environ.get("CI") and not (PG and PG_CA):
    raise RuntimeError("CI must provide AOPAY_TEST_POSTGRES and AOPAY_TEST_POSTGRES_CA")


@pytest.fixture(params=["sqlite", "postgres", "postgres-tls"])
def journal(request: Any, tmp_path: Path) -> Iterator[Any]:
    if request.param == "sqlite":
        yield str(tmp_path / "orders.db")
    elif request.param == "postgres" and PG:
        yield aopay.PostgresJournal(PG)
    elif request.param == "postgres-tls" and PG and PG_CA:
        # The test server's certificate names "localhost".
        host = PG.replace("@127.0.0.1:", "@localhost:")
        yield aopay.PostgresJournal(f"{host}?sslmode=verify-full&sslrootcert={PG_CA}")
    else:
        pytest.skip("AOPAY_TEST_POSTGRES(_CA) unset (run scripts/postgres)")


def key() -> str:
    return f"order-{uuid.uuid4()}"


def test_same_key_sends_once_and_conflicts(sandbox: aopay.Sandbox, journal: Any) -> None:
    c = aopay.Client(registration_id=REG, base_url=sandbox.url, journal=journal)
    k = key()
    first = c.mobile_recharge(**recharge_kwargs(), idempotency_key=k)  # type: ignore[arg-type]
    second = c.mobile_recharge(**recharge_kwargs(), idempotency_key=k)  # type: ignore[arg-type]
    assert first == second and first.status == "SUCCESS"
    assert sandbox.recharges_for(9876543210) == 1
    with pytest.raises(aopay.IdempotencyConflictError) as info:
        c.mobile_recharge(**recharge_kwargs(amount=20), idempotency_key=k)  # type: ignore[arg-type]
    assert info.value.code == "AOPAY_IDEMPOTENCY_CONFLICT" and not info.value.retry_safe
    assert sandbox.stats()["requests"]["mobile_recharge"] == 1


def test_sixteen_threads_one_key(sandbox: aopay.Sandbox, journal: Any) -> None:
    k = key()
    results: list[Any] = []

    def call() -> None:
        c = aopay.Client(registration_id=REG, base_url=sandbox.url, journal=journal)
        try:
            results.append(c.mobile_recharge(**recharge_kwargs(9000000001), idempotency_key=k))  # type: ignore[arg-type]
        except BaseException as e:  # noqa: BLE001 - asserted below
            results.append(e)

    threads = [threading.Thread(target=call) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, aopay.Recharge) for r in results), results
    assert len({r.reference_id for r in results}) == 1
    assert sandbox.recharges_for(9000000001) == 1


def test_sixteen_processes_one_key(sandbox: aopay.Sandbox, journal: Any, tmp_path: Path) -> None:
    spec = journal if isinstance(journal, str) else PG
    script = textwrap.dedent(
        """
        import sys, aopay
        url, spec, k = sys.argv[1:4]
        j = aopay.PostgresJournal(spec) if spec.startswith("postgres") else spec
        c = aopay.Client(registration_id="AOP-554", base_url=url, journal=j)
        r = c.mobile_recharge(product_id=518, amount=10, customer_number="9000000001",
                              geocode="23.6784,76.8764", idempotency_key=k)
        print(r.reference_id)
        """
    )
    k = key()
    procs = [
        subprocess.Popen([sys.executable, "-c", script, sandbox.url, str(spec), k],
                         stdout=subprocess.PIPE, text=True, cwd=tmp_path)
        for _ in range(16)
    ]
    refs = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(refs) == 1 and refs != {""}
    assert sandbox.recharges_for(9000000001) == 1


def test_pending_reconciles_and_lists(sandbox: aopay.Sandbox, journal: Any) -> None:
    c = aopay.Client(registration_id=REG, base_url=sandbox.url, journal=journal)
    k = key()
    r = c.mobile_recharge(**recharge_kwargs(9000000002), idempotency_key=k)  # type: ignore[arg-type]
    assert r.status == "PENDING"
    mine = [e for e in c.journal_pending() if e["key"] == k]
    assert len(mine) == 1 and mine[0]["state"] == "pending"
    assert mine[0]["reference_id"] == r.reference_id
    results = {e["key"]: e for e in c.reconcile_journal()}
    assert results[k]["status"] == "PENDING"  # check 1 of 2
    assert results[k]["error"] is None
    again = c.mobile_recharge(**recharge_kwargs(9000000002), idempotency_key=k)  # type: ignore[arg-type]
    assert again.status == "SUCCESS" and again.reference_id == r.reference_id
    assert not [e for e in c.journal_pending() if e["key"] == k]
    assert sandbox.recharges_for(9000000002) == 1


def test_unknown_outcome_is_never_resent(sandbox: aopay.Sandbox, journal: Any) -> None:
    c = aopay.Client(registration_id=REG, base_url=sandbox.url, journal=journal)
    k = key()
    for _ in range(2):
        with pytest.raises(aopay.OutcomeUnknownError):
            c.mobile_recharge(**recharge_kwargs(9000000008), idempotency_key=k)  # type: ignore[arg-type]
    assert sandbox.recharges_for(9000000008) == 1


async def test_async_client_uses_the_journal(sandbox: aopay.Sandbox, journal: Any) -> None:
    c = aopay.AsyncClient(registration_id=REG, base_url=sandbox.url, journal=journal)
    k = key()
    results = await asyncio.gather(
        *[c.mobile_recharge(**recharge_kwargs(9000000001), idempotency_key=k) for _ in range(16)]  # type: ignore[arg-type]
    )
    assert len({r.reference_id for r in results}) == 1
    assert sandbox.recharges_for(9000000001) == 1
    pending = await c.journal_pending()
    assert isinstance(pending, list)
    assert isinstance(await c.reconcile_journal(), list)


def test_bad_journals_and_keys(sandbox: aopay.Sandbox, tmp_path: Path) -> None:
    for bad in ["/nonexistent-aopay-dir/x.db", str(tmp_path)]:
        with pytest.raises(aopay.JournalError):
            aopay.Client(registration_id=REG, base_url=sandbox.url, journal=bad)
        with pytest.raises(aopay.JournalError):
            aopay.SqliteJournal(bad)
    with pytest.raises(aopay.JournalError):
        aopay.PostgresJournal("postgres://u@h:notaport/db")
    with pytest.raises(aopay.ValidationError) as info:
        aopay.Client(registration_id=REG, base_url=sandbox.url, journal=42)  # type: ignore[arg-type]
    assert info.value.field == "journal"
    unreachable = aopay.PostgresJournal("postgres://u@127.0.0.1:1/db")
    assert "password" not in repr(aopay.PostgresJournal("postgres://u:password@127.0.0.1:1/db"))
    c = aopay.Client(registration_id=REG, base_url=sandbox.url, journal=unreachable)
    with pytest.raises(aopay.JournalError):
        c.mobile_recharge(**recharge_kwargs(), idempotency_key="k1")  # type: ignore[arg-type]
    plain = aopay.Client(registration_id=REG, base_url=sandbox.url)
    with pytest.raises(aopay.ValidationError) as info:
        plain.mobile_recharge(**recharge_kwargs(), idempotency_key="k1")  # type: ignore[arg-type]
    assert info.value.field == "idempotency_key"
    c2 = aopay.Client(registration_id=REG, base_url=sandbox.url, journal=tmp_path / "j.db")
    for bad_key in ["", "x" * 129, "a\nb"]:
        with pytest.raises(aopay.ValidationError) as info:
            c2.mobile_recharge(**recharge_kwargs(), idempotency_key=bad_key)  # type: ignore[arg-type]
        assert info.value.field == "idempotency_key"
    assert sandbox.stats()["requests"]["mobile_recharge"] == 0


@pytest.mark.skipif(not (PG and PG_CA), reason="AOPAY_TEST_POSTGRES(_CA) unset")
def test_untrusted_tls_journal_fails_and_sends_nothing(sandbox: aopay.Sandbox) -> None:
    assert PG
    host = PG.replace("@127.0.0.1:", "@localhost:")
    c = aopay.Client(
        registration_id=REG,
        base_url=sandbox.url,
        journal=aopay.PostgresJournal(f"{host}?sslmode=require"),
    )
    with pytest.raises(aopay.JournalError) as info:
        c.mobile_recharge(**recharge_kwargs(), idempotency_key=key())  # type: ignore[arg-type]
    assert "UnknownIssuer" in str(info.value) and info.value.retry_safe
    with pytest.raises(aopay.JournalError, match="sslmode"):
        aopay.PostgresJournal(f"{host}?sslmode=sometimes")
    assert sandbox.stats()["requests"]["mobile_recharge"] == 0


def test_a_journal_is_whole_in_its_file_at_interpreter_exit(sandbox: aopay.Sandbox, tmp_path: Path) -> None:
    """A client never deleted keeps its journal open; at exit the .db file
    alone must still hold every entry (a backup copies it alone)."""
    import sqlite3

    journal = tmp_path / "j.db"
    script = (
        "import aopay\n"
        f"c = aopay.Client('AOP-554', base_url={sandbox.url!r}, journal={str(journal)!r})\n"
        "c.do_recharge(operator=11, number='9876500041', amount=10, idempotency_key='kept')\n"
        "GLOBAL = c  # never deleted\n"
    )
    # Run elsewhere: the source tree's aopay (no extension) must not shadow the installed one.
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60, cwd=tmp_path)
    copy = tmp_path / "copy.db"
    copy.write_bytes(journal.read_bytes())
    with sqlite3.connect(copy) as db:
        rows = db.execute("SELECT key, state FROM aopay_journal").fetchall()
    assert rows == [("kept", "final")], rows


def test_clients_close_as_python_closes_things(sandbox: aopay.Sandbox, tmp_path: Path) -> None:
    """with / close() and async with / aclose(): a closed client takes no new
    call (nothing sent) and leaves its journal whole in its .db file."""
    import sqlite3

    journal = tmp_path / "closed.db"
    with aopay.Client(REG, base_url=sandbox.url, journal=str(journal)) as client:
        client.do_recharge(operator=11, number="9876500061", amount=10, idempotency_key="c1")
    with pytest.raises(aopay.ValidationError) as info:
        client.do_recharge(operator=11, number="9876500062", amount=10)
    assert info.value.field == "client" and info.value.retry_safe
    client.close()  # twice is once
    copy = tmp_path / "copy.db"
    copy.write_bytes(journal.read_bytes())
    with sqlite3.connect(copy) as db:
        assert db.execute("SELECT key FROM aopay_journal").fetchall() == [("c1",)]

    async def main() -> None:
        async with aopay.AsyncClient(REG, base_url=sandbox.url) as aclient:
            paid = await aclient.do_recharge(operator=11, number="9876500063", amount=10)
            assert paid.status == "SUCCESS"
        with pytest.raises(aopay.ValidationError):
            await aclient.do_recharge(operator=11, number="9876500064", amount=10)
        await aclient.aclose()

    asyncio.run(main())
    assert sandbox.stats()["requests"]["do_recharge"] == 2


def test_entries_are_settled_and_released_by_hand(
    sandbox: aopay.Sandbox, journal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown MobileRecharge (its answer lost: no reference to check),
    settled by what the statement shows, is final and never sent again; one
    released is sent by the next call; both kept with who and why; a final
    entry, a missing one, a wrong status and an empty note are refused."""
    monkeypatch.setenv("AOPAY_ACTOR", "ops-py")
    c = aopay.Client(registration_id=REG, base_url=sandbox.url, journal=journal)
    k1, k2 = key(), key()
    before = sandbox.recharges_for(9000000008)
    for k in (k1, k2):
        with pytest.raises(aopay.OutcomeUnknownError):
            c.mobile_recharge(**recharge_kwargs(9000000008), idempotency_key=k)  # type: ignore[arg-type]
    settled = c.journal_settle(k1, status="success", note="statement line 14")
    assert (settled["state"], settled["status"], settled["released"]) == ("final", "SUCCESS", False)
    again = c.mobile_recharge(**recharge_kwargs(9000000008), idempotency_key=k1)  # type: ignore[arg-type]
    assert again.status == "SUCCESS"
    assert sandbox.recharges_for(9000000008) == before + 2, "not sent again"
    for call, field in [
        (lambda: c.journal_settle(k1, status="FAILED", note="again"), "key"),
        (lambda: c.journal_settle("no-such-key", status="FAILED", note="x"), "key"),
        (lambda: c.journal_settle(k2, status="REFUNDED", note="x"), "status"),
        (lambda: c.journal_release(k2, note=" "), "note"),
        # Wrong types: the same checks as every surface, never a TypeError.
        (lambda: c.journal_settle(k2, status=1, note="x"), "status"),  # type: ignore[arg-type]
        (lambda: c.journal_settle(k2, status="FAILED", note=None), "note"),  # type: ignore[arg-type]
        (lambda: c.journal_release(42, note="x"), "key"),  # type: ignore[arg-type]
        (lambda: c.journal_audit(["k"]), "key"),  # type: ignore[arg-type]
    ]:
        with pytest.raises(aopay.ValidationError) as info:
            call()
        assert info.value.field == field, info.value
    released = c.journal_release(k2, note="not on the statement")
    assert (released["key"], released["state"], released["released"]) == (k2, "unknown", True)
    with pytest.raises(aopay.OutcomeUnknownError):
        c.mobile_recharge(**recharge_kwargs(9000000008), idempotency_key=k2)  # type: ignore[arg-type]
    assert sandbox.recharges_for(9000000008) == before + 3, "sent once more"
    [record] = c.journal_audit(k1)
    assert (record["action"], record["status"], record["note"], record["actor"]) == (
        "settle",
        "SUCCESS",
        "statement line 14",
        "ops-py",
    )
    assert [r["action"] for r in c.journal_audit(k2)] == ["release"]


async def test_entries_are_settled_by_hand_from_asyncio(
    sandbox: aopay.Sandbox, journal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AOPAY_ACTOR", "ops-async")
    c = aopay.AsyncClient(registration_id=REG, base_url=sandbox.url, journal=journal)
    k1, k2 = key(), key()
    for k in (k1, k2):
        with pytest.raises(aopay.OutcomeUnknownError):
            await c.mobile_recharge(**recharge_kwargs(9000000008), idempotency_key=k)  # type: ignore[arg-type]
    assert (await c.journal_settle(k1, status="FAILED", note="refunded to wallet, line 3"))["status"] == "FAILED"
    assert (await c.journal_release(k2, note="absent from the statement"))["released"] is True
    assert [r["actor"] for r in await c.journal_audit(k1)] == ["ops-async"]
    with pytest.raises(aopay.ValidationError):
        await c.journal_release(k1, note="final already")

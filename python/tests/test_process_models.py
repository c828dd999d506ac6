"""Fork: after the parent has used its clients, forked children (os.fork, a
multiprocessing fork pool, gunicorn --preload workers) get their own
connections and runtimes. No call hangs past its deadline, and no answer
reaches the wrong process: each child recharges its own numbers and checks
the reference it got against the sandbox's record of that number."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Optional

import pytest

import aopay
from conftest import GEO, REG

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")

KW: dict[str, Any] = {"product_id": 518, "amount": 10, "geocode": GEO}
CHILD_DEADLINE = 15  # seconds; each call's own timeout is 5 s


def masked(number: int) -> str:
    s = str(number)
    return s[:2] + "X" * (len(s) - 4) + s[-2:]


def assert_answer_is_for(sandbox: aopay.Sandbox, number: int, reference: Optional[str]) -> None:
    """The sandbox received `number` once, and `reference` is that recharge."""
    assert sandbox.recharges_for(number) == 1, number
    assert reference is not None
    checker = aopay.Client(registration_id=REG, base_url=sandbox.url, timeout=5.0)
    r = checker.recharge_status(reference)
    assert masked(number) in (r.message or ""), (number, reference, r.message)


def fork_child(work: Any) -> dict[str, Any]:
    """Run `work()` in a forked child under an alarm; return what it returned."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read)
        signal.alarm(CHILD_DEADLINE)
        try:
            result = {"ok": work()}
        except BaseException as e:  # noqa: BLE001
            result = {"error": f"{type(e).__name__}: {e}"}
        os.write(write, json.dumps(result).encode())
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status), f"child killed by signal {os.WTERMSIG(status)} (hung past {CHILD_DEADLINE} s?)"
    out: dict[str, Any] = json.loads(b"".join(chunks) or b"{}")
    assert "error" not in out, out
    return out


def test_os_fork_after_async_and_sync_calls(sandbox: aopay.Sandbox) -> None:
    inherited_async = aopay.AsyncClient(registration_id=REG, base_url=sandbox.url, timeout=5.0)
    inherited_sync = aopay.Client(registration_id=REG, base_url=sandbox.url, timeout=5.0)
    # Warm-ups: pooled connections and runtimes now exist in the parent.
    asyncio.run(inherited_async.mobile_recharge(customer_number="9876500001", **KW))
    inherited_sync.mobile_recharge(customer_number="9876500002", **KW)

    def child() -> dict[str, Any]:
        fresh_async = aopay.AsyncClient(registration_id=REG, base_url=sandbox.url, timeout=5.0)
        got: dict[str, Any] = {}
        got["9876500011"] = asyncio.run(inherited_async.mobile_recharge(customer_number="9876500011", **KW)).reference_id
        got["9876500012"] = asyncio.run(fresh_async.mobile_recharge(customer_number="9876500012", **KW)).reference_id
        got["9876500013"] = inherited_sync.mobile_recharge(customer_number="9876500013", **KW).reference_id
        with aopay.Sandbox() as own:  # a sandbox started in the child works
            c = aopay.Client(registration_id=REG, base_url=own.url, timeout=5.0)
            got["own"] = c.mobile_recharge(customer_number="9876500014", **KW).status
            got["own_received"] = own.recharges_for(9876500014)
        try:
            sandbox.stats()  # the parent's sandbox: served by the parent only
            got["inherited_sandbox"] = "usable"
        except RuntimeError as e:
            got["inherited_sandbox"] = str(e)
        return got

    got = fork_child(child)["ok"]
    for number in (9876500011, 9876500012, 9876500013):
        assert_answer_is_for(sandbox, number, got[str(number)])
    assert got["own"] == "SUCCESS" and got["own_received"] == 1
    assert "forked child" in got["inherited_sandbox"]
    # The parent's own clients still work after its child used their copies.
    assert inherited_sync.mobile_recharge(customer_number="9876500003", **KW).status == "SUCCESS"
    assert asyncio.run(inherited_async.mobile_recharge(customer_number="9876500004", **KW)).status == "SUCCESS"


def test_a_forked_child_reopens_the_journal(sandbox: aopay.Sandbox, tmp_path: Path) -> None:
    journal = str(tmp_path / "orders.db")
    c = aopay.Client(registration_id=REG, base_url=sandbox.url, journal=journal, timeout=5.0)
    c.mobile_recharge(customer_number="9876500021", idempotency_key="parent-1", **KW)

    def child() -> Any:
        r = c.mobile_recharge(customer_number="9876500022", idempotency_key="child-1", **KW)
        again = c.mobile_recharge(customer_number="9876500021", idempotency_key="parent-1", **KW)
        return [r.reference_id, again.status]

    reference, replayed = fork_child(child)["ok"]
    assert replayed == "SUCCESS"  # the parent's entry, read through the child's own connection
    assert_answer_is_for(sandbox, 9876500022, reference)
    assert sandbox.recharges_for(9876500021) == 1
    assert c.mobile_recharge(customer_number="9876500022", idempotency_key="child-1", **KW).status == "SUCCESS"
    assert sandbox.recharges_for(9876500022) == 1


_POOL_CLIENT: Optional[aopay.Client] = None


def _pool_recharge(number: int) -> tuple[int, Optional[str], str]:
    assert _POOL_CLIENT is not None
    r = _POOL_CLIENT.mobile_recharge(customer_number=str(number), **KW)
    return number, r.reference_id, r.status


def test_multiprocessing_fork_pool_with_an_inherited_client(sandbox: aopay.Sandbox) -> None:
    global _POOL_CLIENT
    _POOL_CLIENT = aopay.Client(registration_id=REG, base_url=sandbox.url, timeout=5.0)
    _POOL_CLIENT.mobile_recharge(customer_number="9876500030", **KW)  # a pooled socket now exists
    numbers = [9876500031 + i for i in range(8)]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map_async(_pool_recharge, numbers).get(timeout=60)
    for number, reference, status in results:
        assert status == "SUCCESS"
        assert_answer_is_for(sandbox, number, reference)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gunicorn_preload_workers(sandbox: aopay.Sandbox) -> None:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    if not gunicorn.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install gunicorn")
        pytest.skip("gunicorn not installed")
    port = _free_port()
    env = {**os.environ, "AOPAY_TEST_URL": sandbox.url}
    server = subprocess.Popen(
        [str(gunicorn), "--preload", "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "30",
         "--chdir", str(Path(__file__).parent), "gunicorn_app:app"],
        # From the tests folder: gunicorn puts its folder on sys.path, and
        # python/ holds the package's sources without the built module.
        env=env, cwd=Path(__file__).parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.communicate()[0].decode()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        answers = []
        for i in range(12):
            mode = "sync" if i % 2 else "async"
            number = 9876500100 + i
            url = f"http://127.0.0.1:{port}/?mode={mode}&number={number}"
            with urllib.request.urlopen(url, timeout=15) as resp:
                answers.append((number, json.loads(resp.read())))
        for number, a in answers:
            assert a["status"] == "SUCCESS", a
            assert a["pid"] != server.pid
            assert_answer_is_for(sandbox, number, a["reference_id"])
        # Both warm-ups ran once, in the master, before the fork.
        assert sandbox.recharges_for(9876509990) == 1
        assert sandbox.recharges_for(9876509991) == 1
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            pytest.fail("gunicorn did not stop")

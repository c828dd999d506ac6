"""The fault run from Python: N recharges (sync: threads; async: tasks), 16
in flight, through the fault proxy that `fault_harness` starts with its own
sandbox; the harness checks every outcome with the Rust run's rules.
SCENARIO `idle` or `nginx`: the idle keep-alive runs (no faults; a proxy or
nginx closes idle connections): 4 workers, each with one client for all its
calls, pausing 75-1475 ms between them (never within 25 ms of a close); every call must succeed.
SCENARIO `payments`: the referenced writes (do_recharge, pay_bill,
fastag_recharge in turn) through the faults; every error must carry its
reference.
Usage: faults.py HARNESS sync|async [N] [SEED] [faults|idle|nginx|payments]"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import threading
import time

import aopay

HARNESS, MODE = sys.argv[1], sys.argv[2]
N = sys.argv[3] if len(sys.argv) > 3 else "2000"
SEED = sys.argv[4] if len(sys.argv) > 4 else "24302"
SCENARIO = sys.argv[5] if len(sys.argv) > 5 else "faults"
PAYMENTS = SCENARIO == "payments"
IDLE = SCENARIO not in ("faults", "payments")
GEO = "27.2232,78.26535"
IN_FLIGHT = 4 if IDLE else 16
KW = dict(product_id=518, amount=10, geocode="23.6784,76.8764")

harness = subprocess.Popen(
    [HARNESS, N, SEED, f"Python {MODE}", str(IN_FLIGHT), SCENARIO],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
)
assert harness.stdout is not None and harness.stdin is not None
plan = json.loads(harness.stdout.readline())
timeout = plan["timeout_ms"] / 1000
lines: list[str] = []
lock = threading.Lock()
PAUSES = [ms / 1000 for ms in plan["pauses_ms"]]  # never within 25 ms of a close


def record(number: int, started: float, result: object) -> None:
    """`result`: the Recharge, or the exception the call raised."""
    if isinstance(result, aopay.AopayError):
        outcome, safe = type(result).__name__, json.dumps(result.retry_safe)
        if PAYMENTS and not result.reference_id:
            outcome += " without a reference"
    elif isinstance(result, BaseException):  # anything else is a violation to report
        outcome, safe = f"unexpected {type(result).__name__}: {result}", "null"
    else:
        outcome, safe = f"{type(result).__name__} {getattr(result, 'status')}", "null"
    elapsed = (time.monotonic() - started) * 1000
    with lock:
        lines.append(f"[{number},{json.dumps(outcome)},{safe},{elapsed:.1f}]")


def bill(number: int, fastag: bool) -> dict[str, object]:
    """A fetched bill's JSON (the run sends only the payments)."""
    fetch: dict[str, object] = (
        {"billAmount": "0", "acceptPayment": True, "acceptPartPay": True, "minBillAmount": "100.00", "maxBillAmount": "10000.00"}
        if fastag else {"billAmount": "820.50", "acceptPayment": True, "acceptPartPay": False}
    )
    return {"operator": 311 if fastag else 11, "account": str(number), "mode": "online",
            "raw": {"status": True, "amount": fetch["billAmount"], "bill_fetch": fetch}}


def call(client: object, number: int) -> object:
    """The call for `number`: a recharge, or (payments) one of the three writes in turn."""
    if not PAYMENTS:
        return getattr(client, "mobile_recharge")(customer_number=number, **KW)
    kind = number % 3
    if kind == 0:
        return getattr(client, "do_recharge")(operator=11, number=str(number), amount=10)
    if kind == 1:
        return getattr(client, "pay_bill")(bill(number, False), geocode=GEO)
    return getattr(client, "fastag_recharge")(bill(number, True), amount=500, geocode=GEO)


def base_url(use_proxy: bool) -> str:
    return plan["proxy"] if use_proxy else plan["refused"]


def run_sync() -> None:
    queue = list(plan["calls"])

    def worker() -> None:
        shared = aopay.Client("AOP-554", base_url=plan["proxy"], timeout=timeout)
        while True:
            with lock:
                if not queue:
                    return
                number, use_proxy = queue.pop()
            # Faults: a fresh client per call (one connection, so one fault,
            # per call). Idle: one client, whose pooled connection the server
            # closes while the worker pauses.
            client = shared if IDLE else aopay.Client(
                "AOP-554", base_url=base_url(use_proxy), timeout=timeout
            )
            started = time.monotonic()
            try:
                result: object = call(client, number)
            except BaseException as e:  # noqa: BLE001
                result = e
            record(number, started, result)
            if IDLE:
                time.sleep(random.choice(PAUSES))

    threads = [threading.Thread(target=worker) for _ in range(IN_FLIGHT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


async def run_async() -> None:
    queue = list(plan["calls"])

    async def worker() -> None:
        shared = aopay.AsyncClient("AOP-554", base_url=plan["proxy"], timeout=timeout)
        while queue:
            number, use_proxy = queue.pop()
            client = shared if IDLE else aopay.AsyncClient(
                "AOP-554", base_url=base_url(use_proxy), timeout=timeout
            )
            started = time.monotonic()
            try:
                result: object = await call(client, number)  # type: ignore[misc]
            except BaseException as e:  # noqa: BLE001
                result = e
            record(number, started, result)
            if IDLE:
                await asyncio.sleep(random.choice(PAUSES))

    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))


if MODE == "sync":
    run_sync()
else:
    asyncio.run(run_async())
harness.stdin.write("\n".join(lines) + "\n")
harness.stdin.close()
print(harness.stdout.read(), end="", flush=True)
sys.exit(harness.wait())

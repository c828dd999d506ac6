"""The fault run from Python: N recharges (sync: threads; async: tasks), 16
in flight, through the fault proxy that `fault_harness` starts with its own
sandbox; the harness checks every outcome with the Rust run's rules.
SCENARIO `idle` or `nginx`: the idle keep-alive runs (no faults; a proxy or
nginx closes idle connections): 4 workers, each with one client for all its
calls, pausing 75-1475 ms between them (never within 25 ms of a close); every call must succeed.
Usage: faults.py HARNESS sync|async [N] [SEED] [faults|idle|nginx]"""

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
IDLE = SCENARIO != "faults"
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
    elif isinstance(result, BaseException):  # anything else is a violation to report
        outcome, safe = f"unexpected {type(result).__name__}: {result}", "null"
    else:
        outcome, safe = f"Recharge {getattr(result, 'status')}", "null"
    elapsed = (time.monotonic() - started) * 1000
    with lock:
        lines.append(f"[{number},{json.dumps(outcome)},{safe},{elapsed:.1f}]")


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
                result: object = client.mobile_recharge(customer_number=number, **KW)
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
                result: object = await client.mobile_recharge(customer_number=number, **KW)
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

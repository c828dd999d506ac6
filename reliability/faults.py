"""The fault run from Python: N recharges (sync: threads; async: tasks), 16
in flight, through the fault proxy that `fault_harness` starts with its own
sandbox; the harness checks every outcome with the Rust run's rules.
Usage: faults.py HARNESS sync|async [N] [SEED]"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time

import aopay

HARNESS, MODE = sys.argv[1], sys.argv[2]
N = sys.argv[3] if len(sys.argv) > 3 else "2000"
SEED = sys.argv[4] if len(sys.argv) > 4 else "24302"
IN_FLIGHT = 16
KW = dict(product_id=518, amount=10, geocode="23.6784,76.8764")

harness = subprocess.Popen(
    [HARNESS, N, SEED, f"Python {MODE}", str(IN_FLIGHT)],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
)
assert harness.stdout is not None and harness.stdin is not None
plan = json.loads(harness.stdout.readline())
timeout = plan["timeout_ms"] / 1000
lines: list[str] = []
lock = threading.Lock()


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
        while True:
            with lock:
                if not queue:
                    return
                number, use_proxy = queue.pop()
            # A fresh client per call: one connection, so one fault, per call.
            client = aopay.Client("AOP-554", base_url=base_url(use_proxy), timeout=timeout)
            started = time.monotonic()
            try:
                result: object = client.mobile_recharge(customer_number=number, **KW)
            except BaseException as e:  # noqa: BLE001
                result = e
            record(number, started, result)

    threads = [threading.Thread(target=worker) for _ in range(IN_FLIGHT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


async def run_async() -> None:
    queue = list(plan["calls"])

    async def worker() -> None:
        while queue:
            number, use_proxy = queue.pop()
            client = aopay.AsyncClient("AOP-554", base_url=base_url(use_proxy), timeout=timeout)
            started = time.monotonic()
            try:
                result: object = await client.mobile_recharge(customer_number=number, **KW)
            except BaseException as e:  # noqa: BLE001
                result = e
            record(number, started, result)

    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))


if MODE == "sync":
    run_sync()
else:
    asyncio.run(run_async())
harness.stdin.write("\n".join(lines) + "\n")
harness.stdin.close()
print(harness.stdout.read(), end="", flush=True)
sys.exit(harness.wait())

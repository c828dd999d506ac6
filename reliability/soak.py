"""Python soak: N calls (sync, then async with 16 in flight) against a
sandbox in another process; RSS, descriptors and threads after a warm-up of
10,000 calls and at the end. Usage: soak.py SANDBOX_URL [N]"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import aopay

URL = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
KW = dict(product_id=518, amount=10, geocode="23.6784,76.8764")


def snapshot() -> tuple[int, int, int]:
    with open("/proc/self/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return rss, len(os.listdir("/proc/self/fd")), len(os.listdir("/proc/self/task"))


def report(name: str, before: tuple[int, int, int], warm: tuple[int, int, int], end: tuple[int, int, int], failed: int) -> None:
    print(
        f"{name}: {N} calls, {failed} failed; RSS {before[0]} KiB before, {warm[0]} KiB after warm-up, "
        f"{end[0]} KiB at the end (growth {end[0] - warm[0]} KiB); fds {before[1]} → {warm[1]} → {end[1]}; "
        f"threads {before[2]} → {warm[2]} → {end[2]}",
        flush=True,
    )


def settled() -> tuple[int, int, int]:
    """A snapshot once the runtime has closed a dropped client's pooled
    connections (that happens on its worker threads, a moment later)."""
    last = snapshot()
    for _ in range(40):
        time.sleep(0.05)
        now = snapshot()
        if now[1] == last[1]:
            return now
        last = now
    return last


def sync_soak() -> None:
    before = snapshot()
    c = aopay.Client(registration_id="AOP-554", base_url=URL)
    failed = 0
    for i in range(N):
        if i == 10_000:
            warm = snapshot()
        try:
            c.mobile_recharge(customer_number=str(7_400_000_000 + i), **KW)  # type: ignore[arg-type]
        except aopay.AopayError:
            failed += 1
    del c
    report("python sync soak", before, warm, settled(), failed)


async def async_soak() -> None:
    before = snapshot()
    c = aopay.AsyncClient(registration_id="AOP-554", base_url=URL)
    failed = 0
    counter = iter(range(N))
    warm: tuple[int, int, int] = before

    async def worker() -> None:
        nonlocal failed, warm
        for i in counter:
            if i == 10_000:
                warm = snapshot()
            try:
                await c.mobile_recharge(customer_number=str(7_500_000_000 + i), **KW)  # type: ignore[arg-type]
            except aopay.AopayError:
                failed += 1

    await asyncio.gather(*[worker() for _ in range(16)])
    del c
    await asyncio.sleep(0)
    report("python async soak", before, warm, settled(), failed)


sync_soak()
asyncio.run(async_soak())

"""Python side of the benchmark: aopay against requests, httpx and aiohttp.

Usage: python_bench.py URL SECONDS RUNS  → one JSON line per measurement.
Every client posts the same recharge and parses the JSON answer.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any, Awaitable, Callable

URL, SECONDS, RUNS = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
ENDPOINT = URL + "/api/AOP/V2/MobileRecharge"
BODY = {"RegistrationID": "AOP-554", "ProductID": 518, "Amount": 10,
        "Geocode": "23.6784,76.8764", "CustomerNumber": 9876543210}
KW = dict(product_id=518, amount=10, customer_number="9876543210", geocode="23.6784,76.8764")
IN_FLIGHT = 64
# What the "+on_call" clients' hook does: count by endpoint and outcome, as
# a metrics exporter would.
COUNTS: dict[tuple[str, str], int] = {}


def count(event: Any) -> None:
    key = (event.endpoint, event.outcome)
    COUNTS[key] = COUNTS.get(key, 0) + 1


def seq(call: Callable[[], Any], seconds: float) -> float:
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        call()
        n += 1
    return n / (time.perf_counter() - start)


async def conc(call: Callable[[], Awaitable[Any]], seconds: float) -> float:
    n = 0
    start = time.perf_counter()
    deadline = start + seconds

    async def worker() -> None:
        nonlocal n
        while time.perf_counter() < deadline:
            await call()
            n += 1

    await asyncio.gather(*[worker() for _ in range(IN_FLIGHT)])
    return n / (time.perf_counter() - start)


def emit(client: str, mode: str, cps: float) -> None:
    print(json.dumps({"client": client, "mode": mode, "calls_per_sec": round(cps, 1)}), flush=True)


def sync_clients() -> dict[str, Callable[[], Any]]:
    import aopay
    import httpx
    import requests

    a = aopay.Client(registration_id="AOP-554", base_url=URL)
    observed = aopay.Client(registration_id="AOP-554", base_url=URL, on_call=count)
    s = requests.Session()
    h = httpx.Client()
    return {
        "aopay.Client": lambda: a.mobile_recharge(**KW),  # type: ignore[arg-type]
        "aopay.Client+on_call": lambda: observed.mobile_recharge(**KW),  # type: ignore[arg-type]
        "requests.Session": lambda: s.post(ENDPOINT, json=BODY).json(),
        "httpx.Client": lambda: h.post(ENDPOINT, json=BODY).json(),
    }


async def async_run() -> None:
    import aiohttp
    import httpx

    import aopay

    a = aopay.AsyncClient(registration_id="AOP-554", base_url=URL)
    observed = aopay.AsyncClient(registration_id="AOP-554", base_url=URL, on_call=count)
    h = httpx.AsyncClient(limits=httpx.Limits(max_connections=IN_FLIGHT))
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=IN_FLIGHT))

    async def aio() -> Any:
        async with session.post(ENDPOINT, json=BODY) as r:
            return await r.json()

    async def hx() -> Any:
        return (await h.post(ENDPOINT, json=BODY)).json()

    clients: dict[str, Callable[[], Awaitable[Any]]] = {
        "aopay.AsyncClient": lambda: a.mobile_recharge(**KW),  # type: ignore[arg-type]
        "aopay.AsyncClient+on_call": lambda: observed.mobile_recharge(**KW),  # type: ignore[arg-type]
        "aiohttp": aio,
        # httpx's async pool is slow under concurrency (encode/httpx#3215): a short run suffices.
        "httpx.AsyncClient": hx,
    }
    for call in clients.values():
        await conc(call, 0.3)
    for _ in range(RUNS):
        for name, call in clients.items():
            emit(name, "c64", await conc(call, SECONDS))
    await session.close()
    await h.aclose()


def main() -> None:
    clients = sync_clients()
    for call in clients.values():
        seq(call, 0.3)
    for _ in range(RUNS):
        for name, call in clients.items():
            emit(name, "seq", seq(call, SECONDS))
    asyncio.run(async_run())


if __name__ == "__main__":
    main()

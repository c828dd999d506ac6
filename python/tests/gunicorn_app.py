"""A WSGI app for test_process_models: its module-level clients are used
before gunicorn --preload forks the workers that serve requests."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

import aopay

URL = os.environ["AOPAY_TEST_URL"]
KW: dict[str, Any] = {"product_id": 518, "amount": 10, "geocode": "23.6784,76.8764"}
client = aopay.Client(registration_id="AOP-554", base_url=URL, timeout=5.0)
aclient = aopay.AsyncClient(registration_id="AOP-554", base_url=URL, timeout=5.0)
# A warm-up of each, in the master: pooled connections and runtimes exist
# before the fork.
client.mobile_recharge(customer_number="9876509990", **KW)
asyncio.run(aclient.mobile_recharge(customer_number="9876509991", **KW))


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    query = parse_qs(environ.get("QUERY_STRING", ""))
    number = query["number"][0]
    if query["mode"][0] == "sync":
        r = client.mobile_recharge(customer_number=number, **KW)
    else:
        r = asyncio.run(aclient.mobile_recharge(customer_number=number, **KW))
    body = json.dumps({"pid": os.getpid(), "status": r.status, "reference_id": r.reference_id}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]

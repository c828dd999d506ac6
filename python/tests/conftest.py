from __future__ import annotations

from typing import Iterator

import pytest

import aopay

GEO = "23.6784,76.8764"
REG = "AOP-554"

# number -> (expected status, or exception class), http_status, retry_safe
SCENARIOS: dict[int, tuple[object, "int | None", "bool | None"]] = {
    9876543210: ("SUCCESS", 200, None),
    9000000001: ("FAILED", 200, None),
    9000000002: ("PENDING", 200, None),
    9000000003: ("PENDING", 200, None),
    9000000004: (aopay.AuthenticationError, 401, True),
    9000000005: (aopay.RateLimitError, 429, True),
    9000000006: (aopay.OutcomeUnknownError, 500, False),
    9000000007: (aopay.OutcomeUnknownError, None, False),  # slow: client timeout 1 s
    9000000008: (aopay.OutcomeUnknownError, None, False),
    9000000009: (aopay.OutcomeUnknownError, 502, False),
    9000000010: ("SUCCESS", 200, None),
    9000000011: (aopay.ApiError, 200, True),
    9000000012: (aopay.OutcomeUnknownError, 200, False),
    9000000013: ("SUCCESS", 200, None),
}

OUTCOME_UNKNOWN = [n for n, (e, _, _) in SCENARIOS.items() if e is aopay.OutcomeUnknownError]

# (field, kwargs override) — every rule of the contract, refused before sending.
BAD_INPUTS: list[tuple[str, dict[str, object]]] = [
    ("product_id", {"product_id": 0}),
    ("product_id", {"product_id": 2**31}),
    ("product_id", {"product_id": -5}),
    ("product_id", {"product_id": "518"}),
    ("product_id", {"product_id": 518.0}),
    ("product_id", {"product_id": True}),
    ("product_id", {"product_id": 10**30}),
    ("amount", {"amount": 0}),
    ("amount", {"amount": 1_000_001}),
    ("amount", {"amount": 10.0}),
    ("amount", {"amount": 10.5}),
    ("amount", {"amount": "10"}),
    ("amount", {"amount": False}),
    ("amount", {"amount": None}),
    ("amount", {"amount": -(10**40)}),
    ("customer_number", {"customer_number": ""}),
    ("customer_number", {"customer_number": "0123456789"}),
    ("customer_number", {"customer_number": "98765abc10"}),
    ("customer_number", {"customer_number": "1234567890123456789"}),
    ("customer_number", {"customer_number": "+1 202 555 0123"}),
    ("customer_number", {"customer_number": "९८७६५४३२१०"}),
    ("customer_number", {"customer_number": 0}),
    ("customer_number", {"customer_number": -9876543210}),
    ("customer_number", {"customer_number": 10**19}),
    ("customer_number", {"customer_number": True}),
    ("customer_number", {"customer_number": 9876543210.0}),
    ("geocode", {"geocode": ""}),
    ("geocode", {"geocode": "23.6784"}),
    ("geocode", {"geocode": "91,0"}),
    ("geocode", {"geocode": "0,181"}),
    ("geocode", {"geocode": "nan,0"}),
    ("geocode", {"geocode": (23.6, float("inf"))}),
    ("geocode", {"geocode": (23.6,)}),
    ("geocode", {"geocode": (True, 2.0)}),
    ("geocode", {"geocode": ("23", "76")}),
    ("geocode", {"geocode": {"lat": 1}}),
]

GOOD_INPUTS: list[dict[str, object]] = [
    {"customer_number": "+91 98765-43210"},
    {"customer_number": "09876543210"},
    {"customer_number": 9876543210},
    {"customer_number": "123456789012345678"},
    {"geocode": (23.6784, 76.8764)},
    {"geocode": [23, 76]},
    {"geocode": " -90 , 180 "},
    {"amount": 1},
    {"amount": 1_000_000},
    {"product_id": 2**31 - 1},
]


def recharge_kwargs(number: "int | str" = 9876543210, **override: object) -> dict[str, object]:
    kwargs: dict[str, object] = {
        "product_id": 518,
        "amount": 10,
        "customer_number": str(number),
        "geocode": GEO,
    }
    kwargs.update(override)
    return kwargs


@pytest.fixture
def sandbox() -> Iterator[aopay.Sandbox]:
    with aopay.Sandbox(slow_delay=3.0) as sb:
        yield sb


@pytest.fixture
def client(sandbox: aopay.Sandbox) -> aopay.Client:
    return aopay.Client(registration_id=REG, base_url=sandbox.url, timeout=1.0)


@pytest.fixture
def aclient(sandbox: aopay.Sandbox) -> aopay.AsyncClient:
    return aopay.AsyncClient(registration_id=REG, base_url=sandbox.url, timeout=1.0)

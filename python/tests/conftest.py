from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

import aopay

GEO = "23.6784,76.8764"
REG = "AOP-554"

# The contract's test data, shared with the Rust and Node suites.
CONTRACT = json.loads((Path(__file__).resolve().parents[2] / "testdata" / "contract.json").read_text("utf-8"))


def _outcome(name: str) -> object:
    """A status string, or the exception class of that name."""
    return getattr(aopay, name) if name.endswith("Error") else name


# number -> (expected status, or exception class), http_status, retry_safe
# (9000000007 is slow: the fixtures' client times out after 1 s)
SCENARIOS: dict[int, tuple[object, "int | None", "bool | None"]] = {
    row["number"]: (_outcome(row["outcome"]), row["http_status"], row["retry_safe"])
    for row in CONTRACT["magic_numbers"]
}

OUTCOME_UNKNOWN = [n for n, (e, _, _) in SCENARIOS.items() if e is aopay.OutcomeUnknownError]

# (field, kwargs override) — every rule of the contract, refused before
# sending: the shared rows, then those JSON cannot express.
BAD_INPUTS: list[tuple[str, dict[str, object]]] = [
    (row["field"], row["override"]) for row in CONTRACT["bad_inputs"]
] + [
    ("product_id", {"product_id": 518.0}),
    ("amount", {"amount": 10.0}),
    ("customer_number", {"customer_number": 9876543210.0}),
    ("geocode", {"geocode": (23.6, float("inf"))}),
    ("geocode", {"geocode": (23.6,)}),
]

GOOD_INPUTS: list[dict[str, object]] = list(CONTRACT["good_inputs"]) + [
    {"geocode": (23.6784, 76.8764)},
    {"geocode": [23, 76]},
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

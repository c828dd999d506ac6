"""A schema-driven API fuzzer: bodies generated from docs/openapi.yaml
(hypothesis-jsonschema), sent raw to the sandbox over loopback. Every
schema-valid body must be accepted (any status the spec lists but 400), and
every answer must be one the spec lists, with a body its schema allows; a
body that breaks the schema must be refused with 400 (or a listed refusal),
never crash the server. A disagreement is a bug in the spec or the sandbox."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

import aopay
from test_openapi import SPEC, check, post, validate

PATHS = sorted(SPEC["paths"])
# The magic accounts whose write drops the connection on purpose.
DROPPING = {"9000000306", "9000000307", "9000000008"}
FUZZ = settings(
    max_examples=int(os.environ.get("AOPAY_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
    derandomize=not os.environ.get("AOPAY_FUZZ_RANDOM"),
)


def request_schema(path: str) -> dict[str, Any]:
    ref = SPEC["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return {"$ref": ref, "components": SPEC["components"]}


def send(sandbox: aopay.Sandbox, path: str, body: Any) -> tuple[int, Any] | None:
    """The answer, or None when the connection was dropped (on purpose only)."""
    try:
        return post(sandbox.url + path, json.dumps(body).encode())
    except (urllib.error.URLError, ConnectionError) as e:
        number = str(body.get("canumber", body.get("CustomerNumber", ""))) if isinstance(body, dict) else ""
        assert number in DROPPING, f"{path}: the connection dropped for {body!r}: {e}"
        return None


@pytest.mark.parametrize("path", PATHS)
def test_every_schema_valid_body_is_accepted_and_answered_as_documented(sandbox: aopay.Sandbox, path: str) -> None:
    @FUZZ
    @given(body=from_schema(request_schema(path)))
    def run(body: dict[str, Any]) -> None:
        answered = send(sandbox, path, body)
        if answered is None:
            return
        status, answer = answered
        assert status != 400, f"{path}: the schema allows {body!r}, the sandbox refused it: {answer}"
        check(path, status, answer)

    run()


def _broken(path: str) -> st.SearchStrategy[Any]:
    """Bodies the schema refuses: a valid one with a key dropped, retyped or
    added, or not an object at all."""
    schema = request_schema(path)
    valid = from_schema(schema)
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8))

    def mutate(pair: tuple[dict[str, Any], int, Any]) -> Any:
        body, i, value = pair
        keys = sorted(body)
        key = keys[i % len(keys)]
        choice = i % 3
        if choice == 0:
            return {k: v for k, v in body.items() if k != key}
        if choice == 1:
            return {**body, key: value}
        return {**body, key.swapcase() + "x": value}

    mutated = st.tuples(valid, st.integers(0, 1000), scalars).map(mutate)
    return st.one_of(mutated, scalars, st.lists(scalars, max_size=3))


@pytest.mark.parametrize("path", PATHS)
def test_bodies_the_schema_refuses_are_refused_as_documented(sandbox: aopay.Sandbox, path: str) -> None:
    schema = request_schema(path)

    @FUZZ
    @given(body=_broken(path))
    def run(body: Any) -> None:
        try:
            validate(body, schema)
        except Exception:  # noqa: BLE001 - only bodies the schema refuses are checked
            pass
        else:
            return
        answered = send(sandbox, path, body)
        if answered is None:
            return
        status, answer = answered
        check(path, status, answer)
        assert status >= 400 or (isinstance(answer, dict) and answer.get("status") is False), (
            f"{path}: the schema refuses {body!r}, the sandbox took it: {status} {answer}"
        )

    run()


@pytest.mark.parametrize("path", PATHS)
def test_method_type_and_size_refusals_are_documented(sandbox: aopay.Sandbox, path: str) -> None:
    req = urllib.request.Request(sandbox.url + path, method="GET")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=10)
    assert info.value.code == 405 and info.value.headers["Allow"] == "POST"
    check(path, 405, json.loads(info.value.read()))
    check(path, *post(sandbox.url + path, b"{}", content_type="text/plain"))
    status, answer = post(sandbox.url + path, b"{" + b" " * (70 * 1024) + b"}")
    assert status == 413
    check(path, status, answer)

"""The corpus of real answers (testdata/answers.json), sync and async: each
body served as the upstream writes it by a plain HTTP server on loopback
(not the sandbox, which would only say what it was told) and read through
the built extension's real call path. Each gets the reading the corpus
names; a write is sent once; an error after a write never says retry-safe
unless the table says nothing was done, and carries the reference."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

import aopay
from aopay import _aopay

from conftest import REG

CORPUS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "testdata" / "answers.json").read_text("utf-8")
)
ROWS: list[dict[str, Any]] = CORPUS["answers"]


class _Replay(BaseHTTPRequestHandler):
    answer: tuple[int, bytes] = (200, b"{}")
    requests = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("content-length", "0")))
        type(self).requests += 1
        status, body = type(self).answer
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def replay() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Replay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _serve(row: dict[str, Any]) -> None:
    _Replay.answer = (row["http_status"], row["body"].encode())
    _Replay.requests = 0


def _args(method: str) -> tuple[list[Any], dict[str, Any]]:
    call = dict(CORPUS["calls"][method])
    if method == "recharge_status":
        return [call["reference_id"]], {}
    return [], call


def _check(row: dict[str, Any], got: Any) -> None:
    method, expect = row["endpoint"], row["expect"]
    what = f"{method} {row['http_status']} {row['body']}"
    if "error" in expect:
        assert isinstance(got, getattr(aopay, expect["error"])), f"{what}: {got!r}"
        for k, v in expect.items():
            if k != "error":
                assert getattr(got, k) == v, f"{k} of {what}: {got!r}"
        is_write = _aopay.ENDPOINTS[method].get("status") is not None
        if is_write and not got.retry_safe:
            assert got.reference_id == CORPUS["calls"][method].get("reference_id"), what
    else:
        assert not isinstance(got, BaseException), f"{what}: {got!r}"
        d = got.to_dict()
        for k, v in expect.items():
            assert d[k] == v, f"{k} of {what}: {d}"
    if _aopay.ENDPOINTS[method].get("status") is not None:
        assert _Replay.requests == 1, f"a write is sent once: {what}"


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r['endpoint']}-{r['http_status']}")
def test_each_answer_reads_as_the_corpus_says_sync(replay: str, row: dict[str, Any]) -> None:
    client = aopay.Client(REG, base_url=replay, timeout=10.0)
    _serve(row)
    args, kwargs = _args(row["endpoint"])
    try:
        got: Any = getattr(client, row["endpoint"])(*args, **kwargs)
    except aopay.AopayError as e:
        got = e
    _check(row, got)


def test_each_answer_reads_as_the_corpus_says_async(replay: str) -> None:
    async def main() -> None:
        client = aopay.AsyncClient(REG, base_url=replay, timeout=10.0)
        for row in ROWS:
            _serve(row)
            args, kwargs = _args(row["endpoint"])
            try:
                got: Any = await getattr(client, row["endpoint"])(*args, **kwargs)
            except aopay.AopayError as e:
                got = e
            _check(row, got)

    asyncio.run(main())


def test_the_new_errors_are_classes_with_their_codes() -> None:
    assert issubclass(aopay.InsufficientBalanceError, aopay.ApiError)
    assert not issubclass(aopay.DuplicateReferenceError, aopay.ApiError)
    assert aopay.DuplicateReferenceError.code == "AOPAY_DUPLICATE_REFERENCE"
    assert aopay.TransactionNotFoundError.code == "AOPAY_TRANSACTION_NOT_FOUND"
    assert aopay.InsufficientBalanceError.code == "AOPAY_INSUFFICIENT_BALANCE"


def test_an_answer_the_sdk_cannot_place_is_logged_at_warning_masked(
    replay: str, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.WARNING, logger="aopay")
    client = aopay.Client(REG, base_url=replay, timeout=10.0)
    _serve({"http_status": 200, "body": '{"status":false,"response_code":99,"canumber":"7067018549"}'})
    with pytest.raises(aopay.OutcomeUnknownError) as info:
        client.do_recharge(**CORPUS["calls"]["do_recharge"])
    assert info.value.retry_safe is False
    warned = [r for r in caplog.records if "cannot place" in r.getMessage()]
    assert warned and warned[0].levelno == logging.WARNING, caplog.text
    assert warned[0].name.startswith("aopay")
    assert "70XXXXXX49" in caplog.text and "7067018549" not in caplog.text


def test_a_batch_stops_at_an_empty_wallet_and_a_rerun_after_a_top_up_pays_the_rest_once(
    tmp_path: Path,
) -> None:
    with aopay.Sandbox(wallet_payments=3) as sb:
        client = aopay.Client(REG, base_url=sb.url, journal=str(tmp_path / "j.db"))
        orders = [
            {"order_id": f"w-{i}", "kind": "do_recharge", "operator": 11, "number": f"98761{i:05}", "amount": "10"}
            for i in range(8)
        ]
        results = list(client.run_batch(orders, concurrency=1, create_journal=True))
        status = [r["status"] for r in results]
        assert status.count("SUCCESS") == 3, status
        assert status.count("InsufficientBalanceError") == 1, status
        assert status.count("NOT_SENT") == 4, status
        assert all(r["not_sent"] == "insufficient_balance" and not r["is_final"] for r in results if r["status"] == "NOT_SENT")
        assert sb.stats()["requests"]["do_recharge"] == 4
        sb.top_up()
        again = list(client.run_batch(orders))
        assert {r["status"] for r in again} == {"SUCCESS"}
        assert all(sb.recorded_payments_for(f"98761{i:05}") == 1 for i in range(8))
        assert sb.stats()["requests"]["do_recharge"] == 4 + 5

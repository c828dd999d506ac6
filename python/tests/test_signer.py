"""signer=: the built-in JwtSigner (HS256, RS256) and a Python function,
sync and async, against a sandbox that requires a JWT as the upstream does.
A wrong key, a stale timestamp and a replayed token are AuthenticationError
with nothing recorded; a function that signs the body signs exactly what is
sent; the key and the tokens never show."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, Mapping

import pytest

import aopay

from conftest import REG

KEYS = Path(__file__).resolve().parents[2] / "testdata" / "jwt"
SECRET = b"partner-secret"


def recharge(client: aopay.Client, number: str) -> Any:
    return client.do_recharge(operator=11, number=number, amount=10)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made_token(timestamp: int, reqid: str) -> str:
    """An HS256 JWT made with the standard library: a custom signer's."""
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"timestamp": timestamp, "partnerId": "PS001", "reqid": reqid}).encode())
    sig = b64(hmac.new(SECRET, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


@pytest.mark.parametrize("algorithm", ["HS256", "RS256"])
def test_the_built_in_signer_passes_and_a_wrong_key_records_nothing(algorithm: str) -> None:
    if algorithm == "HS256":
        sandbox = aopay.Sandbox(require_jwt_secret=SECRET)
        good = aopay.JwtSigner(partner_id="PS001", secret=SECRET)
        wrong = aopay.JwtSigner(partner_id="PS001", secret="another secret")
    else:
        sandbox = aopay.Sandbox(require_jwt_public_key=(KEYS / "rs256-public.pem").read_bytes())
        good = aopay.JwtSigner(partner_id="PS001", private_key=(KEYS / "rs256-private.pem").read_text())
        wrong = aopay.JwtSigner(partner_id="PS001", private_key=(KEYS / "rs256-other-private.pem").read_bytes())
    with sandbox as sb:
        assert recharge(aopay.Client(REG, base_url=sb.url, signer=good), "9876500001").status == "SUCCESS"
        with pytest.raises(aopay.AuthenticationError) as info:
            recharge(aopay.Client(REG, base_url=sb.url, signer=wrong), "9876500002")
        assert (info.value.http_status, info.value.api_code, info.value.retry_safe) == (412, 10, True)
        stats = sb.stats()
        assert stats["payments"] == 1 and stats["unauthorized_requests"] == 2, stats


def test_a_stale_timestamp_and_a_replayed_token_are_refused() -> None:
    with aopay.Sandbox(require_jwt_secret=SECRET) as sb:
        stale = aopay.Client(REG, base_url=sb.url, signer=lambda p, b: {"Token": hand_made_token(int(time.time()) - 600, f"s{time.time()}")})
        with pytest.raises(aopay.AuthenticationError, match="Expired token"):
            recharge(stale, "9876500003")
        fixed = {"Token": hand_made_token(int(time.time()), "the-same-reqid")}
        replaying = aopay.Client(REG, base_url=sb.url, signer=lambda p, b: fixed)
        assert recharge(replaying, "9876500004").status == "SUCCESS"
        with pytest.raises(aopay.AuthenticationError, match="already used"):
            recharge(replaying, "9876500005")
        assert sb.stats()["payments"] == 1


class _Capture(BaseHTTPRequestHandler):
    seen: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        type(self).seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
        answer = b'{"status":true,"response_code":1,"message":"ok"}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def capture() -> Iterator[str]:
    _Capture.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_function_that_signs_the_body_signs_exactly_what_is_sent_sync_and_async(capture: str) -> None:
    calls: list[tuple[str, bytes]] = []

    def sign(path: str, body: bytes) -> Mapping[str, str]:
        calls.append((path, body))
        return {"X-Signature": hmac.new(b"k", body, hashlib.sha256).hexdigest()}

    async def asign(path: str, body: bytes) -> Mapping[str, str]:
        await asyncio.sleep(0)
        return sign(path, body)

    recharge(aopay.Client(REG, base_url=capture, signer=sign), "9876500006")

    async def main() -> None:
        client = aopay.AsyncClient(REG, base_url=capture, signer=asign)
        await client.do_recharge(operator=11, number="9876500007", amount=10)

    asyncio.run(main())
    assert [p for p, _ in calls] == ["/api/AOP/DoRecharge"] * 2
    for headers, body in _Capture.seen:
        assert headers["x-signature"] == hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert [b for _, b in calls] == [b for _, b in _Capture.seen]


def test_a_signer_that_raises_or_gives_bad_headers_sends_nothing(capture: str) -> None:
    def broken(path: str, body: bytes) -> Mapping[str, str]:
        raise RuntimeError("the HSM is down")

    with pytest.raises(aopay.AuthenticationError, match="HSM is down") as info:
        recharge(aopay.Client(REG, base_url=capture, signer=broken), "9876500008")
    assert info.value.retry_safe
    with pytest.raises(aopay.ValidationError) as bad:
        recharge(aopay.Client(REG, base_url=capture, signer=lambda p, b: {"Token": "a\nb"}), "9876500009")
    assert bad.value.field == "signer"
    with pytest.raises(aopay.AuthenticationError, match="mapping"):
        recharge(aopay.Client(REG, base_url=capture, signer=lambda p, b: ["not", "a", "mapping"]), "9876500010")
    assert _Capture.seen == []
    with pytest.raises(aopay.ValidationError) as wrong:
        aopay.Client(REG, base_url=capture, signer="not a signer")  # type: ignore[arg-type]
    assert wrong.value.field == "signer"


def test_settings_are_checked_when_the_signer_is_made() -> None:
    for kwargs, field in [
        ({"partner_id": "P"}, "secret"),
        ({"partner_id": "P", "secret": "s", "private_key": "k"}, "secret"),
        ({"partner_id": "", "secret": "s"}, "partner_id"),
        ({"partner_id": "P", "private_key": "-----BEGIN NOTHING-----"}, "private_key"),
        ({"partner_id": "P", "secret": "s", "claims": {"reqid": 1}}, "claims"),
        ({"partner_id": "P", "secret": "s", "header": "bad header"}, "header"),
        ({"partner_id": "P", "secret": 5}, "secret"),
    ]:
        with pytest.raises(aopay.ValidationError) as info:
            aopay.JwtSigner(**kwargs)  # type: ignore[arg-type]
        assert info.value.field == field, kwargs
    with pytest.raises(aopay.ValidationError):
        aopay.Sandbox(require_jwt_public_key=b"not a key")


def test_sixty_four_concurrent_calls_each_carry_their_own_reqid() -> None:
    with aopay.Sandbox(require_jwt_secret=SECRET) as sb:
        signer = aopay.JwtSigner(partner_id="PS001", secret=SECRET, headers={"Authorisedkey": "UAT"})

        async def main() -> list[Any]:
            client = aopay.AsyncClient(REG, base_url=sb.url, signer=signer)
            return await asyncio.gather(
                *(client.do_recharge(operator=11, number=f"98765{i:05}", amount=10) for i in range(64))
            )

        assert {p.status for p in asyncio.run(main())} == {"SUCCESS"}
        assert sb.stats()["unauthorized_requests"] == 0 and sb.stats()["payments"] == 64


def test_the_key_and_the_tokens_never_show(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(aopay._logging.TRACE, logger="aopay")
    signer = aopay.JwtSigner(partner_id="PS001", secret=SECRET, headers={"Authorisedkey": "UAT-SECRET"})
    token = signer.headers()["Token"]
    assert token.count(".") == 2 and signer.headers()["Token"] != token, "fresh every time"
    with aopay.Sandbox(require_jwt_secret=b"another") as sb:
        client = aopay.Client(REG, base_url=sb.url, signer=signer)
        with pytest.raises(aopay.AuthenticationError) as info:
            recharge(client, "9876500011")
    texts = [repr(signer), repr(client), str(info.value), repr(info.value), caplog.text]
    assert any("call" in r.getMessage() for r in caplog.records), "logging was on"
    for text in texts:
        assert "partner-secret" not in text and "UAT-SECRET" not in text and "eyJ" not in text, text

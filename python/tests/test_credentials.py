"""credentials=: a function or coroutine function giving the headers, against
a sandbox that requires bearer tokens. One fetch serves many calls; a 401
refreshes once and resends once (never a second payment); a stated lifetime
is refreshed before it ends; a failing or malformed provider sends nothing;
no token reaches repr, an error or the logs."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable

import pytest

import aopay
from conftest import GEO, REG


@pytest.fixture
def sb() -> Any:
    with aopay.Sandbox(require_tokens=True) as s:
        yield s


def recharge(number: str) -> dict[str, Any]:
    return {"product_id": 518, "amount": 10, "customer_number": number, "geocode": GEO}


def provider(sb: aopay.Sandbox, lifetime: "float | None" = None) -> tuple[Callable[[], Any], list[str]]:
    issued: list[str] = []
    lock = threading.Lock()

    def fetch() -> Any:
        with lock:
            token = sb.issue_token(600.0 if lifetime is None else lifetime)
            issued.append(token)
        headers = {"Authorization": f"Bearer {token}"}
        return headers if lifetime is None else (headers, lifetime)

    return fetch, issued


def test_without_credentials_the_call_is_refused(sb: aopay.Sandbox) -> None:
    with pytest.raises(aopay.AuthenticationError) as info:
        aopay.Client(REG, sb.url).mobile_recharge(**recharge("9876543210"))
    assert info.value.retry_safe and info.value.api_code == 5
    assert sb.stats()["unauthorized_requests"] == 1 and sb.stats()["requests"]["mobile_recharge"] == 0


def test_sync_one_fetch_for_many_threads_and_one_refresh_after_a_401(sb: aopay.Sandbox) -> None:
    fetch, issued = provider(sb)
    client = aopay.Client(REG, sb.url, credentials=fetch)
    first = client.mobile_recharge(**recharge("9876500001"))
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            client.recharge_status(first.reference_id or "")
            client.dth_info(operator="Jio", number="62638787325776", circle="x")
        except BaseException as e:  # noqa: BLE001 - collected for the assert
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(issued) == 1
    sb.revoke_tokens()
    r = client.mobile_recharge(**recharge("9876500002"))
    assert r.status == "SUCCESS" and len(issued) == 2
    assert sb.stats()["unauthorized_requests"] == 1
    assert sb.recharges_for("9876500002") == 1, "the refused send charged nothing"


def test_async_coroutine_provider_runs_on_the_callers_loop(sb: aopay.Sandbox) -> None:
    loops: list[object] = []

    async def fetch() -> Any:
        loops.append(asyncio.get_running_loop())
        await asyncio.sleep(0.01)
        return ({"Authorization": f"Bearer {sb.issue_token(600.0)}"}, 600.0)

    async def main() -> None:
        client = aopay.AsyncClient(REG, sb.url, credentials=fetch)
        results = await asyncio.gather(
            *(client.mobile_recharge(**recharge(f"98765{i:05}")) for i in range(16)),
            client.dth_info(operator="Jio", number="62638787325776", circle="x"),
        )
        assert len(results) == 17
        assert loops == [asyncio.get_running_loop()], "one fetch, on this loop"
        sb.revoke_tokens()
        await client.dth_info(operator="Jio", number="62638787325776", circle="x")
        assert len(loops) == 2

    asyncio.run(main())
    assert sb.stats()["unauthorized_requests"] == 1


def test_a_coroutine_provider_also_serves_the_blocking_client(sb: aopay.Sandbox) -> None:
    async def fetch() -> Any:
        await asyncio.sleep(0)
        return {"Authorization": f"Bearer {sb.issue_token(600.0)}"}

    client = aopay.Client(REG, sb.url, credentials=fetch)
    assert client.mobile_recharge(**recharge("9876500003")).status == "SUCCESS"


def test_a_stated_lifetime_is_refreshed_before_it_ends(sb: aopay.Sandbox) -> None:
    fetch, issued = provider(sb, lifetime=0.6)
    client = aopay.Client(REG, sb.url, credentials=fetch)
    for _ in range(4):
        client.dth_info(operator="Jio", number="62638787325776", circle="x")
        time.sleep(0.35)
    assert len(issued) >= 2 and sb.stats()["unauthorized_requests"] == 0


@pytest.mark.parametrize(
    "result,said",
    [
        ({"Authorization": 7}, "must be str"),
        ("Bearer x", "must return a mapping"),
        (({"Authorization": "Bearer x"}, -1), "lifetime"),
        (({"Authorization": "Bearer x"}, True), "lifetime"),
        (({"Authorization": "Bearer x"}, 1, 2), "must return a mapping"),
        ({"Bad Name": "x"}, "HTTP token"),
        ({"Authorization": "Bearer s3cr3t\u00e9"}, "visible ASCII"),
    ],
)
def test_a_malformed_answer_sends_nothing(sb: aopay.Sandbox, result: Any, said: str) -> None:
    client = aopay.Client(REG, sb.url, credentials=lambda: result)
    with pytest.raises(aopay.AopayError) as info:
        client.mobile_recharge(**recharge("9876500004"))
    assert said in str(info.value) and info.value.retry_safe
    assert "s3cr3t" not in str(info.value) and "s3cr3t" not in repr(info.value)
    assert sb.stats()["requests"]["mobile_recharge"] + sb.stats()["unauthorized_requests"] == 0


def test_a_raising_provider_sends_nothing_and_a_non_callable_is_refused(sb: aopay.Sandbox) -> None:
    def broken() -> Any:
        raise ConnectionError("token service unreachable")

    for flavour in (aopay.Client, aopay.AsyncClient):
        with pytest.raises(aopay.ValidationError) as bad:
            flavour(REG, sb.url, credentials={"Authorization": "x"})
        assert bad.value.field == "credentials"
    with pytest.raises(aopay.AuthenticationError) as info:
        aopay.Client(REG, sb.url, credentials=broken).mobile_recharge(**recharge("9876500005"))
    assert "ConnectionError: token service unreachable" in str(info.value)
    assert info.value.retry_safe
    assert sb.stats()["requests"]["mobile_recharge"] + sb.stats()["unauthorized_requests"] == 0


def test_tokens_never_show(sb: aopay.Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    fetch, issued = provider(sb)
    client = aopay.Client(REG, sb.url, credentials=fetch)
    shown = repr(client)
    client.mobile_recharge(**recharge("9876500006"))
    sb.revoke_tokens()
    try:
        client.mobile_recharge(**recharge("9000000004"))
    except aopay.AopayError as e:
        shown += f"{e!s} {e!r} {e.to_dict() if hasattr(e, 'to_dict') else ''}"
    assert issued
    for token in issued:
        assert token not in shown and token not in caplog.text

"""aopay's logs reach Python's logging (per area, at the levels Python uses),
switched on by logging configuration or AOPAY_LOG, with customer numbers
masked and no secret at the most verbose level."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys

import pytest

import aopay
from conftest import GEO, REG


def recharge(client: aopay.Client, number: str) -> None:
    client.mobile_recharge(product_id=518, amount=10, customer_number=number, geocode=GEO)


@pytest.fixture(autouse=True)
def quiet_again() -> object:
    yield
    logging.getLogger("aopay").setLevel(logging.NOTSET)
    aopay.refresh_logging()


def test_nothing_below_warning_by_default(sandbox: aopay.Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    client = aopay.Client(REG, sandbox.url)
    recharge(client, "9876543210")
    assert not [r for r in caplog.records if r.name.startswith("aopay")]


def test_debug_logs_per_area_with_masked_numbers_and_no_secrets(
    sandbox: aopay.Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(aopay._logging.TRACE, logger="aopay")
    secret = "tok-SECRET-4f1c"
    client = aopay.Client(REG, sandbox.url, headers={"X-Api-Key": secret})
    recharge(client, "9876543210")
    with pytest.raises(aopay.AuthenticationError):
        recharge(client, "9000000004")
    client.recharge_status(client.mobile_recharge(product_id=518, amount=10,
                                                  customer_number="9000000010", geocode=GEO).reference_id or "")
    calls = [r for r in caplog.records if r.name == "aopay.http"]
    assert any(r.levelno == logging.DEBUG and "call finished" in r.getMessage() for r in calls), caplog.text
    assert any("call failed" in r.getMessage() and "retry_safe=true" in r.getMessage() for r in calls)
    assert any("retrying" in r.getMessage() for r in calls), "the 503s of 9000000010 were retried"
    assert "98XXXXXX10" in caplog.text
    assert "9876543210" not in caplog.text and secret not in caplog.text


def test_async_calls_log_too(sandbox: aopay.Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="aopay")

    async def main() -> None:
        client = aopay.AsyncClient(REG, sandbox.url)
        await client.dth_info(operator="Jio", number="62638787325776", circle="x")

    asyncio.run(main())
    assert any(r.name == "aopay.http" and "GetDthInfo" in r.getMessage() for r in caplog.records)
    assert "62638787325776" not in caplog.text


def test_credentials_log_their_fetch_never_their_values(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="aopay")
    with aopay.Sandbox(require_tokens=True) as sb:
        tokens: list[str] = []

        def provide() -> dict[str, str]:
            tokens.append(sb.issue_token(600.0))
            return {"Authorization": f"Bearer {tokens[-1]}"}

        client = aopay.Client(REG, sb.url, credentials=provide)
        recharge(client, "9876543210")
        sb.revoke_tokens()
        recharge(client, "9876543211")
    assert any(r.name == "aopay.credentials" and "credentials fetched" in r.getMessage() for r in caplog.records)
    assert len(tokens) == 2 and not any(t in caplog.text for t in tokens)


def test_aopay_log_switches_them_on_without_configuration(tmp_path: object) -> None:
    code = (
        "import aopay\n"
        "with aopay.Sandbox() as sb:\n"
        "    c = aopay.Client('AOP-554', sb.url)\n"
        "    c.mobile_recharge(product_id=518, amount=10, customer_number='9876543210', geocode='1,1')\n"
    )
    env = {**os.environ, "AOPAY_LOG": "debug"}
    # Outside python/, where the source tree would shadow the installed package.
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                         cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "DEBUG aopay.http: call finished" in out.stderr, out.stderr
    assert "9876543210" not in out.stderr
    quiet = subprocess.run([sys.executable, "-c", code], env={k: v for k, v in os.environ.items() if k != "AOPAY_LOG"},
                           capture_output=True, text=True, timeout=60, cwd=str(tmp_path))
    assert quiet.returncode == 0 and "call finished" not in quiet.stderr


def test_a_client_freed_inside_another_clients_call_shuts_down_quietly(
    sandbox: aopay.Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    # Python frees an object wherever its last reference goes or its garbage
    # collector runs, which can be a log handler running inside another
    # client's call. Dropping a runtime inside a running one panicked
    # (PanicException, reported as unraisable); a blocking call made there
    # panicked too, and is now a RuntimeError before anything is sent.
    unraisable: list[object] = []
    hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
    refused: list[str] = []

    class FreeAClient(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            doomed = aopay.Client(REG, sandbox.url)
            try:
                recharge(doomed, "9876543210")
            except RuntimeError as e:
                refused.append(str(e))
            try:
                aopay.Sandbox()
            except RuntimeError as e:
                refused.append(str(e))
            del doomed

    handler = FreeAClient(logging.DEBUG)
    logging.getLogger("aopay").addHandler(handler)
    caplog.set_level(logging.DEBUG, logger="aopay")
    before = sandbox.stats()["requests"]["mobile_recharge"]
    try:
        recharge(aopay.Client(REG, sandbox.url), "9876543211")
    finally:
        logging.getLogger("aopay").removeHandler(handler)
        sys.unraisablehook = hook
    assert refused and all("inside another aopay call" in r for r in refused), refused
    assert sandbox.stats()["requests"]["mobile_recharge"] == before + 1, "only the outer call was sent"
    assert not unraisable, [getattr(u, "exc_value", u) for u in unraisable]
    # Outside any call, the same client works.
    recharge(aopay.Client(REG, sandbox.url), "9876543212")

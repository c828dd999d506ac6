"""Transport security through the installed wheel: the HTTPS sandbox and its
throwaway CA, bad root certificates, and HTTPS_PROXY / NO_PROXY through a
real tinyproxy (skipped when it is missing, unless AOPAY_TEST_TINYPROXY
names it, as scripts/test does)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

import aopay
from conftest import REG, recharge_kwargs

PROXY_VARS = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
              "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"]


@pytest.fixture
def tls_sandbox() -> Iterator[aopay.Sandbox]:
    with aopay.Sandbox(tls=True) as sb:
        yield sb


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)


def test_https_sandbox_is_refused_without_its_ca(tls_sandbox: aopay.Sandbox) -> None:
    assert tls_sandbox.url.startswith("https://127.0.0.1:")
    client = aopay.Client(REG, base_url=tls_sandbox.url, timeout=10)
    with pytest.raises(aopay.ConnectError) as e:
        client.mobile_recharge(**recharge_kwargs())
    assert e.value.retry_safe is True
    assert "certificate" in str(e.value)
    assert tls_sandbox.stats()["requests"]["mobile_recharge"] == 0


@pytest.mark.parametrize("as_bytes", [False, True])
def test_https_sandbox_is_trusted_with_its_ca(tls_sandbox: aopay.Sandbox, as_bytes: bool) -> None:
    ca = tls_sandbox.ca_pem
    assert ca is not None and ca.startswith("-----BEGIN CERTIFICATE-----")
    roots: str | bytes = ca.encode() if as_bytes else ca
    client = aopay.Client(REG, base_url=tls_sandbox.url, root_certificates=roots)
    r = client.mobile_recharge(**recharge_kwargs())
    assert r.status == "SUCCESS"
    assert r.reference_id is not None
    assert client.recharge_status(r.reference_id).reference_id == r.reference_id
    assert tls_sandbox.stats()["requests"]["mobile_recharge"] == 1


def test_async_client_over_tls(tls_sandbox: aopay.Sandbox) -> None:
    async def main() -> None:
        bare = aopay.AsyncClient(REG, base_url=tls_sandbox.url)
        with pytest.raises(aopay.ConnectError):
            await bare.mobile_recharge(**recharge_kwargs())
        client = aopay.AsyncClient(REG, base_url=tls_sandbox.url,
                                   root_certificates=tls_sandbox.ca_pem)
        results = await asyncio.gather(*(client.mobile_recharge(**recharge_kwargs())
                                         for _ in range(8)))
        assert len({r.reference_id for r in results}) == 8

    asyncio.run(main())
    assert tls_sandbox.stats()["requests"]["mobile_recharge"] == 8


def test_plain_sandbox_has_no_ca() -> None:
    with aopay.Sandbox() as sb:
        assert sb.ca_pem is None


@pytest.mark.parametrize("roots, rule", [
    ("", "at least one PEM CERTIFICATE"),
    (b"garbage", "at least one PEM CERTIFICATE"),
    ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a usable CA"),
    (42, "str or bytes"),
    (["pem"], "str or bytes"),
])
def test_bad_root_certificates(roots: object, rule: str) -> None:
    with pytest.raises(aopay.ValidationError) as e:
        aopay.Client(REG, root_certificates=roots)  # type: ignore[arg-type]
    assert e.value.field == "root_certificates"
    assert rule in str(e.value)


def test_plain_http_to_a_remote_host_needs_explicit_permission() -> None:
    with pytest.raises(aopay.ValidationError) as e:
        aopay.Client(REG, base_url="http://api.aopay.co.in")
    assert e.value.field == "base_url"
    aopay.Client(REG, base_url="http://api.aopay.co.in", allow_insecure_http=True)


class Tinyproxy:
    def __init__(self, binary: str, tmp: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.log = tmp / "tinyproxy.log"
        conf = tmp / "tinyproxy.conf"
        conf.write_text(f'Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile "{self.log}"\n'
                        "LogLevel Connect\nMaxClients 50\nAllow 127.0.0.1\nDisableViaHeader Yes\n")
        self.proc = subprocess.Popen([binary, "-d", "-c", str(conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "tinyproxy did not start"
                time.sleep(0.02)

    def requests(self, needle: str) -> int:
        text = self.log.read_text() if self.log.exists() else ""
        return sum(1 for line in text.splitlines() if "Request (" in line and needle in line)


@pytest.fixture
def tinyproxy(tmp_path: Path) -> Iterator[Tinyproxy]:
    binary = os.environ.get("AOPAY_TEST_TINYPROXY") or shutil.which("tinyproxy")
    if not binary:
        pytest.skip("tinyproxy is not installed (apt-get install tinyproxy-bin)")
    proxy = Tinyproxy(binary, tmp_path)
    yield proxy
    proxy.proc.kill()
    proxy.proc.wait()


def test_https_proxy_and_no_proxy_are_honoured(
    tinyproxy: Tinyproxy, tls_sandbox: aopay.Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read when the client is built, as curl and requests do.
    monkeypatch.setenv("HTTPS_PROXY", tinyproxy.url)
    proxied = aopay.Client(REG, base_url=tls_sandbox.url, root_certificates=tls_sandbox.ca_pem)
    assert proxied.mobile_recharge(**recharge_kwargs()).status == "SUCCESS"
    host = tls_sandbox.url.removeprefix("https://")
    assert tinyproxy.requests(f"CONNECT {host}") == 1

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    direct = aopay.Client(REG, base_url=tls_sandbox.url, root_certificates=tls_sandbox.ca_pem)
    assert direct.mobile_recharge(**recharge_kwargs()).status == "SUCCESS"
    assert tinyproxy.requests("CONNECT") == 1
    assert tls_sandbox.stats()["requests"]["mobile_recharge"] == 2


def test_unreachable_proxy_is_retry_safe(
    tls_sandbox: aopay.Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{dead}")
    client = aopay.Client(REG, base_url=tls_sandbox.url, root_certificates=tls_sandbox.ca_pem)
    with pytest.raises(aopay.ConnectError) as e:
        client.mobile_recharge(**recharge_kwargs())
    assert e.value.retry_safe is True
    assert tls_sandbox.stats()["requests"]["mobile_recharge"] == 0


def test_repr_and_errors_hold_no_secret(tls_sandbox: aopay.Sandbox) -> None:
    secret = "tok-5d2c-SECRET"
    client = aopay.Client(REG, base_url=tls_sandbox.url, headers={"Authorization": secret})
    shown = repr(client)
    assert "Authorization" in shown
    try:
        client.mobile_recharge(**recharge_kwargs())
    except aopay.ConnectError as e:
        shown += str(e) + repr(e) + repr(e.args)
    assert secret not in shown
    assert "9876543210" not in shown

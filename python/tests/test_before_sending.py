"""Every invalid option and argument of both clients is refused before
anything is sent: each row asserts that the sandbox received nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable

import pytest

import aopay
from conftest import REG, recharge_kwargs

# (label, client keyword arguments on top of valid ones)
CLIENT_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("timeout 0", {"timeout": 0}),
    ("timeout -1", {"timeout": -1.0}),
    ("timeout nan", {"timeout": float("nan")}),
    ("timeout inf", {"timeout": float("inf")}),
    ("timeout 1e309", {"timeout": 1e309}),
    ("timeout str", {"timeout": "30"}),
    ("connect_timeout 0", {"connect_timeout": 0}),
    ("connect_timeout nan", {"connect_timeout": float("nan")}),
    ("headers list", {"headers": [("X-Key", "v")]}),
    ("header value int", {"headers": {"X-Key": 5}}),
    ("header name invalid", {"headers": {"Bad Name": "v"}}),
    ("header value non-ASCII", {"headers": {"X-Key": "café"}}),
    ("header value newline", {"headers": {"X-Key": "a\r\nb"}}),
    ("root_certificates not PEM", {"root_certificates": "not a certificate"}),
    ("root_certificates int", {"root_certificates": 7}),
    ("max_response_bytes negative", {"max_response_bytes": -1}),
    ("journal int", {"journal": 5}),
    ("journal missing dir", {"journal": "/nonexistent/dir/j.db"}),
    ("base_url insecure", {"base_url": "http://example.com"}),
    ("base_url ftp", {"base_url": "ftp://127.0.0.1"}),
    ("base_url credentials", {"base_url": "https://u:p@127.0.0.1"}),
    ("registration_id empty", {"registration_id": ""}),
    ("registration_id too long", {"registration_id": "A" * 65}),
]

# (label, a call on a valid client with the sandbox's URL)
CALLS: list[tuple[str, Callable[[Any], Any]]] = [
    ("wait timeout 0", lambda c: c.wait_for_final("AOP554R1", timeout=0)),
    ("wait timeout nan", lambda c: c.wait_for_final("AOP554R1", timeout=float("nan"))),
    ("wait timeout -1", lambda c: c.wait_for_final("AOP554R1", timeout=-1.0)),
    ("wait timeout 1e309", lambda c: c.wait_for_final("AOP554R1", timeout=1e309)),
    ("wait initial_interval 0", lambda c: c.wait_for_final("AOP554R1", initial_interval=0)),
    ("wait max_interval inf", lambda c: c.wait_for_final("AOP554R1", max_interval=float("inf"))),
    ("wait empty reference", lambda c: c.wait_for_final("")),
    ("status empty reference", lambda c: c.recharge_status("")),
    ("status control character", lambda c: c.recharge_status("AOP\x07")),
    ("key without a journal", lambda c: c.mobile_recharge(**recharge_kwargs(9000000002), idempotency_key="k1")),
    ("key int", lambda c: c.mobile_recharge(**recharge_kwargs(9000000002), idempotency_key=5)),
]


def received(sb: aopay.Sandbox) -> int:
    s = sb.stats()
    return s["requests"]["mobile_recharge"] + s["requests"]["recharge_status"] + s["rejected_requests"]


def run(value: Any) -> Any:
    """Await an AsyncClient's result; a sync client's is already there."""
    if asyncio.iscoroutine(value):
        return asyncio.run(value)
    return value


@pytest.mark.parametrize("flavour", [aopay.Client, aopay.AsyncClient])
@pytest.mark.parametrize("label,options", CLIENT_OPTIONS, ids=[label for label, _ in CLIENT_OPTIONS])
def test_bad_client_options_send_nothing(sandbox: aopay.Sandbox, flavour: Any, label: str, options: dict[str, Any]) -> None:
    kwargs = {"registration_id": REG, "base_url": sandbox.url, **options}
    with pytest.raises((aopay.AopayError, TypeError, OverflowError)) as info:
        client = flavour(**kwargs)
        run(client.mobile_recharge(**recharge_kwargs(9000000002), idempotency_key="k1"))
    if isinstance(info.value, aopay.AopayError):
        assert info.value.retry_safe is True, label
    assert received(sandbox) == 0, f"{label}: sent although invalid"


@pytest.mark.parametrize("flavour", [aopay.Client, aopay.AsyncClient])
@pytest.mark.parametrize("label,call", CALLS, ids=[label for label, _ in CALLS])
def test_bad_call_options_send_nothing(sandbox: aopay.Sandbox, flavour: Any, label: str, call: Callable[[Any], Any]) -> None:
    client = flavour(registration_id=REG, base_url=sandbox.url)
    with pytest.raises((aopay.AopayError, TypeError)) as info:
        run(call(client))
    if isinstance(info.value, aopay.AopayError):
        assert info.value.retry_safe is True, label
    assert received(sandbox) == 0, f"{label}: sent although invalid"


@pytest.mark.parametrize(
    "options",
    [{"slow_delay": -1.0}, {"slow_delay": float("nan")}, {"pending_checks": -1}, {"tls": "yes"}],
)
def test_bad_sandbox_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises((aopay.AopayError, TypeError, OverflowError)):
        aopay.Sandbox(**options)


def test_a_journal_that_cannot_open_is_refused(sandbox: aopay.Sandbox, tmp_path: Path) -> None:
    (tmp_path / "not-a-db").write_text("garbage " * 100)
    with pytest.raises(aopay.JournalError):
        aopay.Client(registration_id=REG, base_url=sandbox.url, journal=str(tmp_path / "not-a-db")).mobile_recharge(
            **recharge_kwargs(9000000002), idempotency_key="k1"  # type: ignore[arg-type]
        )
    assert received(sandbox) == 0


# (field, a call with one wrong-typed argument): positional ones included.
WRONG_TYPES: list[tuple[str, Callable[[Any, str], Any]]] = [
    ("registration_id", lambda cls, url: cls(123)),
    ("base_url", lambda cls, url: cls(REG, 5)),
    ("timeout", lambda cls, url: cls(REG, url, "30")),
    ("timeout", lambda cls, url: cls(REG, url, True)),
    ("connect_timeout", lambda cls, url: cls(REG, url, 30.0, "10")),
    ("headers", lambda cls, url: cls(REG, url, 30.0, 10.0, [("X-Key", "v")])),
    ("allow_insecure_http", lambda cls, url: cls(REG, url, allow_insecure_http="yes")),
    ("max_response_bytes", lambda cls, url: cls(REG, url, max_response_bytes="1")),
    ("max_response_bytes", lambda cls, url: cls(REG, url, max_response_bytes=0)),
    ("max_response_bytes", lambda cls, url: cls(REG, url, max_response_bytes=1.5)),
    ("reference_id", lambda cls, url: run(cls(REG, url).recharge_status(123))),
    ("reference_id", lambda cls, url: run(cls(REG, url).wait_for_final(123))),
    ("timeout", lambda cls, url: run(cls(REG, url).wait_for_final("AOP554R1", "5"))),
    ("initial_interval", lambda cls, url: run(cls(REG, url).wait_for_final("AOP554R1", initial_interval=[1]))),
    ("idempotency_key", lambda cls, url: run(cls(REG, url).mobile_recharge(**recharge_kwargs(), idempotency_key=5))),
]


@pytest.mark.parametrize("flavour", [aopay.Client, aopay.AsyncClient])
@pytest.mark.parametrize("field,call", WRONG_TYPES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(WRONG_TYPES)])
def test_wrong_typed_arguments_are_validation_errors(sandbox: aopay.Sandbox, flavour: Any, field: str, call: Callable[[Any, str], Any]) -> None:
    with pytest.raises(aopay.ValidationError) as info:
        call(flavour, sandbox.url)
    assert info.value.field == field
    assert info.value.retry_safe is True
    assert received(sandbox) == 0


def test_the_stubs_list_every_client_option_of_the_core() -> None:
    """The keyword arguments in the .pyi are exactly the core's options."""
    import ast

    stub = Path(aopay.__file__).with_name("_aopay.pyi")
    tree = ast.parse(stub.read_text("utf-8"))
    for cls in [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name in ("Client", "AsyncClient")]:
        new = next(f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__new__")
        names = {a.arg for a in new.args.args[1:] + new.args.kwonlyargs}
        assert names == set(aopay._aopay.CLIENT_OPTIONS), (cls.name, names ^ set(aopay._aopay.CLIENT_OPTIONS))


@pytest.mark.parametrize("flavour", [aopay.Client, aopay.AsyncClient])
def test_read_options_and_unknown_options(sandbox: aopay.Sandbox, flavour: Any) -> None:
    client = flavour(REG, sandbox.url, read_attempt_timeout=0.5, read_max_attempts=2, pool_idle_timeout=1.0)
    assert "Client" in repr(client)
    for bad in [{"read_max_attempts": 0}, {"read_max_attempts": 101}, {"read_attempt_timeout": 0}]:
        with pytest.raises(aopay.ValidationError) as info:
            flavour(REG, sandbox.url, **bad)
        assert info.value.field == next(iter(bad))
    with pytest.raises(aopay.ValidationError) as info:
        flavour(REG, sandbox.url, timout=5)  # a typo is refused, not ignored
    assert info.value.field == "options" and "timout" in str(info.value)
    assert received(sandbox) == 0


@pytest.mark.parametrize("flavour", [aopay.Client, aopay.AsyncClient])
def test_read_max_attempts_takes_effect(sandbox: aopay.Sandbox, flavour: Any) -> None:
    # 9000000010: the first two status checks of its transaction get 503.
    for attempts, ok in [(2, False), (3, True)]:
        sandbox.reset()
        client = flavour(REG, sandbox.url, timeout=10.0, read_max_attempts=attempts)
        r = run(client.mobile_recharge(**recharge_kwargs(9000000010)))
        if ok:
            assert run(client.recharge_status(r.reference_id)).status == "SUCCESS"
        else:
            with pytest.raises(aopay.ServerError):
                run(client.recharge_status(r.reference_id))
        assert sandbox.stats()["requests"]["recharge_status"] == attempts


def test_the_guide_lists_every_client_option() -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "guide.md").read_text("utf-8")
    table = guide[guide.index("## 7. Client options"):]
    for name in aopay._aopay.CLIENT_OPTIONS:
        assert f"| `{name}` |" in table, name


def test_the_error_classes_are_the_cores_kinds() -> None:
    import aopay.errors

    defined = {
        name for name, cls in vars(aopay.errors).items()
        if isinstance(cls, type) and issubclass(cls, aopay.AopayError) and cls is not aopay.AopayError
    }
    assert defined == set(aopay._aopay.ERROR_KINDS)
    for name, code in aopay._aopay.ERROR_KINDS.items():
        cls = getattr(aopay, name)
        assert cls.code == code, name
        assert name in aopay.__all__
        assert cls.__bases__[0] is getattr(aopay, aopay._aopay.ERROR_PARENTS[name]), name


def test_a_rate_limit_error_carries_retry_after(sandbox: aopay.Sandbox) -> None:
    client = aopay.Client(REG, sandbox.url, timeout=5.0)
    with pytest.raises(aopay.RateLimitError) as info:
        client.mobile_recharge(**recharge_kwargs(9000000005))  # type: ignore[arg-type]
    assert info.value.retry_after == 1.0 and info.value.http_status == 429

"""The ``aopay`` pytest plugin (entry point ``pytest11``: loaded wherever
aopay is installed; ``-p no:aopay`` turns it off). Fixtures:

- ``aopay_sandbox``: a fresh sandbox per test, stopped after it;
- ``aopay_client``: an ``aopay.Client`` bound to it;
- ``aopay_async_client``: an ``aopay.AsyncClient`` bound to it (for async
  tests under pytest-asyncio or anyio; the sandbox itself is loop-free).

Assertions about what the sandbox received are in ``aopay.testing``.
"""

from __future__ import annotations

from typing import Iterator

import pytest

import aopay

REGISTRATION_ID = "AOP-554"


@pytest.fixture
def aopay_sandbox() -> Iterator[aopay.Sandbox]:
    """A sandbox on a free loopback port, for this test only."""
    with aopay.Sandbox() as sb:
        yield sb


@pytest.fixture
def aopay_client(aopay_sandbox: aopay.Sandbox) -> aopay.Client:
    """A blocking client of ``aopay_sandbox``."""
    return aopay.Client(REGISTRATION_ID, base_url=aopay_sandbox.url)


@pytest.fixture
def aopay_async_client(aopay_sandbox: aopay.Sandbox) -> aopay.AsyncClient:
    """An asyncio client of ``aopay_sandbox``."""
    return aopay.AsyncClient(REGISTRATION_ID, base_url=aopay_sandbox.url)

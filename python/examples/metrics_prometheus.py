"""Metrics for Prometheus from the ``on_call`` hook, against the embedded
sandbox: a counter of calls by endpoint and outcome, and a histogram of
their durations. Needs ``pip install prometheus-client``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

import aopay

registry = CollectorRegistry()
CALLS = Counter(
    "aopay_calls", "AOPay API calls by endpoint and outcome", ["endpoint", "outcome", "error"], registry=registry
)
SECONDS = Histogram("aopay_call_seconds", "AOPay API call duration", ["endpoint"], registry=registry)


def observe(event: aopay.CallEvent) -> None:
    # Labels of few values only: never the number or the reference.
    CALLS.labels(event.endpoint, event.outcome, event.error or "").inc()
    SECONDS.labels(event.endpoint).observe(event.duration_us / 1e6)


def main() -> None:
    with aopay.Sandbox() as sb:
        client = aopay.Client(registration_id="AOP-554", base_url=sb.url, on_call=observe)
        for number in ["9876543210", "9000000001", "9000000005"]:
            try:
                client.mobile_recharge(product_id=518, amount=10, customer_number=number, geocode="23.6784,76.8764")
            except aopay.RateLimitError:
                pass
    text = generate_latest(registry).decode()
    print("\n".join(line for line in text.splitlines() if line.startswith("aopay_calls_total")))
    assert 'outcome="FAILED"' in text and 'error="AOPAY_RATE_LIMIT"' in text


if __name__ == "__main__":
    main()

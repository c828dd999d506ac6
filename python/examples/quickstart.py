"""The README's quick start, sync and async, against the embedded sandbox."""

from __future__ import annotations

import asyncio

import aopay


def sync_demo() -> None:
    with aopay.Sandbox() as sb:
        client = aopay.Client(registration_id="AOP-554", base_url=sb.url)
        r: aopay.Recharge = client.mobile_recharge(
            product_id=518, amount=10, customer_number="9876543210", geocode="23.6784,76.8764"
        )
        print(r.status, r.reference_id)
        pending = client.mobile_recharge(
            product_id=518, amount=10, customer_number=9000000002, geocode=(23.6784, 76.8764)
        )
        if not pending.is_final and pending.reference_id is not None:
            final = client.wait_for_final(pending.reference_id, timeout=30.0)
            print("after waiting:", final.status)
        try:
            client.mobile_recharge(
                product_id=518, amount=10, customer_number="9000000006", geocode="23.6784,76.8764"
            )
        except aopay.OutcomeUnknownError as e:
            print("do not resubmit:", e.message, "retry_safe =", e.retry_safe)
        except aopay.AopayError as e:
            print("safe to fix and retry:", e.code, e.field)


async def async_demo() -> None:
    async with aopay.Sandbox() as sb:
        client = aopay.AsyncClient(registration_id="AOP-554", base_url=sb.url)
        results = await asyncio.gather(
            *[
                client.mobile_recharge(
                    product_id=518, amount=10, customer_number=f"98765{i:05}", geocode="23.6784,76.8764"
                )
                for i in range(100)
            ]
        )
        statuses: set[str] = {r.status for r in results}
        print(statuses, sb.stats()["requests"]["mobile_recharge"])


if __name__ == "__main__":
    sync_demo()
    asyncio.run(async_demo())

"""AsyncClient in the asyncio idioms applications use: ``asyncio.run`` of a
call, calls created before the loop runs, one client over several loops,
``asyncio.wait_for`` and ``asyncio.timeout``. Type-checked with
``mypy --strict`` and run by scripts/test."""

from __future__ import annotations

import asyncio

import aopay

GEO = "23.6784,76.8764"


def main() -> None:
    with aopay.Sandbox() as sb:
        client = aopay.AsyncClient(registration_id="AOP-554", base_url=sb.url)

        # A call is a coroutine: asyncio.run takes it as it is.
        first: aopay.Recharge = asyncio.run(
            client.mobile_recharge(product_id=518, amount=10, customer_number="9876543210", geocode=GEO)
        )
        print("asyncio.run:", first.status)

        # Created before any loop runs; nothing is sent until awaited.
        batch = [
            client.mobile_recharge(product_id=518, amount=10, customer_number=f"98765432{i:02d}", geocode=GEO)
            for i in range(3)
        ]

        async def settle() -> list[aopay.Recharge]:
            return list(await asyncio.gather(*batch))

        print("gathered:", [r.status for r in asyncio.run(settle())])

        # The same client on a later loop, with deadlines of the caller's own.
        async def with_deadlines() -> str:
            r = await asyncio.wait_for(
                client.mobile_recharge(product_id=518, amount=10, customer_number="9000000002", geocode=GEO),
                timeout=10.0,
            )
            reference = r.reference_id
            if reference is None:
                return r.status
            async with asyncio.timeout(30.0):
                final = await client.wait_for_final(reference, timeout=20.0, initial_interval=0.05)
            return final.status

        print("after waiting:", asyncio.run(with_deadlines()))


if __name__ == "__main__":
    main()

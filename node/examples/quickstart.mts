// The README's TypeScript quick start (ESM), type-checked by `tsc --strict`.
import { Client, OutcomeUnknownError, AopayError, Sandbox, type Recharge } from 'aopay'

const sb = await Sandbox.start()
try {
  const client = new Client({ registrationId: 'AOP-554', baseUrl: sb.url, timeoutMs: 30_000 })
  let r: Recharge = await client.mobileRecharge({
    productId: 518,
    amount: 10,
    customerNumber: '9876543210',
    geocode: [23.6784, 76.8764],
  })
  if (!r.isFinal && r.referenceId !== null) {
    r = await client.waitForFinal(r.referenceId, { timeoutMs: 120_000, signal: AbortSignal.timeout(130_000) })
  }
  console.log(r.status, r.referenceId)
  try {
    await client.mobileRecharge({ productId: 518, amount: 10, customerNumber: 9000000006, geocode: '23.6784,76.8764' })
  } catch (e) {
    if (e instanceof OutcomeUnknownError) console.log('do NOT resubmit:', e.detail, e.retrySafe)
    else if (e instanceof AopayError) console.log('safe to retry after fixing:', e.code, e.field)
    else throw e
  }
} finally {
  await sb.stop()
}

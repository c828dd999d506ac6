// The README's Node quick start (ESM), against the embedded sandbox.
import { Client, Sandbox, OutcomeUnknownError, AopayError } from 'aopay'

const sb = await Sandbox.start()
const client = new Client({ registrationId: 'AOP-554', baseUrl: sb.url })
let r = await client.mobileRecharge({ productId: 518, amount: 10, customerNumber: '9876543210', geocode: '23.6784,76.8764' })
console.log(r.status, r.referenceId)

r = await client.mobileRecharge({ productId: 518, amount: 10, customerNumber: '9000000002', geocode: [23.6784, 76.8764] })
if (!r.isFinal) r = await client.waitForFinal(r.referenceId, { timeoutMs: 120000 })
console.log('after waiting:', r.status)

try {
  await client.mobileRecharge({ productId: 518, amount: 10, customerNumber: '9000000006', geocode: '23.6784,76.8764' })
} catch (e) {
  if (e instanceof OutcomeUnknownError) console.log('do NOT resubmit:', e.detail)
  else if (e instanceof AopayError) console.log('safe to fix and retry:', e.code)
  else throw e
}
await sb.stop()

// The same from CommonJS TypeScript, type-checked by `tsc --strict`.
import aopay = require('aopay')

async function main(): Promise<void> {
  const sb = await aopay.Sandbox.start({ pendingChecks: 1 })
  const client = new aopay.Client({ registrationId: 'AOP-554', baseUrl: sb.url })
  const r = await client.mobileRecharge({ productId: 518, amount: 10, customerNumber: 9000000002, geocode: '23.6784,76.8764' })
  const status: aopay.RechargeStatus = r.status
  console.log(status, sb.stats().requests.mobileRecharge)
  await sb.stop()
}

void main()

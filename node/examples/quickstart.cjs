// The README's Node quick start (CommonJS), against the embedded sandbox.
const { Client, Sandbox } = require('aopay')

async function main() {
  const sb = await Sandbox.start()
  const client = new Client({ registrationId: 'AOP-554', baseUrl: sb.url })
  const r = await client.mobileRecharge({ productId: 518, amount: 10, customerNumber: 9876543210, geocode: [23.6784, 76.8764] })
  console.log(r.status, r.referenceId, sb.stats())
  await sb.stop()
}

main()

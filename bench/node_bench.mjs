// Node side of the benchmark: aopay against global fetch and undici.request.
// Usage: node node_bench.mjs URL SECONDS RUNS → one JSON line per measurement.
import { Client } from 'aopay'
import { request, Agent } from 'undici'

const [url, secondsArg, runsArg] = process.argv.slice(2)
const seconds = Number(secondsArg)
const runs = Number(runsArg)
const endpoint = `${url}/api/AOP/V2/MobileRecharge`
const body = JSON.stringify({ RegistrationID: 'AOP-554', ProductID: 518, Amount: 10, Geocode: '23.6784,76.8764', CustomerNumber: 9876543210 })
const headers = { 'content-type': 'application/json', accept: 'application/json' }
const input = { productId: 518, amount: 10, customerNumber: '9876543210', geocode: '23.6784,76.8764' }

const client = new Client({ registrationId: 'AOP-554', baseUrl: url })
// The "+onCall" client's hook counts by endpoint and outcome, as a metrics exporter would.
const counts = new Map()
const count = (e) => {
  const key = `${e.endpoint} ${e.outcome}`
  counts.set(key, (counts.get(key) ?? 0) + 1)
}
const observed = new Client({ registrationId: 'AOP-554', baseUrl: url, onCall: count })
const dispatcher = new Agent({ connections: 64 })
const clients = {
  'aopay.Client': () => client.mobileRecharge(input),
  'aopay.Client+onCall': () => observed.mobileRecharge(input),
  fetch: async () => (await fetch(endpoint, { method: 'POST', headers, body })).json(),
  'undici.request': async () => (await request(endpoint, { method: 'POST', headers, body, dispatcher })).body.json(),
}

async function measure(call, inFlight, secs) {
  let n = 0
  const start = performance.now()
  const deadline = start + secs * 1000
  const worker = async () => {
    while (performance.now() < deadline) {
      await call()
      n++
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  return n / ((performance.now() - start) / 1000)
}

for (const [mode, inFlight] of [['seq', 1], ['c64', 64]]) {
  for (const call of Object.values(clients)) await measure(call, inFlight, 0.3)
  for (let i = 0; i < runs; i++) {
    for (const [name, call] of Object.entries(clients)) {
      const cps = await measure(call, inFlight, seconds)
      console.log(JSON.stringify({ client: name, mode, calls_per_sec: Math.round(cps * 10) / 10 }))
    }
  }
}
await dispatcher.close()

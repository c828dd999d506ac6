// The fault run from Node: N recharges, 16 in flight, through the fault proxy
// that `fault_harness` starts with its own sandbox; the harness checks every
// outcome with the Rust run's rules. Also fails on an unhandled rejection.
// SCENARIO idle or nginx: the idle keep-alive runs (no faults; a proxy or
// nginx closes idle connections): 4 workers, each with one client for all
// its calls, pausing 75-1475 ms between them; every call must succeed.
// SCENARIO payments: the referenced writes (doRecharge, payBill,
// fastagRecharge in turn) through the faults; every error must carry its
// reference.
// Usage: node reliability/faults.mjs HARNESS [N] [SEED] [faults|idle|nginx|payments]   (after npm run build in node/)
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
// The package itself (its ESM entry), built in node/.
const { AopayError, Client } = await import(new URL('../node/index.mjs', import.meta.url))

const [harnessPath, n = '2000', seed = '24303', scenario = 'faults'] = process.argv.slice(2)
const PAYMENTS = scenario === 'payments'
const IDLE = !['faults', 'payments'].includes(scenario)
const GEO = '27.2232,78.26535'

/** A fetched bill's JSON (the run sends only the payments). */
function bill(number, fastag) {
  const fetch = fastag
    ? { billAmount: '0', acceptPayment: true, acceptPartPay: true, minBillAmount: '100.00', maxBillAmount: '10000.00' }
    : { billAmount: '820.50', acceptPayment: true, acceptPartPay: false }
  return { operator: fastag ? 311 : 11, account: String(number), mode: 'online', raw: { status: true, amount: fetch.billAmount, bill_fetch: fetch } }
}

/** The call for `number`: a recharge, or (payments) one of the three writes in turn. */
async function call(client, number) {
  if (!PAYMENTS) {
    const r = await client.mobileRecharge({ productId: 518, amount: 10, customerNumber: String(number), geocode: '23.6784,76.8764' })
    return `Recharge ${r.status}`
  }
  const kind = number % 3
  const p = kind === 0 ? await client.doRecharge({ operator: 11, number: String(number), amount: 10 })
    : kind === 1 ? await client.payBill({ bill: bill(number, false), geocode: GEO })
      : await client.fastagRecharge({ bill: bill(number, true), amount: 500, geocode: GEO })
  return `Payment ${p.status}`
}
const IN_FLIGHT = IDLE ? 4 : 16
let unhandled = 0
process.on('unhandledRejection', (e) => { unhandled++; console.error('unhandled rejection', e) })

const harness = spawn(harnessPath, [n, seed, 'Node', String(IN_FLIGHT), scenario], { stdio: ['pipe', 'pipe', 'inherit'] })
const stdout = createInterface({ input: harness.stdout })
const lines = stdout[Symbol.asyncIterator]()
const plan = JSON.parse((await lines.next()).value)
const queue = [...plan.calls]
const results = []

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function worker() {
  const shared = new Client({ registrationId: 'AOP-554', baseUrl: plan.proxy, timeoutMs: plan.timeout_ms })
  for (;;) {
    const next = queue.pop()
    if (!next) return
    const [number, useProxy] = next
    // Faults: a fresh client per call (one connection, so one fault, per
    // call). Idle: one client, whose pooled connection the server closes
    // while the worker pauses.
    const client = IDLE ? shared : new Client({
      registrationId: 'AOP-554',
      baseUrl: useProxy ? plan.proxy : plan.refused,
      timeoutMs: plan.timeout_ms,
    })
    const started = performance.now()
    let outcome, safe
    try {
      outcome = await call(client, number)
      safe = null
    } catch (e) {
      outcome = e instanceof AopayError ? e.name : `unexpected ${e?.name}: ${e?.message}`
      if (PAYMENTS && e instanceof AopayError && !e.referenceId) outcome += ' without a reference'
      safe = e instanceof AopayError ? e.retrySafe : null
    }
    const elapsed = (performance.now() - started).toFixed(1)
    results.push(`[${number},${JSON.stringify(outcome)},${JSON.stringify(safe)},${elapsed}]`)
    if (IDLE) {
      // Never within 25 ms of a close (see Scenario::pauses_ms).
      await sleep(plan.pauses_ms[Math.floor(Math.random() * plan.pauses_ms.length)])
    }
  }
}

await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
harness.stdin.end(results.join('\n') + '\n')
for await (const line of lines) console.log(line)
const code = await new Promise((resolve) => harness.on('exit', resolve))
if (unhandled) console.log(`VIOLATION ${unhandled} unhandled rejections`)
process.exit(code || (unhandled ? 1 : 0))

// The fault run from Node: N recharges, 16 in flight, through the fault proxy
// that `fault_harness` starts with its own sandbox; the harness checks every
// outcome with the Rust run's rules. Also fails on an unhandled rejection.
// SCENARIO idle or nginx: the idle keep-alive runs (no faults; a proxy or
// nginx closes idle connections): 4 workers, each with one client for all
// its calls, pausing 75-1475 ms between them; every call must succeed.
// Usage: node reliability/faults.mjs HARNESS [N] [SEED] [faults|idle|nginx]   (after npm run build in node/)
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
// The package itself (its ESM entry), built in node/.
const { AopayError, Client } = await import(new URL('../node/index.mjs', import.meta.url))

const [harnessPath, n = '2000', seed = '24303', scenario = 'faults'] = process.argv.slice(2)
const IDLE = scenario !== 'faults'
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
      const r = await client.mobileRecharge({ productId: 518, amount: 10, customerNumber: String(number), geocode: '23.6784,76.8764' })
      outcome = `Recharge ${r.status}`
      safe = null
    } catch (e) {
      outcome = e instanceof AopayError ? e.name : `unexpected ${e?.name}: ${e?.message}`
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

// Node soak: N calls (16 in flight) against a sandbox in another process;
// RSS, descriptors and threads after a warm-up of 10,000 calls and at the end.
// Usage: node soak.mjs SANDBOX_URL [N]   (run from node/ so that 'aopay' resolves)
import { readdirSync } from 'node:fs'
import { Client } from 'aopay'

// Run as a file (argv: node, file, …) or evaluated with -e (argv: node, …).
const args = process.argv.slice(process.argv[1]?.endsWith('.mjs') ? 2 : 1)
const [url, nArg] = args
const n = Number(nArg ?? 200000)
const snapshot = () => [Math.round(process.memoryUsage().rss / 1024), readdirSync('/proc/self/fd').length, readdirSync('/proc/self/task').length]

const before = snapshot()
const client = new Client({ registrationId: 'AOP-554', baseUrl: url })
let next = 0
let failed = 0
let warm = before
async function worker() {
  for (;;) {
    const i = next++
    if (i >= n) return
    if (i === 10000) warm = snapshot()
    try {
      await client.mobileRecharge({ productId: 518, amount: 10, customerNumber: String(7600000000 + i), geocode: '23.6784,76.8764' })
    } catch {
      failed++
    }
  }
}
await Promise.all(Array.from({ length: 16 }, worker))
globalThis.gc?.()
const end = snapshot()
console.log(`node soak: ${n} calls, ${failed} failed; RSS ${before[0]} KiB before, ${warm[0]} KiB after warm-up, ${end[0]} KiB at the end (growth ${end[0] - warm[0]} KiB); fds ${before[1]} → ${warm[1]} → ${end[1]}; threads ${before[2]} → ${warm[2]} → ${end[2]}`)
process.exit(failed === 0 ? 0 : 1)

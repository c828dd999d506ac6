// Node soak: N calls (16 in flight) against a sandbox in another process.
// Samples RSS, the V8 heap (committed and in use, after a full GC),
// descriptors and threads before, after a warm-up of 100,000 calls, every
// 100,000 calls after it, and at the end.
// Usage: node --expose-gc soak.mjs SANDBOX_URL [N]   (run from node/ so that 'aopay' resolves)
import { readdirSync } from 'node:fs'
import { Client } from 'aopay'

// Run as a file (argv: node, file, …) or evaluated with -e (argv: node, …).
const args = process.argv.slice(process.argv[1]?.endsWith('.mjs') ? 2 : 1)
const [url, nArg] = args
const n = Number(nArg ?? 200000)
const WARM_UP = 100000
const kib = (b) => Math.round(b / 1024)
const snapshot = () => {
  globalThis.gc?.()
  const m = process.memoryUsage()
  return {
    rss: kib(m.rss), heapTotal: kib(m.heapTotal), heapUsed: kib(m.heapUsed),
    fds: readdirSync('/proc/self/fd').length, threads: readdirSync('/proc/self/task').length,
  }
}

const samples = [['before', snapshot()]]
let client = new Client({ registrationId: 'AOP-554', baseUrl: url })
let next = 0
let failed = 0
async function worker() {
  for (;;) {
    const i = next++
    if (i >= n) return
    // V8 grows its young generation to its ceiling (heap committed 6 → 38 MB)
    // over the first ~100,000 calls; live objects stay at ~3 MB throughout.
    if (i >= WARM_UP && i % WARM_UP === 0) samples.push([String(i), snapshot()])
    try {
      await client.mobileRecharge({ productId: 518, amount: 10, customerNumber: String(7600000000 + i), geocode: '23.6784,76.8764' })
    } catch {
      failed++
    }
  }
}
await Promise.all(Array.from({ length: 16 }, worker))
samples.push(['end', snapshot()])
// Drop the client: once V8 collects it, its pool (and sockets) must close.
client = null
let dropped
for (let i = 0; i < 40; i++) {
  await new Promise((resolve) => setTimeout(resolve, 50))
  dropped = snapshot()
  if (dropped.fds <= samples[0][1].fds) break
}
const [, warm] = samples[1] ?? samples[0]
const [, end] = samples[samples.length - 1]
const series = samples.map(([at, s]) => `${at}: ${s.rss}/${s.heapTotal}/${s.heapUsed}`).join(', ')
const native = (x) => x.rss - x.heapTotal
console.log(`node soak: ${n} calls, ${failed} failed; RSS ${samples[0][1].rss} KiB before, ${warm.rss} KiB after warm-up, ${end.rss} KiB at the end (growth ${end.rss - warm.rss} KiB); fds ${samples[0][1].fds} → ${warm.fds} → ${end.fds} → ${dropped.fds} (client dropped); threads ${samples[0][1].threads} → ${warm.threads} → ${end.threads} → ${dropped.threads}`)
console.log(`  of which: V8 heap committed ${warm.heapTotal} → ${end.heapTotal} KiB (V8 sizing its young generation), V8 heap in use ${warm.heapUsed} → ${end.heapUsed} KiB (growth ${end.heapUsed - warm.heapUsed}), the rest (addon, runtime, code) ${native(warm)} → ${native(end)} KiB (growth ${native(end) - native(warm)})`)
console.log(`  RSS / V8 heap committed / V8 heap in use, KiB, after a full GC: ${series}`)
process.exit(failed === 0 ? 0 : 1)

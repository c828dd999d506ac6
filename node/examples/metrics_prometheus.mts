// Metrics for Prometheus from the `onCall` hook (prom-client), against the
// embedded sandbox: calls by endpoint and outcome, and their durations.
import { Client, RateLimitError, Sandbox, type CallEvent } from 'aopay'
import { Counter, Histogram, Registry } from 'prom-client'

const registry = new Registry()
const calls = new Counter({
  name: 'aopay_calls_total',
  help: 'AOPay API calls by endpoint and outcome',
  labelNames: ['endpoint', 'outcome', 'error'] as const,
  registers: [registry],
})
const seconds = new Histogram({
  name: 'aopay_call_seconds',
  help: 'AOPay API call duration',
  labelNames: ['endpoint'] as const,
  registers: [registry],
})

// Labels of few values only: never the number or the reference.
function observe(e: CallEvent): void {
  calls.inc({ endpoint: e.endpoint, outcome: e.outcome, error: e.error ?? '' })
  seconds.observe({ endpoint: e.endpoint }, e.durationUs / 1e6)
}

const sb = await Sandbox.start()
try {
  const client = new Client({ registrationId: 'AOP-554', baseUrl: sb.url, onCall: observe })
  for (const customerNumber of ['9876543210', '9000000001', '9000000005']) {
    try {
      await client.mobileRecharge({ productId: 518, amount: 10, customerNumber, geocode: '23.6784,76.8764' })
    } catch (e) {
      if (!(e instanceof RateLimitError)) throw e
    }
  }
} finally {
  await sb.stop()
}
const text = await registry.metrics()
console.log(text.split('\n').filter((l) => l.startsWith('aopay_calls_total')).join('\n'))
if (!text.includes('outcome="FAILED"') || !text.includes('error="AOPAY_RATE_LIMIT"')) throw new Error('missing series')

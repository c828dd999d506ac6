'use strict'
const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const util = require('node:util')

const aopay = require('aopay')
const { REG, SCENARIOS, BAD_INPUTS, GOOD_INPUTS, input } = require('./helpers.cjs')

async function withSandbox(fn, options) {
  const sb = await aopay.Sandbox.start(options)
  try {
    return await fn(sb, new aopay.Client({ registrationId: REG, baseUrl: sb.url, timeoutMs: 1000 }))
  } finally {
    await sb.stop()
  }
}

describe('magic scenarios', () => {
  for (const [number, [expected, httpStatus, retrySafe]] of Object.entries(SCENARIOS)) {
    test(`${number} → ${expected}`, () =>
      withSandbox(async (sb, client) => {
        if (/^[A-Z]+$/.test(expected)) {
          const r = await client.mobileRecharge(input(number))
          assert.equal(r.status, expected)
          assert.equal(r.httpStatus, httpStatus)
          assert.match(r.referenceId, /^AOP554R\d+$/)
          assert.equal(r.raw.ReferanceID, r.referenceId)
          assert.equal(r.isFinal, expected === 'SUCCESS' || expected === 'FAILED')
        } else {
          const err = await client.mobileRecharge(input(number)).then(
            () => assert.fail('expected an error'),
            (e) => e,
          )
          assert.ok(err instanceof aopay[expected], `${err}`)
          assert.ok(err instanceof aopay.AopayError)
          assert.ok(err instanceof Error)
          assert.equal(err.name, expected)
          assert.equal(err.retrySafe, retrySafe)
          assert.equal(err.httpStatus, httpStatus)
          assert.equal(err.code, aopay[expected].code)
          assert.match(err.code, /^AOPAY_/)
        }
        assert.equal(sb.rechargesFor(number), 1, 'received exactly once')
        assert.equal(sb.stats().requests.mobileRecharge, 1)
      }))
  }

  test('401 carries api code 5; 429 carries retryAfterMs', () =>
    withSandbox(async (_sb, client) => {
      const auth = await client.mobileRecharge(input(9000000004)).catch((e) => e)
      assert.equal(auth.apiCode, 5)
      assert.equal(auth.detail, 'Invalid signature encoding')
      const rate = await client.mobileRecharge(input(9000000005)).catch((e) => e)
      assert.equal(rate.retryAfterMs, 1000)
    }))
})

describe('status and waiting', () => {
  test('pending then success / failed through waitForFinal', () =>
    withSandbox(async (_sb, client) => {
      for (const [number, fate] of [[9000000002, 'SUCCESS'], [9000000003, 'FAILED']]) {
        const r = await client.mobileRecharge(input(number))
        assert.equal(r.status, 'PENDING')
        const f = await client.waitForFinal(r.referenceId, { initialIntervalMs: 10, maxIntervalMs: 50 })
        assert.equal(f.status, fate)
      }
    }))

  test('status retries through 503s', () =>
    withSandbox(async (sb, client) => {
      const r = await client.mobileRecharge(input(9000000010))
      const slow = new aopay.Client({ registrationId: REG, baseUrl: sb.url })
      const s = await slow.rechargeStatus(r.referenceId)
      assert.equal(s.status, 'SUCCESS')
      assert.equal(sb.stats().requests.rechargeStatus, 3)
    }))

  test('unknown reference is ApiError; bad reference is ValidationError', () =>
    withSandbox(async (sb, client) => {
      const e = await client.rechargeStatus('AOP554R1').catch((x) => x)
      assert.ok(e instanceof aopay.ApiError)
      assert.equal(e.apiCode, 404)
      for (const bad of ['', 'a\nb', 'R'.repeat(200)]) {
        const v = await client.rechargeStatus(bad).catch((x) => x)
        assert.ok(v instanceof aopay.ValidationError)
        assert.equal(v.field, 'reference_id')
      }
      const t = await client.rechargeStatus(42).catch((x) => x)
      assert.ok(t instanceof Error)
      assert.equal(sb.stats().requests.rechargeStatus, 1)
    }))

  test('waitForFinal running out of time is OutcomeUnknownError with the reference', () =>
    withSandbox(
      async (_sb, client) => {
        const r = await client.mobileRecharge(input(9000000002))
        const e = await client
          .waitForFinal(r.referenceId, { timeoutMs: 300, initialIntervalMs: 20, maxIntervalMs: 40 })
          .catch((x) => x)
        assert.ok(e instanceof aopay.OutcomeUnknownError)
        assert.equal(e.referenceId, r.referenceId)
        assert.equal(e.retrySafe, false)
      },
      { pendingChecks: 10000 },
    ))

  test('an AbortSignal stops a wait', () =>
    withSandbox(
      async (sb, client) => {
        const r = await client.mobileRecharge(input(9000000002))
        const ac = new AbortController()
        const waiting = client.waitForFinal(r.referenceId, { timeoutMs: 60000, initialIntervalMs: 20, maxIntervalMs: 20, signal: ac.signal })
        setTimeout(() => ac.abort(), 200)
        const e = await waiting.catch((x) => x)
        assert.equal(e.name, 'AbortError')
        const checks = sb.stats().requests.rechargeStatus
        assert.ok(checks >= 2)
        await new Promise((res) => setTimeout(res, 200))
        assert.ok(sb.stats().requests.rechargeStatus <= checks + 1, 'kept polling after abort')
        const pre = await client.waitForFinal(r.referenceId, { signal: AbortSignal.abort(new Error('already')) }).catch((x) => x)
        assert.equal(pre.message, 'already')
      },
      { pendingChecks: 10000 },
    ))
})

describe('inputs', () => {
  for (const [field, override] of BAD_INPUTS) {
    test(`refuses ${field} ${util.inspect(override)}`, () =>
      withSandbox(async (sb, client) => {
        const e = await client.mobileRecharge(input('9876543210', override)).catch((x) => x)
        assert.ok(e instanceof aopay.ValidationError, `${e}`)
        assert.equal(e.field, field)
        assert.equal(e.code, 'AOPAY_VALIDATION')
        assert.equal(e.retrySafe, true)
        assert.ok(e.message.includes(field), e.message)
        assert.equal(sb.stats().requests.mobileRecharge, 0)
        assert.equal(sb.stats().rejectedRequests, 0)
      }))
  }
  for (const override of GOOD_INPUTS) {
    test(`accepts ${util.inspect(override)}`, () =>
      withSandbox(async (_sb, client) => {
        const r = await client.mobileRecharge(input('9876543210', override))
        assert.equal(r.status, 'SUCCESS')
      }))
  }
  test('non-object input is a ValidationError (rejected, not thrown)', () =>
    withSandbox(async (_sb, client) => {
      const p = client.mobileRecharge(null)
      assert.ok(p instanceof Promise)
      assert.ok((await p.catch((x) => x)) instanceof aopay.ValidationError)
    }))
  test('+91 numbers reach the wire normalised', () =>
    withSandbox(async (sb, client) => {
      await client.mobileRecharge(input('+91 98765-43210'))
      assert.equal(sb.rechargesFor(9876543210), 1)
      assert.equal(sb.rechargesFor('9876543210'), 1)
    }))
  const badOptions = [
    [{}, 'registration_id'],
    [{ registrationId: '' }, 'registration_id'],
    [{ registrationId: 5 }, 'registration_id'],
    [{ registrationId: REG, baseUrl: 'http://api.aopay.co.in' }, 'base_url'],
    [{ registrationId: REG, timeoutMs: 0 }, 'timeout'],
    [{ registrationId: REG, timeoutMs: '30' }, 'timeout'],
    [{ registrationId: REG, connectTimeoutMs: -1 }, 'connect_timeout'],
    [{ registrationId: REG, headers: { 'X-Key': 5 } }, 'headers'],
    [{ registrationId: REG, headers: { 'bad name': 'v' } }, 'headers'],
    [{ registrationId: REG, headers: 'x' }, 'headers'],
    [null, 'options'],
  ]
  for (const [options, field] of badOptions) {
    test(`client options ${util.inspect(options)} → ${field}`, () => {
      assert.throws(() => new aopay.Client(options), (e) => e instanceof aopay.ValidationError && e.field === field)
    })
  }
  test('insecure http needs explicit consent', () => {
    new aopay.Client({ registrationId: REG, baseUrl: 'http://api.aopay.co.in', allowInsecureHttp: true })
  })
})

describe('transport', () => {
  test('refused connection is ConnectError', async () => {
    const server = net.createServer()
    await new Promise((res) => server.listen(0, '127.0.0.1', res))
    const { port } = server.address()
    await new Promise((res) => server.close(res))
    const client = new aopay.Client({ registrationId: REG, baseUrl: `http://127.0.0.1:${port}` })
    const e = await client.mobileRecharge(input()).catch((x) => x)
    assert.ok(e instanceof aopay.ConnectError)
    assert.equal(e.retrySafe, true)
  })

  test('1,000 concurrent calls on one client', () =>
    withSandbox(async (sb) => {
      const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url, timeoutMs: 60000 })
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => client.mobileRecharge(input(7000000000 + i))),
      )
      assert.deepEqual(new Set(results.map((r) => r.status)), new Set(['SUCCESS']))
      assert.equal(new Set(results.map((r) => r.referenceId)).size, 1000)
      assert.equal(sb.stats().requests.mobileRecharge, 1000)
    }))

  test('inspect shows header names, never values', () => {
    const c = new aopay.Client({ registrationId: REG, headers: { Authorization: 'Bearer SECRET-TOKEN' } })
    const shown = util.inspect(c) + String(c) + JSON.stringify(c)
    assert.ok(shown.includes('Authorization'))
    assert.ok(!shown.includes('SECRET-TOKEN'))
  })

  test('a stopped sandbox refuses; its methods say so', async () => {
    const sb = await aopay.Sandbox.start()
    await sb.stop()
    await sb.stop()
    assert.throws(() => sb.stats())
    const c = new aopay.Client({ registrationId: REG, baseUrl: sb.url })
    assert.ok((await c.mobileRecharge(input()).catch((x) => x)) instanceof aopay.ConnectError)
  })

  test('MAGIC_NUMBERS and VERSION are exported', () => {
    assert.ok(aopay.MAGIC_NUMBERS['9000000001'].includes('FAILED'))
    assert.match(aopay.VERSION, /^\d+\.\d+\.\d+/)
  })
})

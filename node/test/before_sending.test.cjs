'use strict'
// Every invalid client option, call option and argument is refused before
// anything is sent (the sandbox receives nothing), and an abandoned promise
// never loses a journaled recharge's outcome nor sends it twice.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const aopay = require('aopay')
const { REG, input } = require('./helpers.cjs')

function received(sb) {
  const s = sb.stats()
  return s.requests.mobileRecharge + s.requests.rechargeStatus + s.rejectedRequests
}

test('every invalid option is refused before sending', async () => {
  const sb = await aopay.Sandbox.start()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aopay-node-before-'))
  const notPem = 'not a certificate'
  try {
    // [label, client options (on top of valid ones)]
    const clientOptions = [
      ['timeoutMs 0', { timeoutMs: 0 }],
      ['timeoutMs -1', { timeoutMs: -1 }],
      ['timeoutMs NaN', { timeoutMs: NaN }],
      ['timeoutMs Infinity', { timeoutMs: Infinity }],
      ['timeoutMs string', { timeoutMs: '30000' }],
      ['connectTimeoutMs 0', { connectTimeoutMs: 0 }],
      ['connectTimeoutMs NaN', { connectTimeoutMs: NaN }],
      ['headers array', { headers: ['X-Key: v'] }],
      ['header value number', { headers: { 'X-Key': 5 } }],
      ['header name invalid', { headers: { 'Bad Name': 'v' } }],
      ['header value non-ASCII', { headers: { 'X-Key': 'café' } }],
      ['header value newline', { headers: { 'X-Key': 'a\r\nb' } }],
      ['allowInsecureHttp string', { allowInsecureHttp: 'yes' }],
      ['rootCertificates not PEM', { rootCertificates: notPem }],
      ['rootCertificates number', { rootCertificates: 7 }],
      ['rootCertificates Uint16Array', { rootCertificates: new Uint16Array(4) }],
      ['journal number', { journal: 5 }],
      ['journal missing dir', { journal: '/nonexistent/dir/j.db' }],
      ['journal bad postgres', { journal: { postgres: 'mysql://x' } }],
      ['baseUrl insecure', { baseUrl: 'http://example.com' }],
      ['baseUrl ftp', { baseUrl: 'ftp://127.0.0.1' }],
      ['baseUrl credentials', { baseUrl: 'https://u:p@127.0.0.1' }],
      ['registrationId empty', { registrationId: '' }],
      ['registrationId too long', { registrationId: 'A'.repeat(65) }],
      ['registrationId number', { registrationId: 554 }],
    ]
    for (const [label, options] of clientOptions) {
      let err
      try {
        const c = new aopay.Client({ registrationId: REG, baseUrl: sb.url, ...options })
        // A journal may only fail on first use: still before sending.
        await c.mobileRecharge(input('9000000002', { idempotencyKey: 'k1' }))
      } catch (e) {
        err = e
      }
      assert.ok(err instanceof aopay.AopayError, `${label}: ${err}`)
      assert.equal(err.retrySafe, true, `${label}: ${err}`)
      assert.equal(received(sb), 0, `${label}: sent although invalid`)
    }

    const c = new aopay.Client({ registrationId: REG, baseUrl: sb.url })
    const calls = [
      ['waitForFinal timeoutMs 0', () => c.waitForFinal('AOP554R1', { timeoutMs: 0 })],
      ['waitForFinal timeoutMs NaN', () => c.waitForFinal('AOP554R1', { timeoutMs: NaN })],
      ['waitForFinal timeoutMs -5', () => c.waitForFinal('AOP554R1', { timeoutMs: -5 })],
      ['waitForFinal initialIntervalMs 0', () => c.waitForFinal('AOP554R1', { initialIntervalMs: 0 })],
      ['waitForFinal maxIntervalMs Infinity', () => c.waitForFinal('AOP554R1', { maxIntervalMs: Infinity })],
      ['waitForFinal empty reference', () => c.waitForFinal('')],
      ['rechargeStatus empty reference', () => c.rechargeStatus('')],
      ['rechargeStatus control character', () => c.rechargeStatus('AOP\u0007')],
      ['idempotencyKey without a journal', () => c.mobileRecharge(input('9000000002', { idempotencyKey: 'k1' }))],
      ['idempotencyKey number', () => c.mobileRecharge(input('9000000002', { idempotencyKey: 5 }))],
      ['input null', () => c.mobileRecharge(null)],
    ]
    for (const [label, call] of calls) {
      const err = await call().then(() => null, (e) => e)
      assert.ok(err instanceof aopay.AopayError, `${label}: ${err}`)
      assert.equal(err.retrySafe, true, `${label}`)
      assert.equal(received(sb), 0, `${label}: sent although invalid`)
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
    await sb.stop()
  }
})

test('a wrong-typed argument is a ValidationError naming it', async () => {
  const sb = await aopay.Sandbox.start()
  try {
    const c = new aopay.Client({ registrationId: REG, baseUrl: sb.url })
    const calls = [
      ['reference_id', () => c.rechargeStatus(123)],
      ['reference_id', () => c.rechargeStatus(undefined)],
      ['reference_id', () => c.waitForFinal(123)],
      ['reference_id', () => c.waitForFinal({ referenceId: 'AOP554R1' })],
      ['options', () => c.waitForFinal('AOP554R1', 5)],
      ['options', () => c.waitForFinal('AOP554R1', ['timeoutMs'])],
      ['timeout', () => c.waitForFinal('AOP554R1', { timeoutMs: '5000' })],
    ]
    for (const [field, call] of calls) {
      const err = await call().then(() => null, (e) => e)
      assert.ok(err instanceof aopay.ValidationError, `${field}: ${err}`)
      assert.equal(err.field, field, String(err))
      assert.equal(err.retrySafe, true)
    }
    assert.equal(received(sb), 0)
  } finally {
    await sb.stop()
  }
})

test('an abandoned promise keeps the journaled outcome and never sends twice', async () => {
  const sb = await aopay.Sandbox.start({ slowDelayMs: 400 })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aopay-node-abandon-'))
  try {
    const journal = path.join(dir, 'orders.db')
    const c = new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal, timeoutMs: 5000 })
    // 9000000007 answers after slowDelayMs: the caller gives up first.
    const call = c.mobileRecharge(input('9000000007', { idempotencyKey: 'order-abandoned' }))
    const first = await Promise.race([call.then(() => 'answered'), new Promise((r) => setTimeout(() => r('abandoned'), 50))])
    assert.equal(first, 'abandoned')
    // The call finishes on its own and records what happened.
    const deadline = Date.now() + 5000
    while ((await c.journalPending()).length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
    }
    assert.deepEqual(await c.journalPending(), [])
    const again = await c.mobileRecharge(input('9000000007', { idempotencyKey: 'order-abandoned' }))
    assert.equal(again.status, 'SUCCESS')
    assert.equal(sb.rechargesFor(9000000007), 1)
    assert.equal((await call).status, 'SUCCESS')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
    await sb.stop()
  }
})

test('ClientOptions in index.d.ts are exactly the core options, and the wrapper\'s logger', () => {
  const fs = require('node:fs')
  const path = require('node:path')
  const native = require('../native.cjs')
  const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')
  const body = dts.slice(dts.indexOf('export interface ClientOptions {'))
  const block = body.slice(0, body.indexOf('\n}'))
  const declared = [...block.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]).sort()
  // `logger` is the JS side's own: the native client only learns whether there is one.
  assert.deepEqual(declared, [...native.clientOptionNames(), 'logger'].sort())
})

test('BatchOptions in index.d.ts are exactly the core batch options, with their defaults', () => {
  const fs = require('node:fs')
  const path = require('node:path')
  const native = require('../native.cjs')
  const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')
  const body = dts.slice(dts.indexOf('export interface BatchOptions {'))
  const block = body.slice(0, body.indexOf('\n}'))
  const declared = [...block.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]).sort()
  const options = native.batchOptions()
  assert.deepEqual(declared, options.map(([name]) => name).sort())
  // Each documented default is the core's (milliseconds for durations).
  for (const [name, def] of options) {
    if (def === '') continue
    const docs = block.slice(0, block.search(new RegExp(`^ {2}${name}\\??:`, 'm')))
    const doc = docs.slice(docs.lastIndexOf('/**'))
    const shown = name.endsWith('Ms') ? String(Number(def) * 1000) : def
    assert.match(doc, new RegExp(`default ${shown}\\b`), name)
  }
})

test('an unknown batch option is refused, naming the options', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aopay-batch-options-'))
  const client = new aopay.Client({ registrationId: REG, baseUrl: 'http://127.0.0.1:9', journal: path.join(dir, 'j.db') })
  for (const bad of ['concurency', 'wait_timeout']) {
    assert.throws(() => client.runBatch([], { [bad]: 1, createJournal: true }),
      (e) => e instanceof aopay.ValidationError && e.field === 'options' && /waitTimeoutMs/.test(e.message), bad)
  }
  assert.equal(fs.existsSync(path.join(dir, 'j.db')), false, 'a refused batch creates no journal')
})

test('read options take effect; an unknown option is refused', async () => {
  const sb = await aopay.Sandbox.start()
  try {
    // 9000000010: the first two status checks of its transaction get 503.
    for (const [attempts, ok] of [[2, false], [3, true]]) {
      sb.reset()
      const c = new aopay.Client({ registrationId: REG, baseUrl: sb.url, readMaxAttempts: attempts, readAttemptTimeoutMs: 2000 })
      const r = await c.mobileRecharge(input('9000000010'))
      const status = await c.rechargeStatus(r.referenceId).then((x) => x.status, (e) => e.name)
      assert.equal(status, ok ? 'SUCCESS' : 'ServerError')
      assert.equal(sb.stats().requests.rechargeStatus, attempts)
    }
    for (const [options, field] of [[{ timeout: 5000 }, 'options'], [{ readMaxAttempts: 0 }, 'read_max_attempts'], [{ maxResponseBytes: 1.5 }, 'max_response_bytes'], [{ poolIdleTimeoutMs: -1 }, 'pool_idle_timeout']]) {
      assert.throws(() => new aopay.Client({ registrationId: REG, baseUrl: sb.url, ...options }), (e) => e instanceof aopay.ValidationError && e.field === field)
    }
  } finally {
    await sb.stop()
  }
})

test('the error classes are the core kinds', () => {
  const native = require('../native.cjs')
  for (const [name, code, , parent] of JSON.parse(native.errorKinds())) {
    const cls = aopay[name]
    assert.ok(cls && cls.prototype instanceof aopay.AopayError, name)
    assert.equal(Object.getPrototypeOf(cls), aopay[parent], name)
    assert.equal(cls.code, code, name)
  }
  const exported = Object.keys(aopay).filter((k) => aopay[k]?.prototype instanceof aopay.AopayError)
  assert.deepEqual(exported.sort(), JSON.parse(native.errorKinds()).map((k) => k[0]).sort())
})

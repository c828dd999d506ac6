'use strict'
// `onCall`, the metrics hook: one event per call, just before the call
// settles, with no secret; a throwing hook is a warning, never a changed
// result; a hook that is not a function is refused before anything is sent.
const test = require('node:test')
const assert = require('node:assert/strict')
const aopay = require('..')
const { REG, input } = require('./helpers.cjs')
// The package's own helper: these tests are its users too.
const testing = require('../testing.js')
const withSandbox = (fn) => testing.withSandbox(fn, { slowDelayMs: 2000 })

const SECRET = 'tok-SECRET-91bb'


function observed(sb, extra = {}) {
  const events = []
  const client = new aopay.Client({
    registrationId: REG,
    baseUrl: sb.url,
    timeoutMs: 1000,
    headers: { 'X-Api-Key': SECRET },
    onCall: (e) => events.push(e),
    ...extra,
  })
  return { client, events }
}

test('a recharge and its status are one event each, before each settles', () =>
  withSandbox(async (sb) => {
    const { client, events } = observed(sb)
    const r = await client.mobileRecharge(input('9876543210'))
    assert.equal(events.length, 1, 'the event arrives before the promise settles')
    await client.rechargeStatus(r.referenceId)
    assert.deepEqual(events.map((e) => e.endpoint), ['MobileRecharge', 'RechargeStatus'])
    const [write] = events
    assert.equal(write.outcome, 'SUCCESS')
    assert.equal(write.attempts, 1)
    assert.equal(write.httpStatus, 200)
    assert.equal(write.error, null)
    assert.equal(write.retrySafe, null)
    assert.equal(write.customerNumber, '98XXXXXX10')
    assert.equal(write.referenceId, r.referenceId)
    assert.ok(Number.isInteger(write.durationUs) && write.durationUs > 0)
    assert.ok(Object.isFrozen(write))
    for (const e of events) {
      const shown = JSON.stringify(e)
      assert.ok(!shown.includes(SECRET) && !shown.includes('9876543210'), shown)
    }
  }))

test('errors are events, and a read counts its retries', () =>
  withSandbox(async (sb) => {
    const { client, events } = observed(sb)
    await assert.rejects(client.mobileRecharge(input('9000000007')), aopay.OutcomeUnknownError) // slow: past the deadline
    await assert.rejects(client.mobileRecharge(input('9000000005')), aopay.RateLimitError)
    const r = await client.mobileRecharge(input('9000000010')) // its first two status checks: 503
    const patient = new aopay.Client({ registrationId: REG, baseUrl: sb.url, onCall: (e) => events.push(e) })
    await patient.rechargeStatus(r.referenceId)
    const [unknown, limited, , status] = events
    assert.deepEqual([unknown.outcome, unknown.error, unknown.retrySafe, unknown.httpStatus], ['error', 'AOPAY_OUTCOME_UNKNOWN', false, null])
    assert.deepEqual([limited.error, limited.retrySafe, limited.httpStatus], ['AOPAY_RATE_LIMIT', true, 429])
    assert.deepEqual([status.endpoint, status.attempts, status.outcome], ['RechargeStatus', 3, 'SUCCESS'])
  }))

test('a generated endpoint and every poll of waitForFinal are events', () =>
  withSandbox(async (sb) => {
    const { client, events } = observed(sb, { timeoutMs: 10000 })
    const info = await client.dthInfo({ operator: 'Jio', number: '62638787325776', circle: 'Delhi NCR' })
    assert.ok(info.customerName)
    const pending = await client.mobileRecharge(input('9000000002'))
    const done = await client.waitForFinal(pending.referenceId, { initialIntervalMs: 10, maxIntervalMs: 20 })
    assert.equal(done.status, 'SUCCESS')
    assert.equal(events[0].endpoint, 'GetDthInfo')
    assert.equal(events[1].outcome, 'PENDING')
    const polls = events.slice(2)
    assert.ok(polls.length >= 2 && polls.every((e) => e.endpoint === 'RechargeStatus'), JSON.stringify(polls))
    assert.equal(polls.at(-1).outcome, 'SUCCESS')
  }))

test('a throwing hook is a warning and changes no result', () =>
  withSandbox(async (sb) => {
    const warnings = []
    const onWarning = (w) => warnings.push(w)
    process.on('warning', onWarning)
    try {
      const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url, onCall: () => { throw new Error('metrics backend down') } })
      const r = await client.mobileRecharge(input('9876543210'))
      assert.equal(r.status, 'SUCCESS')
      await new Promise((resolve) => setImmediate(resolve))
      assert.equal(sb.stats().requests.mobileRecharge, 1)
      assert.equal(warnings.length, 1)
      assert.equal(warnings[0].message, 'metrics backend down')
    } finally {
      process.off('warning', onWarning)
    }
  }))

test('a hook that is not a function is refused before anything is sent', () =>
  withSandbox(async (sb) => {
    for (const bad of ['console.log', 42, {}]) {
      assert.throws(
        () => new aopay.Client({ registrationId: REG, baseUrl: sb.url, onCall: bad }),
        (e) => e instanceof aopay.ValidationError && e.field === 'on_call' && e.retrySafe,
      )
    }
    assert.equal(sb.stats().requests.mobileRecharge, 0)
  }))

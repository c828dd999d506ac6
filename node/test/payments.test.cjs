'use strict'
// The referenced writes from Node, end to end against the sandbox: a bill
// fetched, paid and waited for; a bill paid from its stored JSON; unknown
// outcomes resolved by the reference; exact money; the journal (SQLite and
// PostgreSQL) paying each key once across 16 concurrent callers.
const { test, describe } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')

const aopay = require('aopay')
const { REG } = require('./helpers.cjs')

const GEO = '27.2232,78.26535'
const PG = process.env.AOPAY_TEST_POSTGRES

async function withSandbox(fn) {
  const sb = await aopay.Sandbox.start()
  try {
    await fn(sb, new aopay.Client({ registrationId: REG, baseUrl: sb.url }))
  } finally {
    await sb.stop()
  }
}

test('fetch, show, pay, wait', () => withSandbox(async (sb, client) => {
  const bill = await client.fetchBill({ operator: 11, account: '102277100' })
  assert.deepEqual([bill.amount, bill.acceptPartPay, bill.account], ['820.50', false, '102277100'])
  const paid = await client.payBill({ bill, geocode: GEO })
  assert.equal(paid.status, 'SUCCESS')
  assert.match(paid.referenceId, /^\d{25}$/)
  assert.deepEqual([paid.opening, paid.closing, paid.statusCall], ['10000.00', '9179.50', 'bill_status'])
  const again = await client.billStatus({ referenceId: paid.referenceId })
  assert.deepEqual([again.status, again.amount, again.comm, again.tds], ['SUCCESS', '820.50', '2.05', '0.10'])
  assert.deepEqual(await client.waitForFinal(paid), again)
  const s = sb.stats()
  assert.deepEqual([s.requests.fetchBill, s.requests.payBill, s.requests.billStatus], [1, 1, 2])
}))

test('a bill stored as JSON is paid in another request; raw alone is refused', () => withSandbox(async (sb, client) => {
  const fetched = await client.fetchBill({ operator: 11, account: '9000000202' })
  const stored = JSON.parse(JSON.stringify(fetched))
  const paid = await client.payBill({ bill: stored, amount: '500.25', geocode: GEO, referenceId: 'order-77' })
  assert.deepEqual([paid.status, paid.referenceId], ['SUCCESS', 'order-77'])
  assert.equal((await client.billStatus({ referenceId: 'order-77' })).amount, '500.25')
  await assert.rejects(client.payBill({ bill: fetched.raw, geocode: GEO }), (e) => e instanceof aopay.ValidationError && e.field === 'bill')
  const restored = aopay.Bill.fromRaw(fetched.raw, { operator: 11, account: '9000000202', mode: 'online' })
  assert.equal((await client.payBill({ bill: restored, amount: 1, geocode: GEO })).status, 'SUCCESS')
  assert.equal(sb.stats().requests.payBill, 2)
}))

test('money is exact: a fractional number is refused naming amount', () => withSandbox(async (sb, client) => {
  for (const amount of [10, '10', '10.00']) {
    assert.equal((await client.doRecharge({ operator: 11, number: '9876543210', amount })).status, 'SUCCESS')
  }
  for (const amount of [10.5, 0.1 + 0.2, NaN, Infinity, '10.001', true, 10n, '1e1']) {
    await assert.rejects(client.doRecharge({ operator: 11, number: '9876543210', amount }), (e) => {
      assert.ok(e instanceof aopay.ValidationError, `${amount}: ${e}`)
      assert.equal(e.field, 'amount')
      return true
    })
  }
  assert.equal(sb.stats().requests.doRecharge, 3)
}))

for (const [write, statusCall] of [['doRecharge', 'doRechargeStatus'], ['payBill', 'billStatus'], ['fastagRecharge', 'fastagStatus']]) {
  for (const account of ['9000000305', '9000000306']) {
    test(`${write}: an unknown outcome (${account}) is resolved by its reference`, () => withSandbox(async (sb, client) => {
      const input = write === 'doRecharge' ? { operator: 11, number: account, amount: 10 }
        : write === 'payBill' ? { bill: await client.fetchBill({ operator: 11, account }), geocode: GEO }
          : { bill: await client.fetchFastag({ operator: 311, vehicle: account }), amount: 500, geocode: GEO }
      const referenceId = `lost-${account}`
      const err = await client[write]({ ...input, referenceId }).catch((e) => e)
      assert.ok(err instanceof aopay.OutcomeUnknownError, `${err}`)
      assert.deepEqual([err.retrySafe, err.referenceId], [false, referenceId])
      const found = await client[statusCall]({ referenceId })
      assert.deepEqual([found.status, found.referenceId], ['SUCCESS', referenceId])
      const dup = await client[write]({ ...input, referenceId }).catch((e) => e)
      // A payment under the reference exists: never safe to send again.
      assert.ok(dup instanceof aopay.DuplicateReferenceError && dup.apiCode === 18 && dup.httpStatus === 402, `${dup}`)
      assert.deepEqual([dup.referenceId, dup.retrySafe], [referenceId, false])
      assert.equal(sb.stats().payments, 1)
    }))
  }
}

test('pending then refunded is waited for through the FASTag status call', () => withSandbox(async (sb, client) => {
  const tag = await client.fetchFastag({ operator: 311, vehicle: '9000000302' })
  const pending = await client.fastagRecharge({ bill: tag, amount: '150.50', geocode: GEO })
  assert.deepEqual([pending.status, pending.isFinal], ['PENDING', false])
  const done = await client.waitForFinal(pending, { initialIntervalMs: 10 })
  assert.deepEqual([done.status, done.isFinal, done.refunded], ['REFUNDED', true, true])
  assert.ok(done.refundTxnId && done.refundedAt)
  assert.equal(sb.stats().requests.fastagStatus, 2)
  await assert.rejects(client.waitForFinal({ statusCall: 'nope', referenceId: 'x' }), aopay.ValidationError)
}))

const journals = {
  sqlite: () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aopay-node-pay-')), 'orders.db'),
  postgres: PG ? () => ({ postgres: PG }) : null,
}

for (const [name, journal] of Object.entries(journals)) {
  describe(`keyed payments on ${name}`, { skip: journal === null && 'AOPAY_TEST_POSTGRES unset' }, () => {
    test('16 concurrent callers with one key pay one bill', () => withSandbox(async (sb, client) => {
      const bill = await client.fetchBill({ operator: 11, account: '102277100' })
      const spec = journal()
      const idempotencyKey = `order-${crypto.randomUUID()}`
      const results = await Promise.all(Array.from({ length: 16 }, () =>
        new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: spec }).payBill({ bill, geocode: GEO, idempotencyKey })))
      assert.equal(new Set(results.map((r) => r.referenceId)).size, 1)
      assert.equal(sb.stats().requests.payBill, 1)
      const c = new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: spec })
      await assert.rejects(c.doRecharge({ operator: 11, number: '9876543210', amount: 10, idempotencyKey }), aopay.IdempotencyConflictError)
      assert.equal(sb.stats().requests.doRecharge, 0)
    }))

    test('a lost keyed top-up is resolved through its own status call', () => withSandbox(async (sb, client) => {
      const c = new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: journal() })
      const tag = await c.fetchFastag({ operator: 311, vehicle: '9000000306' })
      const idempotencyKey = `tag-${crypto.randomUUID()}`
      const err = await c.fastagRecharge({ bill: tag, amount: 500, geocode: GEO, idempotencyKey }).catch((e) => e)
      assert.ok(err instanceof aopay.OutcomeUnknownError && err.referenceId, `${err}`)
      const mine = (await c.journalPending()).filter((e) => e.key === idempotencyKey)
      assert.deepEqual(mine.map((e) => [e.endpoint, e.state, e.referenceId]), [['fastag_recharge', 'unknown', err.referenceId]])
      const [line] = (await c.reconcileJournal()).filter((e) => e.key === idempotencyKey)
      assert.deepEqual([line.status, line.payment.referenceId, line.error], ['SUCCESS', err.referenceId, null])
      const again = await c.fastagRecharge({ bill: tag, amount: 500, geocode: GEO, idempotencyKey })
      assert.deepEqual([again.status, again.referenceId], ['SUCCESS', err.referenceId])
      assert.deepEqual([sb.stats().requests.fastagRecharge, sb.stats().requests.fastagStatus], [1, 1])
    }))
  })
}

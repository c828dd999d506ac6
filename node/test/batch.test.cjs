'use strict'
// Batches from Node, through the built addon against the sandbox over
// loopback: orders from objects (sync and async iterables) or a file, each
// paid once (a rerun sends nothing), bad rows reported with their line and
// never sent, options checked before anything is read or sent, stop().
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')

const aopay = require('aopay')
const { REG } = require('./helpers.cjs')

const GEO = '23.6784,76.8764'

function tmp(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aopay-node-batch-'))
  return path.join(dir, name)
}

function orders(n, tag) {
  return Array.from({ length: n }, (_, i) => ({
    orderId: `${tag}-${i}`, productId: 518, amount: 10, customerNumber: `98765${String(i).padStart(5, '0')}`,
  }))
}

async function collect(run) {
  const out = []
  for await (const r of run) out.push(r)
  return out.sort((a, b) => a.line - b.line)
}

async function withSandbox(fn) {
  const sb = await aopay.Sandbox.start()
  try {
    await fn(sb)
  } finally {
    await sb.stop()
  }
}

test('a batch pays each order once and a rerun sends nothing', () => withSandbox(async (sb) => {
  const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: tmp('j.db') })
  const tag = crypto.randomUUID()
  const rows = [
    ...orders(25, tag),
    { orderId: `${tag}-p`, productId: 518, amount: 10, customerNumber: '9000000002' },
    { orderId: `${tag}-bad`, productId: 518, amount: 10.5, customerNumber: '9876500099' },
    { orderId: `${tag}-0`, productId: 518, amount: 10, customerNumber: '9876500000' },
    { orderId: `${tag}-1`, productId: 518, amount: 99, customerNumber: '9876500001' },
    { productId: 518 },
    { orderId: `${tag}-k`, kind: 'do_recharge', operator: 11, number: '9876512345', amount: '20.50' },
  ]
  const results = await collect(client.runBatch(rows, { geocode: GEO, concurrency: 8, createJournal: true }))
  assert.equal(results.length, rows.length)
  for (const r of results.slice(0, 25)) {
    assert.equal(r.status, 'SUCCESS', JSON.stringify(r))
    assert.equal(r.amount, '10.00')
    assert.equal(r.isFinal, true)
  }
  assert.equal(results[25].status, 'SUCCESS', 'followed to its end')
  assert.equal(results[26].status, 'ValidationError')
  assert.equal(results[26].error.field, 'amount')
  assert.deepEqual([results[27].status, results[27].duplicateOf], ['DUPLICATE', 1])
  assert.equal(results[28].status, 'IdempotencyConflictError')
  assert.equal(results[29].error.field, 'order_id')
  assert.deepEqual([results[30].status, results[30].amount], ['SUCCESS', '20.50'])
  const stats = sb.stats()
  assert.equal(stats.requests.mobileRecharge, 26)
  assert.equal(stats.requests.doRecharge, 1)

  // An async iterable, the same orders: nothing is sent again.
  async function* again() {
    for (const r of rows) yield r
  }
  const second = await collect(client.runBatch(again(), { geocode: GEO }))
  assert.deepEqual(second.map((r) => r.referenceId), results.map((r) => r.referenceId))
  assert.equal(sb.stats().requests.mobileRecharge, 26)
  assert.equal(sb.stats().requests.doRecharge, 1)
}))

test('orders from a JSON Lines file', () => withSandbox(async (sb) => {
  const file = tmp('orders.jsonl')
  fs.writeFileSync(file, [
    '{"order_id": "a", "product_id": 518, "amount": 10, "customer_number": "9876543210"}',
    'not json',
    '{"order_id": "c", "product_id": 518, "amount": 10, "customer_number": "9000000001"}',
  ].join('\n') + '\n')
  const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: tmp('j.db') })
  const results = await collect(client.runBatch(file, { geocode: GEO, createJournal: true }))
  assert.deepEqual(results.map((r) => [r.line, r.status]), [[1, 'SUCCESS'], [2, 'ValidationError'], [3, 'FAILED']])
  assert.equal(sb.stats().requests.mobileRecharge, 2)
}))

test('every option is checked before anything is read or sent', () => withSandbox(async (sb) => {
  const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: tmp('j.db') })
  let read = 0
  const lazy = { * [Symbol.iterator]() { read += 1; yield* orders(1, 'never') } }
  for (const [options, field] of [
    [{ concurrency: 0 }, 'concurrency'],
    [{ concurrency: 1.5 }, 'concurrency'],
    [{ concurrency: '8' }, 'concurrency'],
    [{ rate: 'fast' }, 'rate'],
    [{ rate: 0 }, 'rate'],
    [{ rate: true }, 'rate'],
    [{ attempts: 0 }, 'attempts'],
    [{ waitTimeoutMs: -1 }, 'waitTimeoutMs'],
    [{ geocode: 7 }, 'geocode'],
    [{ resendUnarrived: 'yes' }, 'resendUnarrived'],
    [{ resendUnarrived: 1 }, 'resendUnarrived'],
    [{ createJournal: 'yes' }, 'createJournal'],
    [{ createJournal: 1 }, 'createJournal'],
  ]) {
    assert.throws(() => client.runBatch(lazy, options), (e) => e instanceof aopay.ValidationError && e.field === field, JSON.stringify(options))
  }
  const noJournal = new aopay.Client({ registrationId: REG, baseUrl: sb.url })
  assert.throws(() => noJournal.runBatch(lazy), (e) => e instanceof aopay.ValidationError && e.field === 'journal')
  // A journal that does not exist: refused unless the batch may create it.
  assert.throws(() => client.runBatch(lazy), (e) => e instanceof aopay.ValidationError && e.field === 'journal' && /does not exist/.test(e.message))
  assert.throws(() => client.runBatch(tmp('missing.csv'), { createJournal: true }), (e) => e instanceof aopay.ValidationError && e.field === 'orders')
  assert.throws(() => client.runBatch(42, { createJournal: true }), (e) => e instanceof aopay.ValidationError && e.field === 'orders')
  assert.equal(read, 0)
  assert.equal(sb.stats().requests.mobileRecharge, 0)
}))

test('resendUnarrived settles a write its status call did not see yet', () => withSandbox(async (sb) => {
  // 9000000307: recorded, the connection dropped, unknown to the first status check.
  const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: tmp('j.db') })
  const order = { orderId: 'lag-1', kind: 'do_recharge', operator: 11, number: '9000000307', amount: 10 }
  const [plain] = await collect(client.runBatch([order], { createJournal: true }))
  assert.equal(plain.status, 'OutcomeUnknownError', JSON.stringify(plain))
  assert.equal(plain.isFinal, false)
  const [resent] = await collect(client.runBatch([{ ...order, orderId: 'lag-2' }], { resendUnarrived: true }))
  assert.equal(resent.status, 'SUCCESS', JSON.stringify(resent))
  assert.equal(sb.stats().requests.doRecharge, 3, 'two first sends and one refused resend')
}))

test('an iterable that throws ends the orders with a row error', () => withSandbox(async (sb) => {
  const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: tmp('j.db') })
  function* broken() {
    yield* orders(2, 'ok')
    throw new Error('the export failed')
  }
  const results = await collect(client.runBatch(broken(), { geocode: GEO, createJournal: true }))
  assert.deepEqual(results.map((r) => r.status), ['SUCCESS', 'SUCCESS', 'ValidationError'])
  assert.match(results[2].error.message, /the export failed/)
  assert.equal(sb.stats().requests.mobileRecharge, 2)
}))

test('breaking out of the loop stops the batch', () => withSandbox(async (sb) => {
  const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: tmp('j.db') })
  let seen = 0
  for await (const r of client.runBatch(orders(500, 'stop'), { geocode: GEO, concurrency: 2, rate: 100, createJournal: true })) {
    assert.equal(r.status, 'SUCCESS')
    seen += 1
    if (seen === 3) break
  }
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.ok(sb.stats().requests.mobileRecharge < 20, `no new order after the break (${sb.stats().requests.mobileRecharge})`)
}))

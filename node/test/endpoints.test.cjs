'use strict'
// The generated endpoint methods (endpoints.cjs) against the sandbox over
// loopback, row by row from testdata/contract.json: the good call's answer,
// each magic input and what it cost, each bad input refused with nothing sent.
const test = require('node:test')
const assert = require('node:assert/strict')
const native = require('../native.cjs')
const aopay = require('..')
const { REG, CONTRACT, camel, camelKeys } = require('./helpers.cjs')

/** snake_case keys to camelCase all the way down (what the answers have). */
const camelDeep = (v) =>
  Array.isArray(v) ? v.map(camelDeep)
    : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [camel(k), camelDeep(x)]))
    : v

const TABLE = JSON.parse(native.endpoints())
const ROWS = Object.fromEntries(Object.entries(CONTRACT.endpoints).filter(([k]) => k !== 'about'))
const GENERATED = Object.keys(TABLE).filter((m) => TABLE[m].generated).sort()

test('every generated endpoint has a method and contract rows', () => {
  assert.deepEqual(GENERATED, Object.keys(ROWS).sort())
  for (const method of GENERATED) {
    assert.equal(typeof aopay.Client.prototype[camel(method)], 'function', method)
    // Methods are not enumerable, as a class's own are.
    assert.ok(!Object.keys(aopay.Client.prototype).includes(camel(method)))
  }
})

for (const method of GENERATED) {
  test(`${method}: the good call, each magic input, each bad input`, async () => {
    const rows = ROWS[method]
    const sb = await aopay.Sandbox.start()
    try {
      const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url })
      const call = (input) => client[camel(method)](input)
      const good = camelKeys(rows.good)
      if (rows.after) {
        // A status read needs its write's reference (the contract's `after`).
        const paid = await client[camel(rows.after)](camelKeys(ROWS[rows.after].good))
        good.referenceId = paid.referenceId
      }
      const answer = await call(good)
      assert.deepEqual(Object.keys(answer), TABLE[method].fields.map(camel))
      for (const [k, v] of Object.entries(rows.answer)) assert.deepEqual(answer[camel(k)], camelDeep(v), k)
      assert.equal(typeof answer.raw, 'object')
      // Several in flight on one client.
      const many = await Promise.all(Array.from({ length: 8 }, () => call(good)))
      assert.ok(many.every((a) => a.httpStatus === 200))

      for (const row of rows.magic) {
        const before = sb.stats().requests[camel(method)]
        if (row.answer) {
          const got = await call({ ...good, ...camelKeys(row.override) })
          for (const [k, v] of Object.entries(row.answer)) assert.deepEqual(got[camel(k)], v, k)
          assert.equal(sb.stats().requests[camel(method)] - before, row.requests)
          continue
        }
        await assert.rejects(call({ ...good, ...camelKeys(row.override) }), (e) => {
          assert.ok(e instanceof aopay[row.error], `${e}`)
          assert.equal(e.httpStatus, row.http_status)
          assert.equal(e.apiCode, row.api_code)
          // A read's failure is always safe to repeat; a write's says.
          assert.equal(e.retrySafe, row.retry_safe ?? true)
          if (row.reference) assert.ok(e.referenceId, `${e}`)
          return true
        })
        assert.equal(sb.stats().requests[camel(method)] - before, row.requests)
      }

      const before = sb.stats()
      const bad = [
        ...(rows.bad ?? []).map((r) => [r.field, { ...good, ...camelKeys(r.override) }]),
        // What the arguments' kinds rule out (the core's table).
        ...TABLE[method].args.flatMap((a) => a.bad.map((v) => [a.name, { ...good, [camel(a.name)]: v }])),
        // What JSON cannot express.
        [TABLE[method].args[0].name, { ...good, [camel(TABLE[method].args[0].name)]: Symbol('x') }],
        [TABLE[method].args[0].name, { ...good, [camel(TABLE[method].args[0].name)]: 10n }],
        [TABLE[method].args[0].name, { ...good, [camel(TABLE[method].args[0].name)]: undefined }],
        ['arguments', { ...good, [TABLE[method].args[0].name + 'X']: 'x' }],
        ['input', null],
        ['input', 'x'],
        ['input', [good]],
        ['input', undefined],
      ]
      for (const [field, input] of bad) {
        await assert.rejects(call(input), (e) => {
          assert.ok(e instanceof aopay.ValidationError, `${field}: ${e}`)
          assert.equal(e.field, field, `${e.message}`)
          assert.equal(e.retrySafe, true)
          return true
        })
      }
      assert.deepEqual(sb.stats(), before, 'a refused input reached the sandbox')
    } finally {
      await sb.stop()
    }
  })
}

test('Bill.fromRaw restores a fetched bill; bad raw is refused', async () => {
  const sb = await aopay.Sandbox.start()
  try {
    const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url })
    const bill = await client.fetchBill({ operator: 11, account: '102277100' })
    const raw = JSON.parse(JSON.stringify(bill.raw))
    // The answer does not say what it was fetched for: given back, it is the same bill.
    assert.deepEqual(aopay.Bill.fromRaw(raw, { operator: 11, account: '102277100', mode: 'online' }), bill)
    assert.deepEqual([aopay.Bill.fromRaw(raw).operator, aopay.Bill.fromRaw(raw).account], [null, null])
    assert.throws(() => aopay.Bill.fromRaw({ status: true }), (e) => e instanceof aopay.ProtocolError)
    const { Bill } = await import('../index.mjs')
    assert.equal(Bill, aopay.Bill)
  } finally {
    await sb.stop()
  }
})

test('dthInfo: money is exact decimal text', async () => {
  const sb = await aopay.Sandbox.start()
  try {
    const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url })
    const info = await client.dthInfo({ operator: 'Jio', number: '62638787325776', circle: 'Delhi NCR' })
    assert.equal(info.balance, '245.50')
    assert.equal(info.monthlyAmount, '320.00')
    assert.equal(info.customerName, 'Sandbox Customer')
  } finally {
    await sb.stop()
  }
})

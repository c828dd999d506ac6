'use strict'
// Idempotent recharges from Node, on SQLite and PostgreSQL
// (AOPAY_TEST_POSTGRES, plain and over TLS with AOPAY_TEST_POSTGRES_CA, from
// scripts/postgres; required under CI).
const { test, describe } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')

const aopay = require('aopay')
const { REG, input } = require('./helpers.cjs')

const PG = process.env.AOPAY_TEST_POSTGRES
const PG_CA = process.env.AOPAY_TEST_POSTGRES_CA
if (process.env.CI && !(PG && PG_CA)) throw new Error('CI must provide AOPAY_TEST_POSTGRES and AOPAY_TEST_POSTGRES_CA')
// The test server's certificate names "localhost".
const PG_TLS = PG && PG_CA && `${PG.replace('@127.0.0.1:', '@localhost:')}?sslmode=verify-full&sslrootcert=${PG_CA}`

const journals = {
  sqlite: () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aopay-node-journal-')), 'orders.db'),
  postgres: PG ? () => ({ postgres: PG }) : null,
  'postgres over TLS': PG_TLS ? () => ({ postgres: PG_TLS }) : null,
}
const key = () => `order-${crypto.randomUUID()}`

for (const [name, journal] of Object.entries(journals)) {
  describe(`journal on ${name}`, { skip: journal === null && 'AOPAY_TEST_POSTGRES(_CA) unset' }, () => {
    test('same key sends once; another request under it conflicts', async () => {
      const sb = await aopay.Sandbox.start()
      try {
        const c = new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: journal() })
        const k = key()
        const a = await c.mobileRecharge(input('9876543210', { idempotencyKey: k }))
        const b = await c.mobileRecharge(input('9876543210', { idempotencyKey: k }))
        assert.deepEqual(a, b)
        assert.equal(sb.rechargesFor(9876543210), 1)
        const e = await c.mobileRecharge(input('9876543210', { idempotencyKey: k, amount: 20 })).catch((x) => x)
        assert.ok(e instanceof aopay.IdempotencyConflictError)
        assert.equal(e.code, 'AOPAY_IDEMPOTENCY_CONFLICT')
        assert.equal(sb.stats().requests.mobileRecharge, 1)
      } finally {
        await sb.stop()
      }
    })

    test('16 concurrent calls with one key, 16 clients: sent once', async () => {
      const sb = await aopay.Sandbox.start()
      try {
        const spec = journal()
        const k = key()
        const results = await Promise.all(
          Array.from({ length: 16 }, () =>
            new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: spec }).mobileRecharge(
              input('9000000001', { idempotencyKey: k }),
            ),
          ),
        )
        assert.equal(new Set(results.map((r) => r.referenceId)).size, 1)
        assert.equal(sb.rechargesFor('9000000001'), 1)
      } finally {
        await sb.stop()
      }
    })

    test('pending entries are listed and reconciled', async () => {
      const sb = await aopay.Sandbox.start()
      try {
        const c = new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: journal() })
        const k = key()
        const r = await c.mobileRecharge(input('9000000002', { idempotencyKey: k }))
        assert.equal(r.status, 'PENDING')
        const mine = (await c.journalPending()).filter((e) => e.key === k)
        assert.equal(mine.length, 1)
        assert.equal(mine[0].state, 'pending')
        assert.equal(mine[0].referenceId, r.referenceId)
        const first = (await c.reconcileJournal()).find((e) => e.key === k)
        assert.equal(first.status, 'PENDING')
        const again = await c.mobileRecharge(input('9000000002', { idempotencyKey: k }))
        assert.equal(again.status, 'SUCCESS')
        assert.equal((await c.journalPending()).filter((e) => e.key === k).length, 0)
        assert.equal(sb.rechargesFor('9000000002'), 1)
      } finally {
        await sb.stop()
      }
    })

    test('entries are settled and released by hand, with an audit trail; bad arguments refused', async () => {
      const sb = await aopay.Sandbox.start()
      process.env.AOPAY_ACTOR = 'ops-node'
      try {
        const c = new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: journal() })
        const [k1, k2] = [key(), key()]
        for (const k of [k1, k2]) {
          const e = await c.mobileRecharge(input('9000000008', { idempotencyKey: k })).catch((x) => x)
          assert.ok(e instanceof aopay.OutcomeUnknownError, String(e))
        }
        const settled = await c.journalSettle(k1, { status: 'SUCCESS', note: 'statement line 14' })
        assert.deepEqual([settled.state, settled.status, settled.released], ['final', 'SUCCESS', false])
        const again = await c.mobileRecharge(input('9000000008', { idempotencyKey: k1 }))
        assert.equal(again.status, 'SUCCESS')
        assert.equal(sb.rechargesFor('9000000008'), 2, 'not sent again')
        for (const [call, field] of [
          [() => c.journalSettle(k1, { status: 'FAILED', note: 'again' }), 'key'],
          [() => c.journalSettle(k2, { status: 'REFUNDED', note: 'x' }), 'status'],
          [() => c.journalSettle(k2, { note: 'x' }), 'status'],
          [() => c.journalSettle(k2, { status: 'FAILED', note: 'x', colour: 'red' }), 'options'],
          [() => c.journalRelease(k2, { note: 7 }), 'note'],
          [() => c.journalRelease(k2, 'why'), 'options'],
          [() => c.journalRelease(42, { note: 'x' }), 'key'],
          [() => c.journalAudit(() => 1), 'key'],
        ]) {
          const e = await call().catch((x) => x)
          assert.ok(e instanceof aopay.ValidationError, `${field}: ${e}`)
          assert.equal(e.field, field, String(e))
        }
        const released = await c.journalRelease(k2, { note: 'not on the statement' })
        assert.deepEqual([released.key, released.state, released.released], [k2, 'unknown', true])
        await c.mobileRecharge(input('9000000008', { idempotencyKey: k2 })).catch(() => {})
        assert.equal(sb.rechargesFor('9000000008'), 3, 'sent once more')
        const [record] = await c.journalAudit(k1)
        assert.deepEqual(
          [record.action, record.status, record.note, record.actor, record.fromState],
          ['settle', 'SUCCESS', 'statement line 14', 'ops-node', 'unknown'],
        )
        assert.ok(record.atMs > 0)
      } finally {
        delete process.env.AOPAY_ACTOR
        await sb.stop()
      }
    })
  })
}

test('a TLS journal whose server is not trusted fails and sends nothing', { skip: !PG_TLS && 'AOPAY_TEST_POSTGRES(_CA) unset' }, async () => {
  const sb = await aopay.Sandbox.start()
  try {
    const host = PG.replace('@127.0.0.1:', '@localhost:')
    const c = new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: { postgres: `${host}?sslmode=require` } })
    const e = await c.mobileRecharge(input('9876543210', { idempotencyKey: key() })).catch((x) => x)
    assert.ok(e instanceof aopay.JournalError, String(e))
    assert.match(e.message, /UnknownIssuer/)
    assert.equal(e.retrySafe, true)
    assert.throws(() => new aopay.Client({ registrationId: REG, journal: { postgres: `${host}?sslmode=sometimes` } }), /sslmode/)
    assert.equal(sb.stats().requests.mobileRecharge, 0)
  } finally {
    await sb.stop()
  }
})

test('bad journals and keys fail clearly and send nothing', async () => {
  const sb = await aopay.Sandbox.start()
  try {
    for (const bad of ['/nonexistent-aopay-dir/x.db', os.tmpdir(), { postgres: 'postgres://u@h:notaport/db' }]) {
      assert.throws(() => new aopay.Client({ registrationId: REG, journal: bad }), aopay.JournalError)
    }
    for (const bad of [42, { mysql: 'x' }, []]) {
      assert.throws(
        () => new aopay.Client({ registrationId: REG, journal: bad }),
        (e) => e instanceof aopay.ValidationError && e.field === 'journal',
      )
    }
    const unreachable = new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: { postgres: 'postgres://u@127.0.0.1:1/db' } })
    assert.ok((await unreachable.mobileRecharge(input('9876543210', { idempotencyKey: 'k' })).catch((x) => x)) instanceof aopay.JournalError)
    const plain = new aopay.Client({ registrationId: REG, baseUrl: sb.url })
    const e = await plain.mobileRecharge(input('9876543210', { idempotencyKey: 'k' })).catch((x) => x)
    assert.ok(e instanceof aopay.ValidationError)
    assert.equal(e.field, 'idempotency_key')
    const withJournal = new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: journals.sqlite() })
    for (const badKey of ['', 'x'.repeat(129), 'a\nb', 5]) {
      const v = await withJournal.mobileRecharge(input('9876543210', { idempotencyKey: badKey })).catch((x) => x)
      assert.ok(v instanceof aopay.ValidationError, String(v))
      assert.equal(v.field, 'idempotency_key')
    }
    assert.ok((await plain.journalPending().catch((x) => x)) instanceof aopay.ValidationError)
    assert.equal(sb.stats().requests.mobileRecharge, 0)
  } finally {
    await sb.stop()
  }
})

test('a journal is whole in its .db file when the process exits', async () => {
  const { execFileSync } = require('node:child_process')
  const sb = await aopay.Sandbox.start()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aopay-whole-'))
  try {
    const journal = path.join(dir, 'j.db')
    const order = { operator: 11, number: '9876500051', amount: 10, idempotencyKey: 'kept' }
    const script = `const aopay = require(${JSON.stringify(path.join(__dirname, '..'))});
      globalThis.kept = new aopay.Client({ registrationId: 'AOP-554', baseUrl: ${JSON.stringify(sb.url)}, journal: ${JSON.stringify(journal)} });
      globalThis.kept.doRecharge(${JSON.stringify(order)}).then((p) => console.log(p.status))`
    assert.equal(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim(), 'SUCCESS')
    // A backup copies the .db file alone: it must know the key.
    const copy = path.join(dir, 'copy.db')
    fs.copyFileSync(journal, copy)
    const client = new aopay.Client({ registrationId: 'AOP-554', baseUrl: sb.url, journal: copy })
    assert.equal((await client.doRecharge(order)).status, 'SUCCESS')
    assert.equal(sb.stats().requests.doRecharge, 1, 'the copy knew the key: nothing sent again')
  } finally {
    await sb.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('close() and await using: a closed client takes no new call and its journal is whole', async () => {
  const sb = await aopay.Sandbox.start()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aopay-close-'))
  try {
    const journal = path.join(dir, 'j.db')
    const client = new aopay.Client({ registrationId: 'AOP-554', baseUrl: sb.url, journal })
    const order = { operator: 11, number: '9876500071', amount: 10, idempotencyKey: 'c1' }
    const first = client.doRecharge(order)
    await client.close()
    assert.equal((await first).status, 'SUCCESS', 'the call in flight ended')
    await assert.rejects(client.doRecharge({ ...order, idempotencyKey: 'c2' }), (e) => e instanceof aopay.ValidationError && e.field === 'client')
    await client.close()
    fs.copyFileSync(journal, path.join(dir, 'copy.db'))
    const again = new aopay.Client({ registrationId: 'AOP-554', baseUrl: sb.url, journal: path.join(dir, 'copy.db') })
    assert.equal((await again.doRecharge(order)).status, 'SUCCESS')
    assert.equal(sb.stats().requests.doRecharge, 1, 'the copy knew the key')
    await again[Symbol.asyncDispose]()
    await assert.rejects(again.doRecharge(order), (e) => e instanceof aopay.ValidationError)
  } finally {
    await sb.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

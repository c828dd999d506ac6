'use strict'
// The corpus of real answers (testdata/answers.json): each body served as
// the upstream writes it by a plain HTTP server on loopback (not the
// sandbox, which would only say what it was told) and read through the
// built addon's real call path. Each gets the reading the corpus names; a
// write is sent once, and an error after it carries its reference.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const native = require('../native.cjs')
const aopay = require('..')
const { REG, camel, camelKeys } = require('./helpers.cjs')

const CORPUS = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'testdata', 'answers.json'), 'utf8'))
const TABLE = JSON.parse(native.endpoints())

test('every answer of the corpus reads as it says', async () => {
  let answer = [200, '{}']
  let requests = 0
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      requests += 1
      const body = Buffer.from(answer[1])
      res.writeHead(answer[0], { 'content-type': 'application/json', 'content-length': body.length, connection: 'close' })
      res.end(body)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const client = new aopay.Client({ registrationId: REG, baseUrl: `http://127.0.0.1:${server.address().port}`, timeoutMs: 10000 })
    assert.ok(CORPUS.answers.length >= 60)
    for (const row of CORPUS.answers) {
      answer = [row.http_status, row.body]
      requests = 0
      const method = row.endpoint
      const call = CORPUS.calls[method]
      const what = `${method} ${row.http_status} ${row.body}`
      let got
      try {
        got = method === 'recharge_status'
          ? await client.rechargeStatus(call.reference_id)
          : await client[camel(method)](camelKeys(call))
      } catch (e) {
        got = e
      }
      const isWrite = TABLE[method].status !== null
      if (row.expect.error) {
        assert.ok(got instanceof aopay[row.expect.error], `${what}: ${got}`)
        assert.equal(got.code, aopay[row.expect.error].code)
        for (const [k, v] of Object.entries(row.expect)) {
          if (k !== 'error') assert.deepEqual(got[camel(k)], v, `${k} of ${what}`)
        }
        if (isWrite && !got.retrySafe) assert.equal(got.referenceId, call.reference_id, what)
      } else {
        assert.ok(!(got instanceof Error), `${what}: ${got}`)
        for (const [k, v] of Object.entries(row.expect)) assert.deepEqual(got[camel(k)], v, `${k} of ${what}`)
        if (TABLE[method].answer === 'Payment' && row.http_status === 200) {
          // Written straight from the outcome's values: the core's JSON form
          // of it (read again from raw alone, but for the caller's reference).
          const again = JSON.parse(native.reread(method, JSON.stringify(got.raw)))
          assert.deepEqual(got, { ...again, referenceId: got.referenceId }, `the JSON form of ${what}`)
        }
      }
      if (isWrite) assert.equal(requests, 1, `a write is sent once: ${what}`)
    }
  } finally {
    server.close()
  }
})

test('the new errors are classes with their codes', () => {
  assert.ok(aopay.InsufficientBalanceError.prototype instanceof aopay.ApiError)
  assert.ok(!(aopay.DuplicateReferenceError.prototype instanceof aopay.ApiError))
  assert.equal(aopay.DuplicateReferenceError.code, 'AOPAY_DUPLICATE_REFERENCE')
  assert.equal(aopay.TransactionNotFoundError.code, 'AOPAY_TRANSACTION_NOT_FOUND')
})

test('an answer the SDK cannot place reaches the logger at warn, masked', async () => {
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const body = Buffer.from('{"status":false,"response_code":99,"canumber":"7067018549"}')
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, connection: 'close' })
      res.end(body)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const lines = []
  const logger = {
    debug: () => {},
    info: () => {},
    warn: (...a) => lines.push(['warn', a.map(String).join(' ')]),
    error: (...a) => lines.push(['error', a.map(String).join(' ')]),
  }
  try {
    const client = new aopay.Client({ registrationId: REG, baseUrl: `http://127.0.0.1:${server.address().port}`, logger })
    await assert.rejects(client.doRecharge(camelKeys(CORPUS.calls.do_recharge)), (e) => e instanceof aopay.OutcomeUnknownError && e.retrySafe === false)
    const warned = lines.filter(([, l]) => l.includes('cannot place'))
    assert.equal(warned.length, 1, JSON.stringify(lines))
    assert.equal(warned[0][0], 'warn')
    assert.ok(warned[0][1].includes('70XXXXXX49') && !warned[0][1].includes('7067018549'), warned[0][1])
  } finally {
    server.close()
  }
})

test('a batch stops at an empty wallet; a rerun after a top-up pays the rest once', async () => {
  const os = require('node:os')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aopay-wallet-'))
  const sb = await aopay.Sandbox.start({ walletPayments: 3 })
  try {
    const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url, journal: path.join(dir, 'j.db') })
    const orders = Array.from({ length: 8 }, (_, i) => ({ orderId: `w-${i}`, kind: 'do_recharge', operator: 11, number: `98762${String(i).padStart(5, '0')}`, amount: '10' }))
    const results = []
    for await (const r of client.runBatch(orders, { concurrency: 1, createJournal: true })) results.push(r)
    const count = (s) => results.filter((r) => r.status === s).length
    assert.equal(count('SUCCESS'), 3, JSON.stringify(results))
    assert.equal(count('InsufficientBalanceError'), 1)
    assert.equal(count('NOT_SENT'), 4)
    assert.ok(results.filter((r) => r.status === 'NOT_SENT').every((r) => r.notSent === 'insufficient_balance' && !r.isFinal))
    assert.equal(sb.stats().requests.doRecharge, 4)
    sb.topUp()
    const again = []
    for await (const r of client.runBatch(orders)) again.push(r)
    assert.ok(again.every((r) => r.status === 'SUCCESS'), JSON.stringify(again))
    for (let i = 0; i < 8; i++) assert.equal(sb.recordedPaymentsFor(`98762${String(i).padStart(5, '0')}`), 1)
    assert.equal(sb.stats().requests.doRecharge, 4 + 5)
  } finally {
    await sb.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

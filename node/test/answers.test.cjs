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

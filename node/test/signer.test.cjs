'use strict'
// `signer`: the built-in JwtSigner (HS256, RS256) and a JS function,
// against a sandbox that requires a JWT as the upstream does. A wrong key,
// a stale timestamp and a replayed token are AuthenticationError with
// nothing recorded; a function that signs the body signs exactly what is
// sent; the key and the tokens never show.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const util = require('node:util')
const aopay = require('..')
const { REG } = require('./helpers.cjs')

const KEYS = path.join(__dirname, '..', '..', 'testdata', 'jwt')
const SECRET = 'partner-secret'
const recharge = (client, number) => client.doRecharge({ operator: 11, number, amount: 10 })

const b64 = (b) => Buffer.from(b).toString('base64url')
/** An HS256 JWT made with node:crypto: a custom signer's. */
function handMadeToken(timestamp, reqid) {
  const head = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
  const body = b64(JSON.stringify({ timestamp, partnerId: 'PS001', reqid }))
  const sig = crypto.createHmac('sha256', SECRET).update(`${head}.${body}`).digest('base64url')
  return `${head}.${body}.${sig}`
}

for (const algorithm of ['HS256', 'RS256']) {
  test(`${algorithm}: the built-in signer passes; a wrong key records nothing`, async () => {
    const rs = algorithm === 'RS256'
    const sb = await aopay.Sandbox.start(rs
      ? { requireJwtPublicKey: fs.readFileSync(path.join(KEYS, 'rs256-public.pem')) }
      : { requireJwtSecret: SECRET })
    try {
      const good = rs
        ? new aopay.JwtSigner({ partnerId: 'PS001', privateKey: fs.readFileSync(path.join(KEYS, 'rs256-private.pem'), 'utf8') })
        : new aopay.JwtSigner({ partnerId: 'PS001', secret: Buffer.from(SECRET) })
      const wrong = rs
        ? new aopay.JwtSigner({ partnerId: 'PS001', privateKey: fs.readFileSync(path.join(KEYS, 'rs256-other-private.pem')) })
        : new aopay.JwtSigner({ partnerId: 'PS001', secret: 'another secret' })
      const paid = await recharge(new aopay.Client({ registrationId: REG, baseUrl: sb.url, signer: good }), '9876500001')
      assert.equal(paid.status, 'SUCCESS')
      const e = await recharge(new aopay.Client({ registrationId: REG, baseUrl: sb.url, signer: wrong }), '9876500002').catch((x) => x)
      assert.ok(e instanceof aopay.AuthenticationError, `${e}`)
      assert.deepEqual([e.httpStatus, e.apiCode, e.retrySafe], [412, 10, true])
      assert.equal(sb.stats().payments, 1)
      assert.equal(sb.stats().unauthorizedRequests, 2)
    } finally {
      await sb.stop()
    }
  })
}

test('a stale timestamp and a replayed token are refused', async () => {
  const sb = await aopay.Sandbox.start({ requireJwtSecret: SECRET })
  try {
    const now = () => Math.floor(Date.now() / 1000)
    const stale = new aopay.Client({ registrationId: REG, baseUrl: sb.url, signer: () => ({ Token: handMadeToken(now() - 600, `s${Date.now()}`) }) })
    await assert.rejects(recharge(stale, '9876500003'), (e) => e instanceof aopay.AuthenticationError && /Expired token/.test(e.message))
    const fixed = { Token: handMadeToken(now(), 'the-same-reqid') }
    const replaying = new aopay.Client({ registrationId: REG, baseUrl: sb.url, signer: async () => fixed })
    assert.equal((await recharge(replaying, '9876500004')).status, 'SUCCESS')
    await assert.rejects(recharge(replaying, '9876500005'), (e) => e instanceof aopay.AuthenticationError && /already used/.test(e.message))
    assert.equal(sb.stats().payments, 1)
  } finally {
    await sb.stop()
  }
})

test('a function that signs the body signs exactly what is sent; a failing one sends nothing', async () => {
  const seen = []
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      seen.push([req.headers, Buffer.concat(chunks)])
      const body = Buffer.from('{"status":true,"response_code":1,"message":"ok"}')
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })
      res.end(body)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const baseUrl = `http://127.0.0.1:${server.address().port}`
    const calls = []
    const signer = (p, body) => {
      assert.ok(Buffer.isBuffer(body))
      calls.push([p, body])
      return { 'X-Signature': crypto.createHmac('sha256', 'k').update(body).digest('hex') }
    }
    await recharge(new aopay.Client({ registrationId: REG, baseUrl, signer }), '9876500006')
    assert.deepEqual(calls.map(([p]) => p), ['/api/AOP/DoRecharge'])
    const [headers, body] = seen[0]
    assert.ok(body.equals(calls[0][1]))
    assert.equal(headers['x-signature'], crypto.createHmac('sha256', 'k').update(body).digest('hex'))
    const failing = new aopay.Client({ registrationId: REG, baseUrl, signer: () => { throw new Error('the HSM is down') } })
    await assert.rejects(recharge(failing, '9876500007'), (e) => e instanceof aopay.AuthenticationError && e.retrySafe && /HSM is down/.test(e.message))
    const bad = new aopay.Client({ registrationId: REG, baseUrl, signer: () => ({ Token: 'a\nb' }) })
    await assert.rejects(recharge(bad, '9876500008'), (e) => e instanceof aopay.ValidationError && e.field === 'signer')
    assert.equal(seen.length, 1, 'nothing more was sent')
    assert.throws(() => new aopay.Client({ registrationId: REG, baseUrl, signer: 'nope' }), (e) => e instanceof aopay.ValidationError && e.field === 'signer')
  } finally {
    server.close()
  }
})

test('settings are checked when the signer is made', async () => {
  for (const [settings, field] of [
    [{ partnerId: 'P' }, 'secret'],
    [{ partnerId: 'P', secret: 's', privateKey: 'k' }, 'secret'],
    [{ partnerId: '', secret: 's' }, 'partner_id'],
    [{ partnerId: 7, secret: 's' }, 'partner_id'],
    [{ partnerId: 'P', privateKey: '-----BEGIN NOTHING-----' }, 'private_key'],
    [{ partnerId: 'P', secret: 's', claims: { reqid: 1 } }, 'claims'],
    [{ partnerId: 'P', secret: 's', header: 'bad header' }, 'header'],
    [{ partnerId: 'P', secret: 5 }, 'secret'],
  ]) {
    assert.throws(() => new aopay.JwtSigner(settings), (e) => e instanceof aopay.ValidationError && e.field === field, JSON.stringify(settings))
  }
  await assert.rejects(aopay.Sandbox.start({ requireJwtPublicKey: 'not a key' }), (e) => e instanceof aopay.ValidationError)
})

test('64 concurrent calls each carry their own reqid; the key and the tokens never show', async () => {
  const sb = await aopay.Sandbox.start({ requireJwtSecret: SECRET })
  const lines = []
  const logger = { debug: (...a) => lines.push(a.join(' ')), info: (...a) => lines.push(a.join(' ')), warn: (...a) => lines.push(a.join(' ')), error: (...a) => lines.push(a.join(' ')) }
  try {
    const signer = new aopay.JwtSigner({ partnerId: 'PS001', secret: SECRET, headers: { Authorisedkey: 'UAT-SECRET' } })
    const token = signer.headers().Token
    assert.equal(token.split('.').length, 3)
    assert.notEqual(signer.headers().Token, token, 'fresh every time')
    const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url, signer, logger })
    const paid = await Promise.all(Array.from({ length: 64 }, (_, i) => recharge(client, `98765${String(i).padStart(5, '0')}`)))
    assert.ok(paid.every((p) => p.status === 'SUCCESS'))
    assert.equal(sb.stats().unauthorizedRequests, 0)
    const texts = [util.inspect(signer, { showHidden: true }), JSON.stringify(signer), util.inspect(client), lines.join('\n')]
    assert.ok(lines.length > 0, 'logging was on')
    for (const text of texts) {
      assert.ok(!text.includes(SECRET) && !text.includes('UAT-SECRET') && !text.includes('eyJ'), text)
    }
  } finally {
    await sb.stop()
  }
})

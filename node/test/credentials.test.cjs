'use strict'
// `credentials`: a function or async function giving the headers, against a
// sandbox that requires bearer tokens. One fetch serves concurrent calls; a
// 401 refreshes once and resends once (never a second payment); a ttlMs is
// refreshed before it ends; a throwing or malformed provider sends nothing;
// tokens never show.
const test = require('node:test')
const assert = require('node:assert/strict')
const { inspect } = require('node:util')
const aopay = require('..')
const { REG, input } = require('./helpers.cjs')

async function withSandbox(fn) {
  const sb = await aopay.Sandbox.start({ requireTokens: true })
  try {
    await fn(sb)
  } finally {
    await sb.stop()
  }
}

test('without credentials the call is refused and nothing recorded', () =>
  withSandbox(async (sb) => {
    const c = new aopay.Client({ registrationId: REG, baseUrl: sb.url })
    await assert.rejects(c.mobileRecharge(input()), (e) => e instanceof aopay.AuthenticationError && e.apiCode === 5 && e.retrySafe)
    assert.equal(sb.stats().unauthorizedRequests, 1)
    assert.equal(sb.stats().requests.mobileRecharge, 0)
  }))

for (const [label, make] of [
  ['sync function, plain headers', (sb, issued) => () => { const t = sb.issueToken(); issued.push(t); return { Authorization: `Bearer ${t}` } }],
  ['async function, { headers, ttlMs }', (sb, issued) => async () => {
    await new Promise((r) => setTimeout(r, 10))
    const t = sb.issueToken()
    issued.push(t)
    return { headers: { Authorization: `Bearer ${t}` }, ttlMs: 600000 }
  }],
]) {
  test(`${label}: one fetch for concurrent calls, one refresh after a 401`, () =>
    withSandbox(async (sb) => {
      const issued = []
      const c = new aopay.Client({ registrationId: REG, baseUrl: sb.url, credentials: make(sb, issued) })
      const calls = []
      for (let i = 0; i < 16; i++) calls.push(c.mobileRecharge(input(`98765${String(i).padStart(5, '0')}`)))
      calls.push(c.dthInfo({ operator: 'Jio', number: '62638787325776', circle: 'x' }))
      await Promise.all(calls)
      assert.equal(issued.length, 1)
      sb.revokeTokens()
      const r = await c.mobileRecharge(input('9876599999'))
      assert.equal(r.status, 'SUCCESS')
      assert.equal(issued.length, 2)
      assert.equal(sb.stats().unauthorizedRequests, 1)
      assert.equal(sb.rechargesFor('9876599999'), 1, 'the refused send charged nothing')
      const shown = inspect(c) + String(c)
      for (const t of issued) assert.ok(!shown.includes(t))
    }))
}

test('a ttlMs is refreshed before it ends, with no 401', () =>
  withSandbox(async (sb) => {
    let fetched = 0
    const c = new aopay.Client({
      registrationId: REG,
      baseUrl: sb.url,
      credentials: () => { fetched++; return { headers: { Authorization: `Bearer ${sb.issueToken(600)}` }, ttlMs: 600 } },
    })
    for (let i = 0; i < 4; i++) {
      await c.dthInfo({ operator: 'Jio', number: '62638787325776', circle: 'x' })
      await new Promise((r) => setTimeout(r, 350))
    }
    assert.ok(fetched >= 2, `${fetched}`)
    assert.equal(sb.stats().unauthorizedRequests, 0)
  }))

test('a throwing, rejecting or malformed provider sends nothing; a non-function is refused', () =>
  withSandbox(async (sb) => {
    const cases = [
      [() => { throw new Error('token service unreachable') }, 'token service unreachable'],
      [async () => { throw new Error('vault sealed') }, 'vault sealed'],
      [() => ({ Authorization: 7 }), 'must be strings'],
      [() => 'Bearer x', 'must return an object'],
      [() => ({ headers: { Authorization: 'Bearer x' }, ttlMs: -5 }), 'ttlMs'],
      [() => ({ 'Bad Name': 'x' }), 'HTTP token'],
      [() => ({ Authorization: 'Bearer s3cr3t\u00e9' }), 'visible ASCII'],
    ]
    for (const [credentials, said] of cases) {
      const c = new aopay.Client({ registrationId: REG, baseUrl: sb.url, credentials })
      await assert.rejects(c.mobileRecharge(input()), (e) => {
        assert.ok(e instanceof aopay.AopayError && e.retrySafe, `${e}`)
        assert.ok(e.message.includes(said), `${said}: ${e.message}`)
        assert.ok(!e.message.includes('s3cr3t') && !inspect(e).includes('s3cr3t'))
        return true
      })
    }
    assert.equal(sb.stats().requests.mobileRecharge + sb.stats().unauthorizedRequests, 0)
    for (const credentials of ['Bearer x', { Authorization: 'x' }, 7]) {
      assert.throws(() => new aopay.Client({ registrationId: REG, baseUrl: sb.url, credentials }), (e) => e instanceof aopay.ValidationError && e.field === 'credentials')
    }
  }))

test('an idle client with a provider does not keep Node alive', async () => {
  const { spawnSync } = require('node:child_process')
  const script = `const a = require(${JSON.stringify(require.resolve('..'))}); new a.Client({ registrationId: 'AOP-554', credentials: () => ({}) })`
  const r = spawnSync(process.execPath, ['-e', script], { timeout: 10000 })
  assert.equal(r.status, 0, String(r.stderr))
})

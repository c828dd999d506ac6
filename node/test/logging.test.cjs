'use strict'
// Diagnostics: a `logger` (console-like) gets its own client's events at
// DEBUG and above, one line per call, numbers masked and no header value;
// AOPAY_LOG prints them to stderr; a bad logger is refused, a throwing one
// changes nothing.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const aopay = require('..')
const { REG, input } = require('./helpers.cjs')
// The package's own helper: these tests are its users too.
const { withSandbox } = require('../testing.js')

const SECRET = 'tok-SECRET-5c2e'

function collecting() {
  const lines = []
  const at = (level) => (line) => lines.push([level, line])
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } }
}


test('a logger sees one line per call of its own client, masked, with no secret', () =>
  withSandbox(async (sb) => {
    const mine = collecting()
    const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url, headers: { 'X-Api-Key': SECRET }, logger: mine.logger })
    const quiet = new aopay.Client({ registrationId: REG, baseUrl: sb.url })
    await client.mobileRecharge(input('9876543210'))
    await assert.rejects(client.mobileRecharge(input('9000000004')), aopay.AuthenticationError)
    await quiet.mobileRecharge(input('9811111111'))
    const calls = mine.lines.filter(([, l]) => /call (finished|failed)/.test(l))
    assert.equal(calls.length, 2, JSON.stringify(mine.lines))
    const [ok, failed] = calls
    assert.equal(ok[0], 'debug')
    assert.match(ok[1], /^aopay\.http: call finished endpoint=MobileRecharge .*customer_number=98XXXXXX10/)
    assert.match(failed[1], /call failed .*retry_safe=true/)
    for (const [, line] of mine.lines) {
      assert.ok(!line.includes(SECRET) && !line.includes('9876543210'), line)
      assert.ok(!line.includes('98XXXXXX11'), `another client's call: ${line}`)
    }
  }))

test('a logger that is not console-like is refused; a throwing one changes no result', () =>
  withSandbox(async (sb) => {
    for (const bad of ['console', 42, { debug() {}, info() {}, warn() {} }]) {
      assert.throws(
        () => new aopay.Client({ registrationId: REG, baseUrl: sb.url, logger: bad }),
        (e) => e instanceof aopay.ValidationError && e.field === 'logger' && e.retrySafe,
      )
    }
    const boom = () => { throw new Error('log sink down') }
    const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url, logger: { debug: boom, info: boom, warn: boom, error: boom } })
    assert.equal((await client.mobileRecharge(input())).status, 'SUCCESS')
    assert.equal(sb.stats().requests.mobileRecharge, 1)
  }))

// A child process: AOPAY_LOG is read once per process, and `logger: console`
// writes where a user would see it.
function child(env, { logger }) {
  const script = `
    const aopay = require(${JSON.stringify(path.join(__dirname, '..'))})
    ;(async () => {
      const sb = await aopay.Sandbox.start()
      const c = new aopay.Client({ registrationId: 'AOP-554', baseUrl: sb.url, headers: { 'X-Api-Key': '${SECRET}' }${logger ? ', logger: console' : ''} })
      await c.mobileRecharge({ productId: 518, amount: 10, customerNumber: '9876543210', geocode: '23.6784,76.8764' })
      await sb.stop()
    })()`
  const env2 = { ...process.env, ...env }
  if (env.AOPAY_LOG === undefined) delete env2.AOPAY_LOG
  return spawnSync(process.execPath, ['-e', script], { env: env2, encoding: 'utf8', timeout: 30000 })
}

test('AOPAY_LOG=debug prints to stderr; unset, nothing', () => {
  const on = child({ AOPAY_LOG: 'debug' }, { logger: false })
  assert.equal(on.status, 0, on.stderr)
  assert.match(on.stderr, /DEBUG aopay: call finished endpoint="MobileRecharge" .*customer_number="98XXXXXX10"/)
  assert.ok(!on.stderr.includes('hyper_util'), 'a bare level is the SDK\'s own events')
  assert.ok(!on.stderr.includes(SECRET) && !on.stderr.includes('9876543210'), on.stderr)
  assert.ok(!on.stderr.includes('\u001b['), 'no colour into a pipe')
  const off = child({ AOPAY_LOG: undefined }, { logger: false })
  assert.equal(off.status, 0, off.stderr)
  assert.equal(off.stderr, '')
  assert.equal(off.stdout, '')
})

test('logger: console shows one line per call on stdout', () => {
  const out = child({ AOPAY_LOG: undefined }, { logger: true })
  assert.equal(out.status, 0, out.stderr)
  const calls = out.stdout.split('\n').filter((l) => l.includes('call finished'))
  assert.equal(calls.length, 1, out.stdout)
  assert.match(calls[0], /customer_number=98XXXXXX10/)
  assert.ok(!out.stdout.includes(SECRET), out.stdout)
})

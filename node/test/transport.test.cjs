'use strict'
// Transport security through the built addon: the HTTPS sandbox and its
// throwaway CA, bad root certificates, HTTPS_PROXY / NO_PROXY through a real
// tinyproxy (skipped when missing, unless AOPAY_TEST_TINYPROXY names it),
// and no secret in inspect output or errors.
const { test, describe, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const util = require('node:util')
const { spawn, execFileSync } = require('node:child_process')

const aopay = require('aopay')
const { REG, input } = require('./helpers.cjs')

const PROXY_VARS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy',
  'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy']
const clearProxies = () => { for (const v of PROXY_VARS) delete process.env[v] }

async function freePort() {
  const srv = net.createServer()
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address()
  await new Promise((resolve) => srv.close(resolve))
  return port
}

function findTinyproxy() {
  if (process.env.AOPAY_TEST_TINYPROXY) return process.env.AOPAY_TEST_TINYPROXY
  for (const p of ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy']) if (fs.existsSync(p)) return p
  return null
}

async function startTinyproxy() {
  const bin = findTinyproxy()
  if (!bin) return null
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aopay-tinyproxy-'))
  const port = await freePort()
  const log = path.join(dir, 'tinyproxy.log')
  const conf = path.join(dir, 'tinyproxy.conf')
  fs.writeFileSync(conf, `Port ${port}\nListen 127.0.0.1\nTimeout 30\nLogFile "${log}"\n` +
    'LogLevel Connect\nMaxClients 50\nAllow 127.0.0.1\nDisableViaHeader Yes\n')
  const child = spawn(bin, ['-d', '-c', conf], { stdio: 'ignore' })
  const deadline = Date.now() + 10_000
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) break
    assert.ok(Date.now() < deadline, 'tinyproxy did not start')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return {
    url: `http://127.0.0.1:${port}`,
    requests: (needle) => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '')
      .split('\n').filter((l) => l.includes('Request (') && l.includes(needle)).length,
    stop: () => child.kill(),
  }
}

describe('TLS sandbox', () => {
  let sb
  before(async () => { sb = await aopay.Sandbox.start({ tls: true }) })
  after(() => sb.stop())
  beforeEach(() => { clearProxies(); sb.reset() })

  test('is refused without its CA, and nothing is sent', async () => {
    assert.match(sb.url, /^https:\/\/127\.0\.0\.1:\d+$/)
    const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url })
    await assert.rejects(client.mobileRecharge(input(9876543210)), (e) => {
      assert.ok(e instanceof aopay.ConnectError)
      assert.equal(e.code, 'AOPAY_CONNECT')
      assert.equal(e.retrySafe, true)
      assert.match(e.message, /certificate/)
      return true
    })
    assert.equal(sb.stats().requests.mobileRecharge, 0)
  })

  for (const kind of ['string', 'Buffer', 'Uint8Array']) {
    test(`is trusted with its CA as a ${kind}`, async () => {
      assert.match(sb.caPem, /^-----BEGIN CERTIFICATE-----/)
      const roots = kind === 'string' ? sb.caPem
        : kind === 'Buffer' ? Buffer.from(sb.caPem) : new TextEncoder().encode(sb.caPem)
      const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url, rootCertificates: roots })
      const r = await client.mobileRecharge(input(9876543210))
      assert.equal(r.status, 'SUCCESS')
      assert.equal((await client.rechargeStatus(r.referenceId)).referenceId, r.referenceId)
      assert.equal(sb.stats().requests.mobileRecharge, 1)
    })
  }

  test('a plain sandbox has no CA', async () => {
    const plain = await aopay.Sandbox.start()
    assert.equal(plain.caPem, null)
    await plain.stop()
  })
})

describe('bad root certificates', () => {
  const cases = [
    ['', /at least one PEM CERTIFICATE/],
    ['garbage', /at least one PEM CERTIFICATE/],
    ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', /not a usable CA/],
    [42, /string or a Buffer/],
    [{ pem: 'x' }, /string or a Buffer/],
    [new Uint16Array(4), /string or a Buffer/],
    [new ArrayBuffer(4), /string or a Buffer/],
  ]
  for (const [roots, rule] of cases) {
    test(util.inspect(roots).slice(0, 40), () => {
      assert.throws(() => new aopay.Client({ registrationId: REG, rootCertificates: roots }), (e) => {
        assert.ok(e instanceof aopay.ValidationError, String(e))
        assert.equal(e.field, 'root_certificates')
        assert.match(e.message, rule)
        return true
      })
    })
  }
})

describe('proxies', () => {
  let sb, proxy
  before(async () => {
    sb = await aopay.Sandbox.start({ tls: true })
    proxy = await startTinyproxy()
  })
  after(async () => {
    clearProxies()
    proxy?.stop()
    await sb.stop()
  })
  beforeEach(() => { clearProxies(); sb.reset() })

  test('HTTPS_PROXY carries calls through CONNECT; NO_PROXY bypasses it', async (t) => {
    if (!proxy) return t.skip('tinyproxy is not installed (apt-get install tinyproxy-bin)')
    const options = { registrationId: REG, baseUrl: sb.url, rootCertificates: sb.caPem }
    process.env.HTTPS_PROXY = proxy.url
    const proxied = new aopay.Client(options)
    assert.equal((await proxied.mobileRecharge(input(9876543210))).status, 'SUCCESS')
    const host = sb.url.replace('https://', '')
    assert.equal(proxy.requests(`CONNECT ${host}`), 1)

    process.env.NO_PROXY = '127.0.0.1'
    const direct = new aopay.Client(options)
    assert.equal((await direct.mobileRecharge(input(9876543210))).status, 'SUCCESS')
    assert.equal(proxy.requests('CONNECT'), 1)
    assert.equal(sb.stats().requests.mobileRecharge, 2)
  })

  test('an unreachable proxy is a retry-safe ConnectError', async () => {
    process.env.HTTPS_PROXY = `http://127.0.0.1:${await freePort()}`
    const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url, rootCertificates: sb.caPem })
    await assert.rejects(client.mobileRecharge(input(9876543210)), (e) => {
      assert.ok(e instanceof aopay.ConnectError, String(e))
      assert.equal(e.retrySafe, true)
      return true
    })
    assert.equal(sb.stats().requests.mobileRecharge, 0)
  })
})

test('no secret in inspect output or errors', async () => {
  clearProxies()
  const secret = 'tok-8e4f-SECRET'
  const sb = await aopay.Sandbox.start({ tls: true })
  try {
    const client = new aopay.Client({ registrationId: REG, baseUrl: sb.url, headers: { Authorization: secret } })
    let shown = util.inspect(client, { depth: 10, showHidden: true }) + String(client)
    assert.match(shown, /Authorization/)
    await assert.rejects(client.mobileRecharge(input(9876543210)), (e) => {
      shown += util.inspect(e, { depth: 10, showHidden: true }) + JSON.stringify(e) + e.stack
      return true
    })
    assert.ok(!shown.includes(secret), shown)
    assert.ok(!shown.includes('9876543210'), shown)
  } finally {
    await sb.stop()
  }
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

import aopayDefault, { Client, Sandbox, AopayError, OutcomeUnknownError, ValidationError } from 'aopay'

const require = createRequire(import.meta.url)
const here = path.dirname(fileURLToPath(import.meta.url))

test('ESM and CommonJS share the same classes', () => {
  const cjs = require('aopay')
  assert.equal(cjs.Client, Client)
  assert.equal(cjs.AopayError, AopayError)
  assert.equal(cjs.OutcomeUnknownError, OutcomeUnknownError)
  assert.equal(aopayDefault.ValidationError, ValidationError)
  assert.ok(Object.getPrototypeOf(OutcomeUnknownError) === AopayError)
})

test('ESM: an outcome-unknown error is instanceof across both entry points', async () => {
  const sb = await Sandbox.start()
  const client = new Client({ registrationId: 'AOP-554', baseUrl: sb.url })
  const err = await client
    .mobileRecharge({ productId: 518, amount: 10, customerNumber: '9000000008', geocode: '1,2' })
    .catch((e) => e)
  assert.ok(err instanceof require('aopay').OutcomeUnknownError)
  assert.ok(err instanceof AopayError)
  assert.equal(sb.rechargesFor('9000000008'), 1)
  await sb.stop()
})

function runNode(file) {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, out, ms: Date.now() - started })
    })
  })
}

test('a process using a client and a stopped sandbox exits by itself', async () => {
  const r = await runNode(path.join(here, 'fixtures', 'exits.cjs'))
  assert.equal(r.signal, null, 'had to be killed: something kept the process alive')
  assert.equal(r.code, 0)
  assert.match(r.out, /SUCCESS/)
})

test('the JS quick starts run', async () => {
  for (const file of ['quickstart.mjs', 'quickstart.cjs']) {
    const r = await runNode(path.join(here, '..', 'examples', file))
    assert.equal(r.code, 0, `${file}: ${r.out}`)
    assert.match(r.out, /SUCCESS/)
  }
})

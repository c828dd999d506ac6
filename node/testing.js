'use strict'
// aopay/testing: a sandbox per suite for node:test, Jest or Vitest, and
// assertions about what the sandbox received ("recharged exactly once").

const assert = require('node:assert')
const { Client, Sandbox } = require('./index.cjs')
const native = require('./native.cjs')

const REGISTRATION_ID = 'AOP-554'

/** The number as the SDK shows it in logs and errors (the core's rule). */
function masked(value) {
  return native.maskDigits(String(value))
}

function fail(message) {
  throw new assert.AssertionError({ message, stackStartFn: fail })
}

/**
 * A sandbox started before the suite's tests and stopped after them, through
 * the hooks you pass: node:test `{ before, after }`, Jest and Vitest
 * `{ before: beforeAll, after: afterAll }`; `beforeEach` (optional) resets
 * it between tests.
 */
function aopaySandbox({ before, after, beforeEach, ...options } = {}) {
  if (typeof before !== 'function' || typeof after !== 'function') {
    throw new TypeError('aopaySandbox needs your test runner\'s hooks: { before, after } (node:test) or { before: beforeAll, after: afterAll } (Jest, Vitest)')
  }
  let sandbox = null
  const fixture = {
    get sandbox() {
      if (sandbox === null) throw new Error('the aopay sandbox is not started: use it inside a test')
      return sandbox
    },
    /** A client of the sandbox; `options` as for `new Client`. */
    client(clientOptions = {}) {
      return new Client({ registrationId: REGISTRATION_ID, baseUrl: fixture.sandbox.url, ...clientOptions })
    },
  }
  before(async () => {
    sandbox = await Sandbox.start(options)
  })
  after(async () => {
    if (sandbox !== null) await sandbox.stop()
    sandbox = null
  })
  if (typeof beforeEach === 'function') beforeEach(() => fixture.sandbox.reset())
  return fixture
}

/** Run `fn(sandbox, client)` on a fresh sandbox, stopped afterwards. */
async function withSandbox(fn, options = {}) {
  const sandbox = await Sandbox.start(options)
  try {
    return await fn(sandbox, new Client({ registrationId: REGISTRATION_ID, baseUrl: sandbox.url }))
  } finally {
    await sandbox.stop()
  }
}

/** Exactly one MobileRecharge named this number: not zero (never sent), not two (paid twice). */
function assertRechargedOnce(sandbox, customerNumber) {
  const n = sandbox.rechargesFor(customerNumber)
  if (n !== 1) fail(`${masked(customerNumber)} was recharged ${n} times, expected exactly once`)
}

/** No MobileRecharge named this number. */
function assertNotRecharged(sandbox, customerNumber) {
  const n = sandbox.rechargesFor(customerNumber)
  if (n !== 0) fail(`${masked(customerNumber)} was recharged ${n} times, expected never`)
}

/** Exactly one payment (DoRecharge, bill, FASTag) recorded for this account. */
function assertPaidOnce(sandbox, account) {
  const n = sandbox.recordedPaymentsFor(account)
  if (n !== 1) fail(`${masked(account)} was paid ${n} times, expected exactly once`)
}

/** The sandbox received no request at all. */
function assertNothingSent(sandbox) {
  const { requests, ...others } = sandbox.stats()
  const received = Object.entries({ ...requests, ...others }).filter(([, v]) => v !== 0)
  if (received.length > 0) fail(`the sandbox received requests: ${JSON.stringify(Object.fromEntries(received))}`)
}

module.exports = {
  REGISTRATION_ID,
  aopaySandbox,
  withSandbox,
  assertRechargedOnce,
  assertNotRecharged,
  assertPaidOnce,
  assertNothingSent,
}

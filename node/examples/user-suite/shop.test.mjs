// A user's own suite on aopay/testing, with node:test. With Jest or Vitest,
// pass { before: beforeAll, after: afterAll, beforeEach } instead.
import { after, before, beforeEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { ValidationError } from 'aopay'
import { aopaySandbox, assertNothingSent, assertNotRecharged, assertRechargedOnce, withSandbox } from 'aopay/testing'
import { sell } from './shop.mjs'

const aopay = aopaySandbox({ before, after, beforeEach })

test('a sale recharges exactly once', async () => {
  assert.equal(await sell(aopay.client(), '9876543210', 10), 'SUCCESS')
  assertRechargedOnce(aopay.sandbox, '9876543210')
})

test('a pending sale is waited for, not sold again', async () => {
  assert.equal(await sell(aopay.client(), '9000000002', 10), 'SUCCESS')
  assertRechargedOnce(aopay.sandbox, '9000000002')
})

test('an unknown outcome is never sold twice', async () => {
  assert.equal(await sell(aopay.client(), '9000000006', 10), 'CHECKING')
  assertRechargedOnce(aopay.sandbox, '9000000006')
})

test('a bad number sends nothing', async () => {
  await assert.rejects(sell(aopay.client(), '98765x4321', 10), ValidationError)
  await assert.rejects(sell(aopay.client(), '9876543210', 0), ValidationError) // zero rupees
  assertNotRecharged(aopay.sandbox, '9876543210')
  assertNothingSent(aopay.sandbox)
})

test('the helpers fail when they should', async () => {
  assert.throws(() => assertRechargedOnce(aopay.sandbox, '9876543210'), /recharged 0 times/)
  const client = aopay.client()
  await sell(client, '9876543210', 10)
  await sell(client, '9876543210', 10)
  assert.throws(() => assertRechargedOnce(aopay.sandbox, '9876543210'), { name: 'AssertionError', message: /98XXXXXX10 was recharged 2 times/ })
  assert.throws(() => assertNothingSent(aopay.sandbox), /received requests/)
})

test('withSandbox: a sandbox of its own, stopped afterwards', async () => {
  const url = await withSandbox(async (sandbox, client) => {
    assert.equal(await sell(client, '9876543211', 10), 'SUCCESS')
    assertRechargedOnce(sandbox, '9876543211')
    assertNotRecharged(aopay.sandbox, '9876543211')
    return sandbox.url
  })
  assert.match(url, /^http:\/\/127\.0\.0\.1:/)
})

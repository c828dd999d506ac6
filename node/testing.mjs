// ESM entry of aopay/testing: the same objects as the CommonJS one.
import testing from './testing.js'

export const {
  REGISTRATION_ID,
  aopaySandbox,
  withSandbox,
  assertRechargedOnce,
  assertNotRecharged,
  assertPaidOnce,
  assertNothingSent,
} = testing
export default testing

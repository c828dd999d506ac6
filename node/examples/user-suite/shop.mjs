// A shop's recharge counter: the application code the suite beside it tests
// through aopay/testing.
import { OutcomeUnknownError } from 'aopay'

const GEOCODE = '23.6784,76.8764'
const JIO_PREPAID = 518

/** Sell a recharge; the status to show the customer. */
export async function sell(client, number, rupees) {
  let r
  try {
    r = await client.mobileRecharge({ productId: JIO_PREPAID, amount: rupees, customerNumber: number, geocode: GEOCODE })
  } catch (e) {
    if (e instanceof OutcomeUnknownError) return 'CHECKING' // never sold again: reconciled later
    throw e
  }
  if (!r.isFinal && r.referenceId !== null) {
    r = await client.waitForFinal(r.referenceId, { timeoutMs: 30_000, initialIntervalMs: 50 })
  }
  return r.status
}

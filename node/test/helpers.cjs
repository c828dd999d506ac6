'use strict'
const GEO = '23.6784,76.8764'
const REG = 'AOP-554'

const fs = require('node:fs')
const path = require('node:path')

// The contract's test data, shared with the Rust and Python suites.
const CONTRACT = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'testdata', 'contract.json'), 'utf8'))
const camel = (key) => key.replace(/_([a-z])/g, (_, c) => c.toUpperCase())
const camelKeys = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [camel(k), v]))

// number -> [expected status or error class name, httpStatus, retrySafe]
const SCENARIOS = Object.fromEntries(
  CONTRACT.magic_numbers.map((r) => [r.number, [r.outcome, r.http_status, r.retry_safe]]),
)

// [field, override] — every input rule, refused before anything is sent:
// the shared rows, then those JSON cannot express.
const BAD_INPUTS = [
  ...CONTRACT.bad_inputs.map((r) => [r.field, camelKeys(r.override)]),
  ['product_id', { productId: undefined }],
  ['amount', { amount: NaN }],
  ['amount', { amount: Infinity }],
  ['amount', { amount: 10n }],
  ['customer_number', { customerNumber: 9876543210.5 }],
  ['geocode', { geocode: [23.6, Infinity] }],
  ['geocode', { geocode: [NaN, 1] }],
  ['geocode', { geocode: 'NaN,0' }],
]

const GOOD_INPUTS = CONTRACT.good_inputs.map(camelKeys)

function input(number = '9876543210', override = {}) {
  return { productId: 518, amount: 10, customerNumber: String(number), geocode: GEO, ...override }
}

module.exports = { GEO, REG, CONTRACT, SCENARIOS, BAD_INPUTS, GOOD_INPUTS, camel, camelKeys, input }

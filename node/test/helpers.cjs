'use strict'
const GEO = '23.6784,76.8764'
const REG = 'AOP-554'

// number -> [expected status or error class name, httpStatus, retrySafe]
const SCENARIOS = {
  9876543210: ['SUCCESS', 200, null],
  9000000001: ['FAILED', 200, null],
  9000000002: ['PENDING', 200, null],
  9000000003: ['PENDING', 200, null],
  9000000004: ['AuthenticationError', 401, true],
  9000000005: ['RateLimitError', 429, true],
  9000000006: ['OutcomeUnknownError', 500, false],
  9000000007: ['OutcomeUnknownError', null, false],
  9000000008: ['OutcomeUnknownError', null, false],
  9000000009: ['OutcomeUnknownError', 502, false],
  9000000010: ['SUCCESS', 200, null],
  9000000011: ['ApiError', 200, true],
  9000000012: ['OutcomeUnknownError', 200, false],
  9000000013: ['SUCCESS', 200, null],
}

// [field, override] — every input rule, refused before anything is sent.
const BAD_INPUTS = [
  ['product_id', { productId: 0 }],
  ['product_id', { productId: 2 ** 31 }],
  ['product_id', { productId: -1 }],
  ['product_id', { productId: '518' }],
  ['product_id', { productId: 518.5 }],
  ['product_id', { productId: true }],
  ['product_id', { productId: 2 ** 60 }],
  ['product_id', { productId: undefined }],
  ['amount', { amount: 0 }],
  ['amount', { amount: 1_000_001 }],
  ['amount', { amount: 10.5 }],
  ['amount', { amount: NaN }],
  ['amount', { amount: Infinity }],
  ['amount', { amount: '10' }],
  ['amount', { amount: 10n }],
  ['amount', { amount: null }],
  ['customer_number', { customerNumber: '' }],
  ['customer_number', { customerNumber: '0123456789' }],
  ['customer_number', { customerNumber: '98765abc10' }],
  ['customer_number', { customerNumber: '1234567890123456789' }],
  ['customer_number', { customerNumber: '+1 202 555 0123' }],
  ['customer_number', { customerNumber: '९८७६५४३२१०' }],
  ['customer_number', { customerNumber: 0 }],
  ['customer_number', { customerNumber: -9876543210 }],
  ['customer_number', { customerNumber: 9876543210.5 }],
  ['customer_number', { customerNumber: {} }],
  ['geocode', { geocode: '' }],
  ['geocode', { geocode: '23.6784' }],
  ['geocode', { geocode: '91,0' }],
  ['geocode', { geocode: '0,181' }],
  ['geocode', { geocode: 'NaN,0' }],
  ['geocode', { geocode: [23.6, Infinity] }],
  ['geocode', { geocode: [NaN, 1] }],
  ['geocode', { geocode: [23.6] }],
  ['geocode', { geocode: ['23', '76'] }],
  ['geocode', { geocode: { lat: 1 } }],
  ['geocode', { geocode: 7 }],
]

const GOOD_INPUTS = [
  { customerNumber: '+91 98765-43210' },
  { customerNumber: '09876543210' },
  { customerNumber: 9876543210 },
  { customerNumber: '123456789012345678' },
  { geocode: [23.6784, 76.8764] },
  { geocode: ' -90 , 180 ' },
  { amount: 1 },
  { amount: 1_000_000 },
  { productId: 2 ** 31 - 1 },
]

function input(number = '9876543210', override = {}) {
  return { productId: 518, amount: 10, customerNumber: String(number), geocode: GEO, ...override }
}

module.exports = { GEO, REG, SCENARIOS, BAD_INPUTS, GOOD_INPUTS, input }

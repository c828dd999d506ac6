'use strict'
// The aopay error hierarchy. One module, loaded by both entry points, so
// `instanceof` works whichever way the package was imported.

const MARKER = '\u0001AOPAY\u0001'

class AopayError extends Error {
  constructor(message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = new.target.name
    this.code = details.code ?? new.target.code
    this.retrySafe = details.retrySafe ?? false
    this.httpStatus = details.httpStatus ?? null
    this.apiCode = details.apiCode ?? null
    this.field = details.field ?? null
    this.retryAfterMs = details.retryAfterMs ?? null
    this.referenceId = details.referenceId ?? null
    this.bodyExcerpt = details.bodyExcerpt ?? null
    this.detail = details.detail ?? message
  }
}
AopayError.code = 'AOPAY_ERROR'

function define(name, code, parent = AopayError) {
  const cls = { [name]: class extends parent {} }[name]
  cls.code = code
  return cls
}

const ValidationError = define('ValidationError', 'AOPAY_VALIDATION')
const ConnectError = define('ConnectError', 'AOPAY_CONNECT')
const AuthenticationError = define('AuthenticationError', 'AOPAY_AUTHENTICATION')
const RateLimitError = define('RateLimitError', 'AOPAY_RATE_LIMIT')
const ApiError = define('ApiError', 'AOPAY_API')
const OutcomeUnknownError = define('OutcomeUnknownError', 'AOPAY_OUTCOME_UNKNOWN')
const ServerError = define('ServerError', 'AOPAY_SERVER')
const ProtocolError = define('ProtocolError', 'AOPAY_PROTOCOL')
const IdempotencyConflictError = define('IdempotencyConflictError', 'AOPAY_IDEMPOTENCY_CONFLICT')
const JournalError = define('JournalError', 'AOPAY_JOURNAL')
const DuplicateReferenceError = define('DuplicateReferenceError', 'AOPAY_DUPLICATE_REFERENCE')
const InsufficientBalanceError = define('InsufficientBalanceError', 'AOPAY_INSUFFICIENT_BALANCE', ApiError)
const TransactionNotFoundError = define('TransactionNotFoundError', 'AOPAY_TRANSACTION_NOT_FOUND')

const BY_CODE = Object.fromEntries(
  [
    ValidationError,
    ConnectError,
    AuthenticationError,
    RateLimitError,
    ApiError,
    OutcomeUnknownError,
    ServerError,
    ProtocolError,
    IdempotencyConflictError,
    JournalError,
    DuplicateReferenceError,
    InsufficientBalanceError,
    TransactionNotFoundError,
  ].map((cls) => [cls.code, cls]),
)

/** The payload of a native rejection, or null for any other error. */
function nativePayload(err) {
  const message = err && typeof err.message === 'string' ? err.message : ''
  if (!message.startsWith(MARKER)) return null
  try {
    return JSON.parse(message.slice(MARKER.length))
  } catch {
    return null
  }
}

/** The error for a native payload: an AopayError subclass, or a plain
 * Error with `code` for the binding's own failures (aborted, stopped). */
function fromPayload(p) {
  if (p.local) {
    const e = new Error(p.message)
    e.code = p.code
    return e
  }
  const cls = BY_CODE[p.code] ?? AopayError
  return new cls(p.message, p)
}

/** Turn a native exception into its AopayError subclass; pass others through. */
function fromNative(err) {
  const p = nativePayload(err)
  return p === null ? err : fromPayload(p)
}

module.exports = {
  AopayError,
  ValidationError,
  ConnectError,
  AuthenticationError,
  RateLimitError,
  ApiError,
  OutcomeUnknownError,
  ServerError,
  ProtocolError,
  IdempotencyConflictError,
  JournalError,
  DuplicateReferenceError,
  InsufficientBalanceError,
  TransactionNotFoundError,
  fromNative,
  fromPayload,
  nativePayload,
}

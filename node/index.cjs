'use strict'
// The aopay package: a thin, idiomatic layer over the native addon (which
// holds every rule). It maps rejections to error classes and AbortSignal to
// cancellation.

const native = require('./native.cjs')
const errors = require('./errors.cjs')

const { fromNative, nativePayload } = errors

function rethrow(err) {
  throw fromNative(err)
}

function abortReason(signal) {
  if (signal.reason !== undefined) return signal.reason
  const e = new Error('This operation was aborted')
  e.name = 'AbortError'
  return e
}

const nativeKey = Symbol('aopay.native')

class Client {
  /**
   * @param {{registrationId: string, baseUrl?: string, timeoutMs?: number,
   *          connectTimeoutMs?: number, headers?: Record<string, string>,
   *          allowInsecureHttp?: boolean}} options
   */
  constructor(options) {
    if (options === null || typeof options !== 'object') {
      throw new errors.ValidationError('invalid options: must be an object', {
        field: 'options',
        retrySafe: true,
      })
    }
    try {
      this[nativeKey] = new native.NativeClient(options)
    } catch (err) {
      rethrow(err)
    }
  }

  mobileRecharge(input) {
    try {
      if (input === null || typeof input !== 'object') {
        throw new errors.ValidationError('invalid input: must be an object', { field: 'input', retrySafe: true })
      }
      return this[nativeKey].mobileRecharge(input).catch(rethrow)
    } catch (err) {
      return Promise.reject(fromNative(err))
    }
  }

  rechargeStatus(referenceId) {
    try {
      return this[nativeKey].rechargeStatus(referenceId).catch(rethrow)
    } catch (err) {
      return Promise.reject(fromNative(err))
    }
  }

  /**
   * Poll until SUCCESS or FAILED. `signal` stops the waiting only: a
   * recharge already sent may still be processed.
   */
  async waitForFinal(referenceId, options = {}) {
    const { signal, ...rest } = options ?? {}
    if (signal?.aborted) throw abortReason(signal)
    const token = signal ? new native.CancelToken() : undefined
    const onAbort = () => token.cancel()
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      return await this[nativeKey].waitForFinal(referenceId, rest, token)
    } catch (err) {
      if (signal?.aborted && nativePayload(err)?.code === 'ABORTED') throw abortReason(signal)
      rethrow(err)
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return this[nativeKey].describe()
  }

  toString() {
    return this[nativeKey].describe()
  }
}

class Sandbox {
  constructor(handle) {
    this[nativeKey] = handle
    this.url = handle.url
  }

  /** Start the AOPay-compatible sandbox in-process on a free loopback port. */
  static async start(options = {}) {
    const { slowDelayMs, pendingChecks } = options ?? {}
    try {
      return new Sandbox(await native.startSandbox(slowDelayMs, pendingChecks))
    } catch (err) {
      rethrow(err)
    }
  }

  stats() {
    return this[nativeKey].stats()
  }

  rechargesFor(customerNumber) {
    try {
      return this[nativeKey].rechargesFor(customerNumber)
    } catch (err) {
      rethrow(err)
    }
  }

  reset() {
    this[nativeKey].reset()
  }

  stop() {
    return this[nativeKey].stop()
  }

  async [Symbol.asyncDispose]() {
    await this.stop()
  }
}

const MAGIC_NUMBERS = Object.freeze(
  Object.fromEntries(native.magicNumbers().map((m) => [m.number, m.description])),
)

module.exports = {
  Client,
  Sandbox,
  MAGIC_NUMBERS,
  VERSION: native.version(),
  AopayError: errors.AopayError,
  ValidationError: errors.ValidationError,
  ConnectError: errors.ConnectError,
  AuthenticationError: errors.AuthenticationError,
  RateLimitError: errors.RateLimitError,
  ApiError: errors.ApiError,
  OutcomeUnknownError: errors.OutcomeUnknownError,
  ServerError: errors.ServerError,
  ProtocolError: errors.ProtocolError,
  IdempotencyConflictError: errors.IdempotencyConflictError,
}

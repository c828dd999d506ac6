'use strict'
// The aopay package: a thin, idiomatic layer over the native addon (which
// holds every rule). It maps rejections to error classes and AbortSignal to
// cancellation.

const native = require('./native.cjs')
const errors = require('./errors.cjs')
const endpoints = require('./endpoints.cjs')

const { fromNative, fromPayload } = errors

function rethrow(err) {
  throw fromNative(err)
}

function abortReason(signal) {
  if (signal.reason !== undefined) return signal.reason
  const e = new Error('This operation was aborted')
  e.name = 'AbortError'
  return e
}

/**
 * The caller's provider as the native side takes it: a function returning a
 * Promise of `{"headers": …, "ttlMs": …}` as JSON text, whatever the caller's
 * returns (headers, `{ headers, ttlMs }`, or a Promise of either).
 */
function credentialsProvider(fn) {
  return async () => {
    const got = await fn()
    const structured = got !== null && typeof got === 'object' && got.headers !== null && typeof got.headers === 'object'
    return JSON.stringify(structured ? { headers: got.headers, ttlMs: got.ttlMs ?? null } : { headers: got ?? null, ttlMs: null })
  }
}

/**
 * The caller's signer function as the native side takes it: given
 * `[path, body as latin1 text]`, a Promise of the headers as JSON text.
 */
function signerFunction(fn) {
  return async ([path, latin1]) => JSON.stringify(await fn(path, Buffer.from(latin1, 'latin1')))
}

const settingsKey = Symbol('aopay.jwtSettings')

/**
 * The upstream's JWT, made afresh for every request: HS256 with `secret`
 * or RS256 with `privateKey` (PEM), claims `timestamp`, `partnerId` and
 * `reqid` plus `claims`, in the `header` header (default `Token`), beside
 * the static `headers`. Its key is held privately and never shown.
 */
class JwtSigner {
  #settings
  constructor(settings) {
    if (settings === null || typeof settings !== 'object') {
      throw new errors.ValidationError('invalid signer: settings must be an object', { field: 'signer', retrySafe: true })
    }
    const { partnerId, secret, privateKey, header, claims, headers } = settings
    this.#settings = { partnerId, secret, privateKey, header, claims, headers }
    try {
      native.checkJwtSigner(this.#settings)
    } catch (err) {
      rethrow(err)
    }
  }

  /** One request's headers, made now (a fresh token): secrets. */
  headers() {
    try {
      return JSON.parse(native.jwtHeaders(this.#settings))
    } catch (err) {
      rethrow(err)
    }
  }

  get [settingsKey]() {
    return this.#settings
  }
}

// A client never collected keeps its journal open: at exit, the journal's
// `.db` file must hold every entry all the same.
process.once('exit', () => native.checkpointJournals())

const nativeKey = Symbol('aopay.native')
const callKey = Symbol('aopay.call')
const byHandKey = Symbol('aopay.byHand')

/**
 * Settles the promises of one client; native results arrive in batches.
 * An entry is `[id, 1, value]` (a result), `[id, 0, error]`, or
 * `[0, 2, event]` (an `onCall` event, queued just before its call's result).
 */
function makeDispatch(pending, keepAlive, onEvent, logger) {
  return (batch) => {
    for (const [id, kind, value] of JSON.parse(batch)) {
      if (kind === 2) {
        onEvent(value)
        continue
      }
      if (kind === 3) {
        log(logger, value[0], value[1])
        continue
      }
      const settle = pending.get(id)
      if (settle === undefined) continue
      pending.delete(id)
      if (kind === 1) settle.resolve(value)
      else settle.reject(fromPayload(value))
    }
    if (pending.size === 0) keepAlive.unref()
  }
}

const LOG_METHODS = ['debug', 'info', 'warn', 'error']

/** A console-like `logger`: an object with `debug`, `info`, `warn` and `error` functions (console, pino, winston). */
function checkLogger(logger) {
  if (logger === undefined || logger === null) return null
  const missing = LOG_METHODS.filter((m) => typeof Object(logger)[m] !== 'function')
  if (missing.length > 0) {
    throw new errors.ValidationError(`invalid logger: must be console-like, with ${missing.join(', ')} functions`, {
      field: 'logger',
      retrySafe: true,
    })
  }
  return logger
}

/** One line to the caller's logger; a logger that throws never breaks a call. */
function log(logger, method, line) {
  try {
    logger[method](line)
  } catch {
    // A broken logger must not change what a call returns.
  }
}

/** The caller's `onCall`, guarded: a throwing hook is a process warning and never changes a call's result. */
function eventHandler(onCall) {
  if (typeof onCall !== 'function') return () => {}
  return (event) => {
    try {
      onCall(Object.freeze(event))
    } catch (err) {
      process.emitWarning(err instanceof Error ? err : new Error(String(err)), { type: 'AopayOnCallWarning' })
    }
  }
}

class Client {
  #pending = new Map()
  #nextId = 1
  // Referenced only while calls are in flight: an idle client never keeps
  // the process alive, a busy one does.
  #keepAlive = setInterval(() => {}, 1 << 30)

  /**
   * @param {{registrationId: string, baseUrl?: string, timeoutMs?: number,
   *          connectTimeoutMs?: number, headers?: Record<string, string>,
   *          allowInsecureHttp?: boolean}} options
   */
  constructor(options) {
    this.#keepAlive.unref()
    if (options === null || typeof options !== 'object') {
      throw new errors.ValidationError('invalid options: must be an object', { field: 'options', retrySafe: true })
    }
    if (typeof options.credentials === 'function') {
      options = { ...options, credentials: credentialsProvider(options.credentials) }
    }
    if (typeof options.signer === 'function') {
      options = { ...options, signer: signerFunction(options.signer) }
    } else if (options.signer instanceof JwtSigner) {
      options = { ...options, signer: { jwt: options.signer[settingsKey] } }
    }
    // `logger` is the JS side's: the native client gets only whether there is one.
    const { logger: given, ...nativeOptions } = options
    const logger = checkLogger(given)
    try {
      const onEvent = eventHandler(options.onCall)
      const dispatch = makeDispatch(this.#pending, this.#keepAlive, onEvent, logger)
      this[nativeKey] = new native.NativeClient(nativeOptions, dispatch, logger !== null)
    } catch (err) {
      rethrow(err)
    }
  }

  /** Start a native call under a fresh id; its promise settles from a batch. */
  [callKey](start) {
    const id = this.#nextId
    this.#nextId = id >= 0x7fffffff ? 1 : id + 1
    try {
      start(id)
    } catch (err) {
      return Promise.reject(fromNative(err))
    }
    if (this.#pending.size === 0) this.#keepAlive.ref()
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }))
  }

  mobileRecharge(input) {
    if (input === null || typeof input !== 'object') {
      return Promise.reject(
        new errors.ValidationError('invalid input: must be an object', { field: 'input', retrySafe: true }),
      )
    }
    return this[callKey]((id) => this[nativeKey].mobileRecharge(id, input))
  }

  rechargeStatus(referenceId) {
    return this[callKey]((id) => this[nativeKey].rechargeStatus(id, referenceId))
  }

  /**
   * Poll until SUCCESS or FAILED. `signal` stops the waiting only: a
   * recharge already sent may still be processed.
   */
  async waitForFinal(referenceId, options = {}) {
    // Anything but a plain object goes to the native side as it is, which
    // refuses it with a ValidationError naming `options`.
    const plain = options !== null && typeof options === 'object' && !Array.isArray(options)
    const { signal, ...fields } = plain ? options : {}
    const rest = plain ? fields : options
    if (signal?.aborted) throw abortReason(signal)
    const token = signal ? new native.CancelToken() : undefined
    const onAbort = () => token.cancel()
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      return await this[callKey]((id) => this[nativeKey].waitForFinal(id, referenceId, rest, token))
    } catch (err) {
      if (signal?.aborted && err?.code === 'ABORTED') throw abortReason(signal)
      throw err
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Unresolved journal entries (claimed, sending, pending, unknown), oldest first. */
  async journalPending() {
    try {
      return JSON.parse(await this[nativeKey].journalPending())
    } catch (err) {
      rethrow(err)
    }
  }

  /**
   * Settle by hand an entry neither final nor in flight with what the AOPay
   * statement shows ({ status, note, referenceId? }); kept with who, when
   * and why. The entry, now final.
   */
  async journalSettle(key, options) {
    return this[byHandKey]('settle', key, options)
  }

  /** Release by hand an entry neither final nor in flight ({ note }): the next call with its key sends. */
  async journalRelease(key, options) {
    return this[byHandKey]('release', key, options)
  }

  /** What was settled or released by hand for `key`: who, when, why. */
  async journalAudit(key) {
    return this[byHandKey]('audit', key, null)
  }

  async [byHandKey](action, key, options) {
    // As JSON text: the core checks every name and type (a function or a
    // symbol, which JSON cannot hold, arrives as null and is refused).
    const json = (v) => JSON.stringify(v === undefined ? null : v) ?? 'null'
    try {
      return JSON.parse(await this[nativeKey].journalByHand(action, json(key), json(options)))
    } catch (err) {
      rethrow(err)
    }
  }

  /** Check every unresolved entry that has a reference; record and return the answers. */
  async reconcileJournal() {
    try {
      return JSON.parse(await this[nativeKey].reconcileJournal())
    } catch (err) {
      rethrow(err)
    }
  }

  /**
   * Close the client: no new call is taken (a ValidationError naming
   * `client`); the calls in flight end, their outcomes recorded; the
   * journal is left whole in its file. Twice is once.
   */
  async close() {
    await this[nativeKey].close()
  }

  /** `await using client = new Client(...)` closes it at the block's end. */
  async [Symbol.asyncDispose]() {
    await this.close()
  }

  /**
   * Pay every order once through the journal (each `orderId` is its
   * idempotency key): `orders` is a CSV or JSON Lines path, or any iterable
   * or async iterable of order objects. An async iterable of results, as
   * each order finishes. Options are checked here, before anything is read.
   */
  runBatch(orders, options) {
    let batch
    try {
      batch = this[nativeKey].runBatch(typeof orders === 'string' ? orders : null, options)
    } catch (err) {
      rethrow(err)
    }
    if (typeof orders !== 'string') {
      if (orders == null || (typeof orders[Symbol.iterator] !== 'function' &&
          typeof orders[Symbol.asyncIterator] !== 'function')) {
        throw fromPayload({
          code: 'AOPAY_VALIDATION', name: 'ValidationError', field: 'orders', retrySafe: true,
          message: 'invalid orders: must be a path or an iterable of orders',
        })
      }
      // Feed the orders a few ahead; a failing iterable ends them with a row error.
      ;(async () => {
        try {
          for await (const order of orders) await batch.push(JSON.stringify(order))
        } catch (err) {
          await batch.fail(String(err?.message ?? err))
        } finally {
          batch.end()
        }
      })()
    }
    return {
      [Symbol.asyncIterator]() {
        return this
      },
      async next() {
        let got
        try {
          got = await batch.next()
        } catch (err) {
          rethrow(err)
        }
        return got === null ? { done: true, value: undefined } : { done: false, value: JSON.parse(got) }
      },
      async return() {
        batch.stop()
        return { done: true, value: undefined }
      },
      /** Take no new order; the ones in flight finish. */
      stop() {
        batch.stop()
      },
    }
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return this[nativeKey].describe()
  }

  toString() {
    return this[nativeKey].describe()
  }
}

// The generated endpoint methods (`dthInfo`, …) all go through one native call.
endpoints.install(Client, (client, method, input) =>
  client[callKey]((id) => client[nativeKey].call(id, method, input)),
)

// `Bill.fromRaw(raw)` and the like: a stored answer read again by the core.
const answerTypes = endpoints.answers((method, raw) => {
  try {
    return JSON.parse(native.reread(method, JSON.stringify(raw)))
  } catch (err) {
    return rethrow(err)
  }
})

class Sandbox {
  constructor(handle) {
    this[nativeKey] = handle
    this.url = handle.url
    /** PEM of the throwaway CA of a `{ tls: true }` sandbox, else `null`. */
    this.caPem = handle.caPem ?? null
  }

  /** Start the AOPay-compatible sandbox in-process on a free loopback port. */
  static async start(options = {}) {
    const { slowDelayMs, pendingChecks, tls, requireTokens, walletPayments, requireJwtSecret, requireJwtPublicKey, jwtHeader } = options ?? {}
    const bytes = (v) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v)
    try {
      return new Sandbox(await native.startSandbox(slowDelayMs, pendingChecks, tls, requireTokens, walletPayments,
        bytes(requireJwtSecret), bytes(requireJwtPublicKey), jwtHeader))
    } catch (err) {
      rethrow(err)
    }
  }

  stats() {
    return JSON.parse(this[nativeKey].stats())
  }

  rechargesFor(customerNumber) {
    try {
      return this[nativeKey].rechargesFor(customerNumber)
    } catch (err) {
      rethrow(err)
    }
  }

  recordedPaymentsFor(account) {
    try {
      return this[nativeKey].recordedPaymentsFor(account)
    } catch (err) {
      rethrow(err)
    }
  }

  /** A bearer token valid for `lifetimeMs` (default 600000), for a `requireTokens` sandbox. */
  issueToken(lifetimeMs) {
    try {
      return this[nativeKey].issueToken(lifetimeMs)
    } catch (err) {
      rethrow(err)
    }
  }

  /** Top the wallet up: it covers `payments` more referenced payments (none given: no limit). */
  topUp(payments) {
    try {
      this[nativeKey].topUp(payments)
    } catch (err) {
      rethrow(err)
    }
  }

  /** Invalidate every token issued so far: the next call with one gets 401. */
  revokeTokens() {
    this[nativeKey].revokeTokens()
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
  ...answerTypes,
  Client,
  Sandbox,
  JwtSigner,
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
  JournalError: errors.JournalError,
  DuplicateReferenceError: errors.DuplicateReferenceError,
  InsufficientBalanceError: errors.InsufficientBalanceError,
  TransactionNotFoundError: errors.TransactionNotFoundError,
}

// Types of the aopay package (hand-written for the JS wrapper; the native
// layer's generated types are in native.d.cts).

import type { ClientEndpoints, EndpointName, Outcome, Payment } from './endpoints.cjs'

/** The fate of a transaction (`Outcome`; a V2 recharge is never REFUNDED). */
export type RechargeStatus = Outcome

/**
 * A V2 recharge's answer: the one outcome of every write, a `Payment`
 * (before 0.2 an interface of its own, without the payment fields).
 */
export type Recharge = Payment

/** Every key is checked: an unknown one (a typo) is a ValidationError. */
export interface ClientOptions {
  /** Your AOPay registration id, e.g. `AOP-554`. */
  registrationId: string
  /** Default `https://api.aopay.co.in`; `http://` only for loopback hosts. */
  baseUrl?: string
  /** One deadline for a whole call (default 30000). */
  timeoutMs?: number
  /** Longest time to connect (default 10000). */
  connectTimeoutMs?: number
  /** Longest time for one attempt of a read (a status call) before it is retried (default 10000). */
  readAttemptTimeoutMs?: number
  /** Most attempts for one read (default 4, at most 100). */
  readMaxAttempts?: number
  /** Largest answer read, in bytes (default 1048576); a larger answer to a recharge is an OutcomeUnknownError. */
  maxResponseBytes?: number
  /** How long an idle pooled connection is kept for reuse (default 4000; 0 turns reuse off). */
  poolIdleTimeoutMs?: number
  /** Extra headers for every request (credentials); never printed. */
  headers?: Record<string, string>
  /** Allow plain http:// to a non-loopback host (never in production). */
  allowInsecureHttp?: boolean
  /**
   * Extra trusted CA certificates (PEM text), added to the system's: for a
   * private gateway, or a `{ tls: true }` sandbox's `caPem`.
   */
  rootCertificates?: string | Uint8Array
  /**
   * The idempotency journal, needed by `idempotencyKey`: a SQLite file path
   * (or a `postgres://…` DSN), `{ sqlite: path }` or `{ postgres: dsn }`.
   * PostgreSQL over TLS (verified) is required for any host that is not
   * loopback unless the DSN says `sslmode=disable`; `sslrootcert=FILE` adds a
   * CA, as in libpq.
   */
  journal?: string | { sqlite: string } | { postgres: string }
  /**
   * Gives the headers for calls (a token service, a signer): the headers, or
   * `{ headers, ttlMs }`, or a Promise of either. Fetched by one caller at a
   * time, reused for `ttlMs` (until a 401 without it), refreshed before it
   * ends; after a 401, fetched once more and the call resent once. Values
   * are secrets: never shown.
   */
  credentials?: () => CredentialsResult | Promise<CredentialsResult>
  /**
   * Signs every request: a `JwtSigner` (the upstream's JWT), or a function
   * given the path and the exact body bytes about to be sent, returning
   * the headers (or a Promise of them). Called for every attempt, the one
   * resend after a refused token included; never cached. A signer that
   * throws, hangs past the deadline or returns bad headers sends nothing.
   */
  signer?: JwtSigner | ((path: string, body: Buffer) => Record<string, string> | Promise<Record<string, string>>)
  /**
   * The metrics hook: called once after every call with its figures (never
   * a secret; the number masked), just before the call's promise settles.
   * An exception in it becomes a process warning; the call is unaffected.
   */
  onCall?: (event: CallEvent) => void
  /**
   * A console-like logger (`console`, pino, winston: `debug`, `info`,
   * `warn` and `error` functions) given the client's diagnostics at DEBUG
   * and above, one line each: one per call at DEBUG, retries, credential
   * refreshes, journal warnings. Numbers are masked, header values never
   * logged. `AOPAY_LOG=debug` prints the same to stderr with no logger.
   */
  logger?: Logger
}

/** What `logger` needs: console's four levels. */
export interface Logger {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

/** One call's figures, given to `onCall`. */
export interface CallEvent {
  /** The API's name: `MobileRecharge`, `RechargeStatus`, … */
  readonly endpoint: string
  /** HTTP requests sent: a read's retries count; 0 when none left. */
  readonly attempts: number
  readonly httpStatus: number | null
  /** `SUCCESS`, `PENDING`, `FAILED`, `UNKNOWN`, `answered` (another read) or `error`. */
  readonly outcome: string
  /** The error's code (`AOPAY_OUTCOME_UNKNOWN`, …) when it failed. */
  readonly error: string | null
  /** When it failed: whether sending it again cannot pay twice. */
  readonly retrySafe: boolean | null
  /** From the start of the call to its end, retries included. */
  readonly durationUs: number
  /** Masked (`98XXXXXX10`). */
  readonly customerNumber: string | null
  readonly referenceId: string | null
}

export interface MobileRechargeInput {
  /** Operator/product code, e.g. 518 (Airtel). A safe integer. */
  productId: number
  /** Whole rupees, 1..=1,000,000. A safe integer. */
  amount: number
  /** Mobile or DTH customer number, e.g. '9876543210' or '+91 98765-43210'. */
  customerNumber: string | number
  /** Where the request originated: 'lat,long' or [lat, long]. */
  geocode: string | readonly [number, number]
  /** Your own id for this recharge (an order id): with a journal, it never pays twice. */
  idempotencyKey?: string
}

/** A journal entry that is not final yet. */
export interface JournalEntry {
  readonly key: string
  /** The write it is for: `mobileRecharge`'s `mobile_recharge`, or `pay_bill`, … */
  readonly endpoint: string
  readonly state: 'claimed' | 'sending' | 'pending' | 'final' | 'unknown'
  readonly status: Outcome | null
  readonly referenceId: string | null
  readonly reason: string | null
  readonly createdAtMs: number
  readonly updatedAtMs: number
  /** The last recorded answer of a MobileRecharge. */
  readonly recharge: Recharge | null
  /** The last recorded answer of a referenced write. */
  readonly payment: Payment | null
}

/** What the AOPay statement shows, for `journalSettle`. */
export interface JournalSettleOptions {
  /** `SUCCESS`, `FAILED`, or for a referenced write `REFUNDED`. */
  status: 'SUCCESS' | 'FAILED' | 'REFUNDED' | 'success' | 'failed' | 'refunded'
  /** Why: what was checked (kept in the audit trail). */
  note: string
  /** The reference the statement shows, if the entry lacks one. */
  referenceId?: string | null
}

/** One change made by hand to a journal entry (`journalAudit`). */
export interface AuditRecord {
  readonly key: string
  readonly action: 'settle' | 'release'
  /** The entry's state before. */
  readonly fromState: string
  readonly status: 'SUCCESS' | 'FAILED' | 'REFUNDED' | null
  readonly referenceId: string | null
  readonly note: string
  /** `AOPAY_ACTOR`, else `user@host`. */
  readonly actor: string
  readonly atMs: number
}

/** One line of `reconcileJournal()`: the fresh answer, or why it is still unresolved. */
export interface Reconciliation extends JournalEntry {
  readonly error: { code: string; message: string; retrySafe: boolean } | null
}

export interface WaitOptions {
  /** One deadline for the whole wait (default 120000). */
  timeoutMs?: number
  /** First pause between status checks (default 1000). */
  initialIntervalMs?: number
  /** Longest pause between status checks (default 10000). */
  maxIntervalMs?: number
  /** Stops waiting (rejects with `signal.reason`); it cannot undo a recharge already sent. */
  signal?: AbortSignal
}

export * from './endpoints.cjs'

// The generated methods (`dthInfo`, …) are declared in endpoints.d.cts.
export interface Client extends ClientEndpoints {}
export declare class Client {
  constructor(options: ClientOptions)
  /** Submit a recharge; sent at most once. */
  mobileRecharge(input: MobileRechargeInput): Promise<Recharge>
  /** Look a transaction up (a read: retried with backoff). */
  rechargeStatus(referenceId: string): Promise<Recharge>
  /**
   * Poll until final (SUCCESS, FAILED or REFUNDED): an outcome through its
   * own status call (`statusCall`), a bare reference through RechargeStatus;
   * running out of time is an OutcomeUnknownError.
   */
  waitForFinal(outcome: Payment | string, options?: WaitOptions): Promise<Payment>
  /** Unresolved journal entries (claimed, sending, pending, unknown), oldest first. */
  journalPending(): Promise<JournalEntry[]>
  /** Check every unresolved entry that has a reference; record and return the answers. */
  reconcileJournal(): Promise<Reconciliation[]>
  /**
   * Settle by hand an entry neither final nor in flight with what the AOPay
   * statement shows; kept with who, when and why. The entry, now final.
   */
  journalSettle(key: string, options: JournalSettleOptions): Promise<JournalEntry & { readonly released: false }>
  /** Release by hand an entry neither final nor in flight (never paid, says the statement): the next call with its key sends. */
  journalRelease(key: string, options: { note: string }): Promise<JournalEntry & { readonly released: true }>
  /** What was settled or released by hand for `key`: who, when, why. */
  journalAudit(key: string): Promise<AuditRecord[]>
  /** No new call is taken; the calls in flight end (outcomes recorded); the journal is left whole in its file. Twice is once. */
  close(): Promise<void>
  /** `await using client = new Client(...)` closes it at the block's end. */
  [Symbol.asyncDispose](): Promise<void>
  /**
   * Pay every order once through the journal (each `orderId` is its
   * idempotency key): a CSV or JSON Lines path, or an (async) iterable of
   * orders. Results come as each order finishes.
   */
  runBatch(orders: string | Iterable<BatchOrder> | AsyncIterable<BatchOrder>, options?: BatchOptions): BatchRun
}

/** One order of a batch: its id, its kind (`mobileRecharge` by default) and that write's fields. */
export interface BatchOrder {
  orderId: string | number
  /** `mobile_recharge` (the default), `do_recharge`, `pay_bill`, `fastag_recharge`. */
  kind?: string
  [field: string]: unknown
}

export interface BatchOptions {
  /** Orders in flight at once (1-1024, default 16). */
  concurrency?: number
  /** Requests per second (sends and status checks) for the account, shared by every batch on the journal: `"200/s"`, `"600/min"` or a number. */
  rate?: string | number
  /** Follow pending orders for at most this long (default 120000; 0: report them pending). */
  waitTimeoutMs?: number
  /** Most sends of an order that provably charged nothing (default 5). */
  attempts?: number
  /** Geocode ("lat,long") for the orders that need one and have none. */
  geocode?: string
  /**
   * Send again, under the reference it first recorded, an order whose status call finds no
   * payment (default false: it stays unknown). Safe only where AOPay refuses a reused
   * reference, as the sandbox does (docs/protocol.md §9).
   */
  resendUnarrived?: boolean
  /**
   * Create the journal if it does not exist (a first run; default false). Without it a
   * SQLite journal that does not exist is refused (a ValidationError naming `journal`) before
   * anything is read or sent: a mistyped or deleted journal would pay every order again.
   */
  createJournal?: boolean
}

/** What became of one order. */
export interface BatchResult {
  line: number
  orderId: string | null
  kind: string | null
  /** The answer's status, `DUPLICATE`, `NOT_SENT`, or the error's class (`ValidationError`…). */
  status: string
  isFinal: boolean
  /** As ordered, exact ("10.00"). */
  amount: string | null
  referenceId: string | null
  txnId: string | null
  operatorId: string | null
  duplicateOf: number | null
  /** Why it was not sent, when the API stopped the batch (an empty wallet, refused credentials): a rerun sends it. */
  notSent: 'insufficient_balance' | 'authentication' | 'journal' | null
  error: { code: string; name: string; message: string; field: string | null; retrySafe: boolean } | null
}

export interface BatchRun extends AsyncIterableIterator<BatchResult> {
  /** Take no new order; the ones in flight finish. */
  stop(): void
}

export interface SandboxStats {
  /** Well-formed requests received, by endpoint (its method name: `mobileRecharge`, `payBill`); every endpoint is listed. */
  requests: Record<EndpointName, number>
  /** Calls refused with 401 for want of a valid token; they count nowhere else. */
  unauthorizedRequests: number
  /** Requests refused as malformed (400, 404, 405, 413, 415). */
  rejectedRequests: number
  /** Calls refused with 429 by `rateLimit`; they count nowhere else. */
  rateLimitedRequests: number
  /** Transactions recorded and still kept. */
  transactions: number
  /** Referenced payments recorded and still kept. */
  payments: number
}

/** What a `credentials` provider gives. */
export type CredentialsResult = Record<string, string> | { headers: Record<string, string>; ttlMs?: number }

export interface SandboxOptions {
  /** How long the slow magic number waits (default 3000). */
  slowDelayMs?: number
  /** Status checks a pending transaction takes to become final (default 2). */
  pendingChecks?: number
  /** Serve HTTPS with a certificate from a throwaway CA (see `caPem`). */
  tls?: boolean
  /** Require `Authorization: Bearer <token>` from `issueToken` on every call (else 401). */
  requireTokens?: boolean
  /** The wallet covers this many referenced payments; later ones get HTTP 402 code 16 (insufficient fund) until `topUp` (default: no limit). */
  walletPayments?: number
  /** Require a JWT on every call, HS256 with this secret, checked as the upstream does. */
  requireJwtSecret?: string | Buffer
  /** Require a JWT on every call, RS256 with this public key (PEM). */
  requireJwtPublicKey?: string | Buffer
  /** The header that carries the JWT (default `Token`). */
  jwtHeader?: string
}

/** What a `JwtSigner` is made from. */
export interface JwtSignerSettings {
  /** The `partnerId` claim. */
  partnerId: string
  /** HS256's shared secret (exactly one of `secret` and `privateKey`). */
  secret?: string | Buffer | Uint8Array
  /** RS256's private key (PEM). */
  privateKey?: string | Buffer | Uint8Array
  /** The header that carries the token (default `Token`; `Authorization` gets `Bearer `). */
  header?: string
  /** Extra claims (not `timestamp`, `partnerId` or `reqid`, which it sets). */
  claims?: Record<string, unknown>
  /** Static headers sent beside every token (e.g. `Authorisedkey`): secrets. */
  headers?: Record<string, string>
}

/**
 * The upstream's JWT, made afresh for every request: claims `timestamp`
 * (Unix seconds), `partnerId` and `reqid` (unique per request), HS256 or
 * RS256. Its settings are checked when it is made; its key never shows.
 */
export declare class JwtSigner {
  constructor(settings: JwtSignerSettings)
  /** One request's headers, made now (a fresh token): secrets. */
  headers(): Record<string, string>
}

export declare class Sandbox {
  private constructor()
  /** Start the AOPay-compatible sandbox in-process on a free loopback port. */
  static start(options?: SandboxOptions): Promise<Sandbox>
  /** `http://127.0.0.1:PORT` (`https://` with `tls`): pass it as `baseUrl`. */
  readonly url: string
  /** With `tls`, the PEM of the CA to pass as `rootCertificates`; else `null`. */
  readonly caPem: string | null
  stats(): SandboxStats
  /** How many recharge requests named this customer number. */
  rechargesFor(customerNumber: string | number): number
  /** How many payments (DoRecharge, bill payments, FASTag top-ups) are recorded for this account; a refused reused reference is not one. */
  recordedPaymentsFor(account: string): number
  /** A bearer token valid for `lifetimeMs` (default 600000), for a `requireTokens` sandbox. */
  issueToken(lifetimeMs?: number): string
  /** Invalidate every token issued so far: the next call with one gets 401. */
  revokeTokens(): void
  /** Top the wallet up: it covers `payments` more referenced payments (none given: no limit). */
  topUp(payments?: number): void
  reset(): void
  stop(): Promise<void>
}

export type ErrorCode =
  | 'AOPAY_VALIDATION'
  | 'AOPAY_CONNECT'
  | 'AOPAY_AUTHENTICATION'
  | 'AOPAY_RATE_LIMIT'
  | 'AOPAY_API'
  | 'AOPAY_OUTCOME_UNKNOWN'
  | 'AOPAY_SERVER'
  | 'AOPAY_PROTOCOL'
  | 'AOPAY_IDEMPOTENCY_CONFLICT'
  | 'AOPAY_JOURNAL'

export interface ErrorDetails {
  code?: ErrorCode
  retrySafe?: boolean
  httpStatus?: number | null
  apiCode?: number | null
  field?: string | null
  retryAfterMs?: number | null
  referenceId?: string | null
  bodyExcerpt?: string | null
  detail?: string
}

/** Base of every aopay error. `retrySafe` says whether resubmitting is safe. */
export declare class AopayError extends Error {
  constructor(message: string, details?: ErrorDetails)
  readonly code: ErrorCode | 'AOPAY_ERROR'
  readonly retrySafe: boolean
  readonly httpStatus: number | null
  readonly apiCode: number | null
  readonly field: string | null
  readonly retryAfterMs: number | null
  readonly referenceId: string | null
  readonly bodyExcerpt: string | null
  /** The message without the kind prefix. */
  readonly detail: string
}
/** Input broke a rule (`field` names it); nothing was sent. */
export declare class ValidationError extends AopayError {}
/** No connection could be made; nothing was sent. */
export declare class ConnectError extends AopayError {}
/** HTTP 401/403 (see `apiCode`). */
export declare class AuthenticationError extends AopayError {}
/** HTTP 429; see `retryAfterMs`. */
export declare class RateLimitError extends AopayError {}
/** Another 4xx, or a refusal that names no transaction. */
export declare class ApiError extends AopayError {}
/** The recharge may have been processed: never resubmit, reconcile first. */
export declare class OutcomeUnknownError extends AopayError {}
/** A status call got 5xx (or no answer) after its retries. */
export declare class ServerError extends AopayError {}
/** A status call got an unreadable answer after its retries. */
export declare class ProtocolError extends AopayError {}
/** An idempotency key reused with a different request; nothing was sent. */
export declare class IdempotencyConflictError extends AopayError {}
/** The journal could not be opened, read or written; nothing was sent. */
export declare class JournalError extends AopayError {}
/** A payment under this reference exists: never resend under a new one (retrySafe false); read its fate through the status call. */
export declare class DuplicateReferenceError extends AopayError {}
/** The wallet is empty: nothing was done. Top it up, then send again. */
export declare class InsufficientBalanceError extends ApiError {}
/** A status call found no transaction under the reference (yet): never a failure; ask again later. */
export declare class TransactionNotFoundError extends AopayError {}

/** The sandbox's magic customer numbers and what each does. */
export declare const MAGIC_NUMBERS: Readonly<Record<string, string>>
/** The SDK version. */
export declare const VERSION: string

// Types of aopay/testing.
import type { Client, ClientOptions, Sandbox, SandboxOptions } from './index.js'

/** The registration id the helpers' clients use (`AOP-554`). */
export declare const REGISTRATION_ID: string

type Hook = (fn: () => unknown) => unknown

export interface SandboxHooks extends SandboxOptions {
  /** node:test `before`, Jest and Vitest `beforeAll`. */
  before: Hook
  /** node:test `after`, Jest and Vitest `afterAll`. */
  after: Hook
  /** Optional: reset the sandbox before each test. */
  beforeEach?: Hook
}

export interface SandboxFixture {
  /** The running sandbox (inside a test). */
  readonly sandbox: Sandbox
  /** A client of the sandbox. */
  client(options?: Partial<ClientOptions>): Client
}

/** A sandbox per suite, started and stopped by your runner's hooks. */
export declare function aopaySandbox(hooks: SandboxHooks): SandboxFixture
/** Run `fn` on a fresh sandbox and a client of it; the sandbox is stopped after. */
export declare function withSandbox<T>(fn: (sandbox: Sandbox, client: Client) => Promise<T> | T, options?: SandboxOptions): Promise<T>
/** Exactly one MobileRecharge named this number (throws an AssertionError otherwise). */
export declare function assertRechargedOnce(sandbox: Sandbox, customerNumber: string | number): void
/** No MobileRecharge named this number. */
export declare function assertNotRecharged(sandbox: Sandbox, customerNumber: string | number): void
/** Exactly one payment (DoRecharge, bill, FASTag) recorded for this account. */
export declare function assertPaidOnce(sandbox: Sandbox, account: string): void
/** The sandbox received no request at all. */
export declare function assertNothingSent(sandbox: Sandbox): void

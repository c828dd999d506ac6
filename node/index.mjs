// ESM entry: the very same objects as the CommonJS entry (one copy of each
// class), so `instanceof` holds across both.
import aopay from './index.cjs'

export const {
  Client,
  Sandbox,
  JwtSigner,
  MAGIC_NUMBERS,
  VERSION,
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
  // BEGIN GENERATED NAMES
  DthInfo,
  Plans,
  Bill,
  // END GENERATED NAMES
} = aopay
export default aopay

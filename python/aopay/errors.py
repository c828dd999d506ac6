"""The aopay exception hierarchy (raised from the Rust core).

Every error carries ``retry_safe``: whether submitting the same recharge again
is safe. ``False`` means the recharge may already have been processed:
reconcile (``wait_for_final`` with its reference, or your AOPay statement)
before anything else.
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = [
    "AopayError",
    "ValidationError",
    "ConnectError",
    "AuthenticationError",
    "RateLimitError",
    "ApiError",
    "OutcomeUnknownError",
    "ServerError",
    "ProtocolError",
    "IdempotencyConflictError",
    "JournalError",
    "DuplicateReferenceError",
    "InsufficientBalanceError",
    "TransactionNotFoundError",
]


class AopayError(Exception):
    """Base class of every aopay error."""

    code: str = "AOPAY_ERROR"

    def __init__(
        self,
        text: str,
        *,
        message: Optional[str] = None,
        retry_safe: bool = False,
        http_status: Optional[int] = None,
        api_code: Optional[int] = None,
        field: Optional[str] = None,
        body_excerpt: Optional[str] = None,
        retry_after: Optional[float] = None,
        reference_id: Optional[str] = None,
    ) -> None:
        super().__init__(text)
        self.message: str = message if message is not None else text
        self.retry_safe: bool = retry_safe
        self.http_status: Optional[int] = http_status
        self.api_code: Optional[int] = api_code
        self.field: Optional[str] = field
        self.body_excerpt: Optional[str] = body_excerpt
        self.retry_after: Optional[float] = retry_after
        self.reference_id: Optional[str] = reference_id

    def _attrs(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "retry_safe": self.retry_safe,
            "http_status": self.http_status,
            "api_code": self.api_code,
            "field": self.field,
            "body_excerpt": self.body_excerpt,
            "retry_after": self.retry_after,
            "reference_id": self.reference_id,
        }

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), str(self), self._attrs()))

    def __repr__(self) -> str:
        extra = "".join(
            f", {k}={v!r}"
            for k, v in self._attrs().items()
            if v is not None and k not in ("message", "body_excerpt")
        )
        return f"{type(self).__name__}({str(self)!r}{extra})"


def _rebuild(cls: type[AopayError], text: str, attrs: dict[str, Any]) -> AopayError:
    return cls(text, **attrs)


class ValidationError(AopayError, ValueError):
    """Input broke a rule; ``field`` names it. Nothing was sent."""

    code = "AOPAY_VALIDATION"


class ConnectError(AopayError):
    """No connection could be made; nothing was sent."""

    code = "AOPAY_CONNECT"


class AuthenticationError(AopayError):
    """HTTP 401/403: the API refused the credentials (see ``api_code``)."""

    code = "AOPAY_AUTHENTICATION"


class RateLimitError(AopayError):
    """HTTP 429: slow down; ``retry_after`` is in seconds."""

    code = "AOPAY_RATE_LIMIT"


class ApiError(AopayError):
    """Another 4xx, or a refusal that names no transaction."""

    code = "AOPAY_API"


class OutcomeUnknownError(AopayError):
    """The recharge may have been processed. Never resubmit: reconcile first."""

    code = "AOPAY_OUTCOME_UNKNOWN"


class ServerError(AopayError):
    """A status call got HTTP 5xx (or no answer) after its retries."""

    code = "AOPAY_SERVER"


class ProtocolError(AopayError):
    """A status call got an unreadable answer after its retries."""

    code = "AOPAY_PROTOCOL"


class IdempotencyConflictError(AopayError):
    """An idempotency key was reused with a different request; nothing was sent."""

    code = "AOPAY_IDEMPOTENCY_CONFLICT"


class JournalError(AopayError):
    """The idempotency journal could not be opened, read or written; nothing was sent."""

    code = "AOPAY_JOURNAL"


class DuplicateReferenceError(AopayError):
    """A payment under this reference exists: never resend under a new one.

    Read the first payment's fate through its status call (the journal
    does so for a keyed write). ``retry_safe`` is ``False``.
    """

    code = "AOPAY_DUPLICATE_REFERENCE"


class InsufficientBalanceError(ApiError):
    """The wallet is empty: nothing was done. Top it up, then send again."""

    code = "AOPAY_INSUFFICIENT_BALANCE"


class TransactionNotFoundError(AopayError):
    """A status call found no transaction under the reference (yet).

    Never a failure: a payment may arrive late. Ask again later.
    """

    code = "AOPAY_TRANSACTION_NOT_FOUND"

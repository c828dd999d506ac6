"""aopay: prepaid mobile and DTH recharges through the AOPay API.

>>> import aopay
>>> with aopay.Sandbox() as sb:
...     client = aopay.Client(registration_id="AOP-554", base_url=sb.url)
...     r = client.mobile_recharge(product_id=518, amount=10,
...                                customer_number="9876543210", geocode="23.6784,76.8764")
...     r.status
'SUCCESS'
"""

from ._aopay import (
    MAGIC_NUMBERS,
    AsyncBatchRun,
    BatchRun,
    CallEvent,
    JwtSigner,
    PostgresJournal,
    Sandbox,
    SqliteJournal,
    __version__,
)
# BEGIN GENERATED IMPORTS (aopay-codegen: the clients and every answer type)
from ._endpoints import AsyncClient, Client, DthInfo, Plan, PlanCategory, Plans, Bill, Payment
# END GENERATED IMPORTS
from ._logging import configure_from_environment as _configure_logging

# A V2 recharge's answer is the one outcome of every write (its own class
# before 0.2).
Recharge = Payment

from ._logging import refresh as refresh_logging
from .errors import (
    AopayError,
    ApiError,
    AuthenticationError,
    ConnectError,
    DuplicateReferenceError,
    IdempotencyConflictError,
    InsufficientBalanceError,
    JournalError,
    OutcomeUnknownError,
    ProtocolError,
    RateLimitError,
    ServerError,
    TransactionNotFoundError,
    ValidationError,
)

_configure_logging()

__all__ = [
    "refresh_logging",
    "MAGIC_NUMBERS",
    "AsyncBatchRun",
    "BatchRun",
    "CallEvent",
    "PostgresJournal",
    "Recharge",
    "Sandbox",
    "JwtSigner",
    "SqliteJournal",
    "__version__",
    "AopayError",
    "ApiError",
    "AuthenticationError",
    "ConnectError",
    "IdempotencyConflictError",
    "JournalError",
    "DuplicateReferenceError",
    "InsufficientBalanceError",
    "TransactionNotFoundError",
    "OutcomeUnknownError",
    "ProtocolError",
    "RateLimitError",
    "ServerError",
    "ValidationError",
    # BEGIN GENERATED NAMES
    "AsyncClient",
    "Client",
    "DthInfo",
    "Plan",
    "PlanCategory",
    "Plans",
    "Bill",
    "Payment",
    # END GENERATED NAMES
]

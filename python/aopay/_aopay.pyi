"""Type stubs of the compiled module (checked by mypy.stubtest in scripts/test)."""

from os import PathLike
from types import TracebackType
from typing import (
    Any,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypedDict,
    Union,
    final,
)

from typing_extensions import Self, disjoint_base

from ._endpoints import Payment

__all__ = [
    "BATCH_OPTIONS",
    "CLIENT_OPTIONS",
    "ENDPOINTS",
    "ERROR_KINDS",
    "ERROR_PARENTS",
    "JwtSigner",
    "AsyncBatchRun",
    "AsyncCall",
    "AsyncClient",
    "BatchRun",
    "CallEvent",
    "Client",
    "MAGIC_NUMBERS",
    "PostgresJournal",
    "RawJson",
    "Sandbox",
    "SqliteJournal",
    "__version__",
    "reread",
    "_mask_digits",
    "_refresh_logging",
]
__version__: str
MAGIC_NUMBERS: dict[int, str]
# Every client option (name: meaning): the keyword arguments of both clients.
CLIENT_OPTIONS: dict[str, str]
# Every batch option (name: its default as text, "" for none): the keyword
# arguments of both clients' run_batch.
BATCH_OPTIONS: dict[str, str]
# Read the "aopay" logger's level again (aopay.refresh_logging).
def _refresh_logging() -> None: ...

# Read an answer's stored raw again (behind the generated from_raw).
def _mask_digits(digits: str) -> str: ...
def reread(method: str, raw: dict[str, Any]) -> dict[str, Any]: ...

# Every endpoint of the core's table (method: description).
ENDPOINTS: dict[str, dict[str, Any]]
# Every error kind of the core (class name: code); aopay.errors matches it.
ERROR_KINDS: dict[str, str]
ERROR_PARENTS: dict[str, str]

_CustomerNumber = Union[str, int]
_Geocode = Union[str, Tuple[float, float], Sequence[float]]
_Journal = Union[str, PathLike[str], SqliteJournal, PostgresJournal]
# A batch's orders: a CSV or JSON Lines file, or dicts (order_id, kind, fields).
_Orders = Union[str, PathLike[str], Iterable[Mapping[str, Any]]]
# What a credentials provider returns: headers, or (headers, lifetime_seconds).
_Credentials = Union[Mapping[str, str], Tuple[Mapping[str, str], float]]
_CredentialsProvider = Union[Callable[[], _Credentials], Callable[[], Awaitable[_Credentials]]]
# A request signer: the built-in JwtSigner, or a function of (path, body bytes)
# returning headers (or a coroutine function).
_SignerFunction = Union[
    Callable[[str, bytes], Mapping[str, str]], Callable[[str, bytes], Awaitable[Mapping[str, str]]]
]
_Signer = Union["JwtSigner", _SignerFunction]

class _SandboxStats(TypedDict):
    # What a sandbox has received: `requests` by endpoint (its method name).
    requests: dict[str, int]
    unauthorized_requests: int
    rejected_requests: int
    rate_limited_requests: int
    transactions: int
    payments: int

@final
class RawJson:
    """An answer's ``raw`` as the core read it, until first read."""

    def value(self) -> dict[str, Any]: ...

@final
class JwtSigner:
    """The upstream's JWT, made afresh for every request: HS256 with
    ``secret`` or RS256 with ``private_key`` (PEM), claims ``timestamp``,
    ``partnerId`` and ``reqid`` (unique per request) plus ``claims``, in the
    ``header`` header, beside the static ``headers`` (e.g. ``Authorisedkey``).
    Pass it as a client's ``signer``. Its key never shows."""

    def __new__(
        cls,
        *,
        partner_id: str,
        secret: Optional[Union[str, bytes]] = None,
        private_key: Optional[Union[str, bytes]] = None,
        header: str = "Token",
        claims: Optional[Mapping[str, Any]] = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> JwtSigner: ...
    def headers(self) -> dict[str, str]:
        """The headers of one request, made now (a fresh token): secrets."""

@final
class SqliteJournal:
    """A SQLite idempotency journal file (created and migrated on first use)."""

    def __new__(cls, path: Union[str, PathLike[str]]) -> SqliteJournal: ...
    @property
    def path(self) -> str: ...

@final
class PostgresJournal:
    """A PostgreSQL idempotency journal, shared by several application instances.

    TLS (verified) is required for any host that is not loopback unless the DSN
    says ``sslmode=disable``; ``sslrootcert=FILE`` adds a CA, as in libpq.
    """

    def __new__(cls, dsn: str) -> PostgresJournal: ...

@final
class CallEvent:
    """One call's figures, given to ``on_call`` once the call has ended.

    Never a secret: no header, credential or body; the number is masked."""

    @property
    def endpoint(self) -> str:
        """The API's name: ``MobileRecharge``, ``RechargeStatus``, ..."""
    @property
    def attempts(self) -> int:
        """HTTP requests sent: a read's retries count; 0 if none left."""
    @property
    def http_status(self) -> Optional[int]: ...
    @property
    def outcome(self) -> str:
        """``SUCCESS``, ``PENDING``, ``FAILED``, ``UNKNOWN``, ``answered`` (another read) or ``error``."""
    @property
    def error(self) -> Optional[str]:
        """The error's code (``AOPAY_OUTCOME_UNKNOWN``, ...) when it failed."""
    @property
    def retry_safe(self) -> Optional[bool]:
        """When it failed: whether sending it again cannot pay twice."""
    @property
    def duration_us(self) -> int: ...
    @property
    def customer_number(self) -> Optional[str]: ...
    @property
    def reference_id(self) -> Optional[str]: ...

@disjoint_base
class Client:
    """A blocking client; thread-safe, releases the GIL during every call.

    ``None`` means the default: ``timeout`` 30 s, ``connect_timeout`` 10 s,
    ``read_attempt_timeout`` 10 s and ``read_max_attempts`` 4 (per status
    read), ``max_response_bytes`` 1 MiB, ``pool_idle_timeout`` 4 s;
    ``wait_for_final``: ``timeout`` 120 s, ``initial_interval`` 1 s,
    ``max_interval`` 10 s. A wrong-typed argument is a ``ValidationError``
    naming it."""

    def __new__(
        cls,
        registration_id: str,
        base_url: Optional[str] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        headers: Optional[Mapping[str, str]] = None,
        *,
        allow_insecure_http: Optional[bool] = None,
        max_response_bytes: Optional[int] = None,
        read_attempt_timeout: Optional[float] = None,
        read_max_attempts: Optional[int] = None,
        pool_idle_timeout: Optional[float] = None,
        journal: Optional[_Journal] = None,
        root_certificates: Optional[Union[str, bytes]] = None,
        credentials: Optional[_CredentialsProvider] = None,
        signer: Optional[_Signer] = None,
        on_call: Optional[Callable[[CallEvent], object]] = None,
    ) -> Client: ...
    # The V2 recharge and its status read behind the generated methods:
    # the outcome, an aopay.Payment.
    def _mobile_recharge(
        self,
        *,
        product_id: int,
        amount: int,
        customer_number: _CustomerNumber,
        geocode: _Geocode,
        idempotency_key: Optional[str] = None,
    ) -> Payment: ...
    def _recharge_status(self, reference_id: str) -> Payment: ...
    # The one generic call behind the generated methods (aopay._endpoints).
    def _call(self, method: str, args: dict[str, Any]) -> dict[str, Any]: ...
    def _wait_payment(
        self,
        status_call: Optional[str],
        reference_id: Optional[str],
        timeout: Optional[float] = None,
        initial_interval: Optional[float] = None,
        max_interval: Optional[float] = None,
    ) -> Payment: ...
    def journal_pending(self) -> list[dict[str, Any]]: ...
    def reconcile_journal(self) -> list[dict[str, Any]]: ...
    def journal_settle(
        self, key: str, *, status: str, note: str, reference_id: Optional[str] = None
    ) -> dict[str, Any]:
        """Settle by hand an entry neither final nor in flight with what the
        AOPay statement shows (SUCCESS, FAILED, or for a referenced write
        REFUNDED); kept with who, when and why. The entry, now final."""
    def journal_release(self, key: str, *, note: str) -> dict[str, Any]:
        """Release by hand an entry neither final nor in flight (the statement
        shows it was never paid): the next call with its key sends. The entry
        as it was, with `released` true."""
    def journal_audit(self, key: str) -> list[dict[str, Any]]:
        """What was settled or released by hand for `key`: who, when, why."""
    def close(self) -> None:
        """No new call is taken; the calls in flight end (their outcomes
        recorded); the journal is left whole in its file. Twice is once."""
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None: ...
    def run_batch(
        self,
        orders: _Orders,
        *,
        concurrency: int = 16,
        rate: Optional[Union[str, float]] = None,
        wait_timeout: Optional[float] = 120.0,
        attempts: int = 5,
        geocode: Optional[str] = None,
        resend_unarrived: bool = False,
        create_journal: bool = False,
    ) -> BatchRun: ...

@final
class BatchRun:
    """The results of ``Client.run_batch``, one dict per order as each
    finishes (``line``, ``order_id``, ``kind``, ``status``, ``is_final``,
    ``amount``, ``reference_id``, ``txn_id``, ``operator_id``,
    ``duplicate_of``, ``not_sent``, ``error``). When the API stops the batch
    (an empty wallet: ``InsufficientBalanceError``; refused credentials),
    no new order is sent and every order left comes with status
    ``NOT_SENT`` and ``not_sent`` saying why; a rerun sends them."""

    def __iter__(self) -> BatchRun: ...
    def __next__(self) -> dict[str, Any]: ...
    def stop(self) -> None: ...

@final
class AsyncBatchRun:
    """The results of ``AsyncClient.run_batch``: an async iterator of the
    same dicts as ``BatchRun``."""

    def __aiter__(self) -> AsyncBatchRun: ...
    def __anext__(self) -> Awaitable[dict[str, Any]]: ...
    def stop(self) -> None: ...

@final
class AsyncCall:
    """What an ``AsyncClient`` method returns at run time: a coroutine that
    binds to the event loop running when it is first awaited, and sends
    nothing until then. The methods below are typed as ``async def``."""

    def __await__(self) -> Generator[Any, None, Any]: ...
    def __next__(self) -> Any: ...
    def send(self, value: Any) -> Any: ...
    def throw(self, *args: Any) -> Any: ...
    def close(self) -> None: ...

@disjoint_base
class AsyncClient:
    """An asyncio client; many calls may be in flight at once. Arguments and
    defaults as for ``Client``."""

    def __new__(
        cls,
        registration_id: str,
        base_url: Optional[str] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        headers: Optional[Mapping[str, str]] = None,
        *,
        allow_insecure_http: Optional[bool] = None,
        max_response_bytes: Optional[int] = None,
        read_attempt_timeout: Optional[float] = None,
        read_max_attempts: Optional[int] = None,
        pool_idle_timeout: Optional[float] = None,
        journal: Optional[_Journal] = None,
        root_certificates: Optional[Union[str, bytes]] = None,
        credentials: Optional[_CredentialsProvider] = None,
        signer: Optional[_Signer] = None,
        on_call: Optional[Callable[[CallEvent], object]] = None,
    ) -> AsyncClient: ...
    # The V2 recharge and its status read behind the generated methods:
    # the outcome, an aopay.Payment.
    async def _mobile_recharge(
        self,
        *,
        product_id: int,
        amount: int,
        customer_number: _CustomerNumber,
        geocode: _Geocode,
        idempotency_key: Optional[str] = None,
    ) -> Payment: ...
    async def _recharge_status(self, reference_id: str) -> Payment: ...
    async def _call(self, method: str, args: dict[str, Any]) -> dict[str, Any]: ...
    async def _wait_payment(
        self,
        status_call: Optional[str],
        reference_id: Optional[str],
        timeout: Optional[float] = None,
        initial_interval: Optional[float] = None,
        max_interval: Optional[float] = None,
    ) -> Payment: ...
    async def journal_pending(self) -> list[dict[str, Any]]: ...
    async def reconcile_journal(self) -> list[dict[str, Any]]: ...
    async def journal_settle(
        self, key: str, *, status: str, note: str, reference_id: Optional[str] = None
    ) -> dict[str, Any]:
        """Settle by hand an entry neither final nor in flight (see `Client.journal_settle`)."""
    async def journal_release(self, key: str, *, note: str) -> dict[str, Any]:
        """Release by hand an entry neither final nor in flight (see `Client.journal_release`)."""
    async def journal_audit(self, key: str) -> list[dict[str, Any]]:
        """What was settled or released by hand for `key`."""
    async def aclose(self) -> None:
        """No new call is taken; the calls in flight end (their outcomes
        recorded); the journal is left whole in its file. Twice is once."""
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None: ...
    def run_batch(
        self,
        orders: _Orders,
        *,
        concurrency: int = 16,
        rate: Optional[Union[str, float]] = None,
        wait_timeout: Optional[float] = 120.0,
        attempts: int = 5,
        geocode: Optional[str] = None,
        resend_unarrived: bool = False,
        create_journal: bool = False,
    ) -> AsyncBatchRun: ...

@final
class Sandbox:
    """The AOPay-compatible sandbox, in this process on a free loopback port."""

    def __new__(
        cls,
        *,
        slow_delay: float = 3.0,
        pending_checks: int = 2,
        tls: bool = False,
        require_tokens: bool = False,
        wallet_payments: Optional[int] = None,
        require_jwt_secret: Optional[Union[str, bytes]] = None,
        require_jwt_public_key: Optional[Union[str, bytes]] = None,
        jwt_header: str = "Token",
    ) -> Sandbox: ...
    def top_up(self, payments: Optional[int] = None) -> None: ...
    def issue_token(self, lifetime: float = 600.0) -> str: ...
    def revoke_tokens(self) -> None: ...
    @property
    def url(self) -> str: ...
    @property
    def ca_pem(self) -> Optional[str]: ...
    def stats(self) -> _SandboxStats: ...
    def recharges_for(self, customer_number: _CustomerNumber) -> int: ...
    def recorded_payments_for(self, account: str) -> int: ...
    def reset(self) -> None: ...
    def stop(self) -> None: ...
    def __enter__(self) -> Sandbox: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None: ...
    async def __aenter__(self) -> Sandbox: ...
    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None: ...

//! Running a batch: in-doubt journal entries are settled first, then the
//! orders are sent `concurrency` at a time under one pace, each through the
//! client's keyed path (so the journal decides whether it is sent at all),
//! and a pending answer is followed to its end without holding a sender.

use std::collections::HashMap;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::Pacer;
use super::options::BatchOptions;
use super::stop::{BatchStop, Halt, JOURNAL_PAUSE};
use super::{BatchResult, Order, RowError, arg_of};
use crate::client::{Client, WaitOptions};
use crate::endpoints::ArgValue;
use crate::error::{Error, ErrorDetails, ErrorKind, ValidationError};
use crate::journal::{EntryState, JournalEntry, now_ms};

/// A running batch: its results, as each order finishes. Dropping it
/// abandons the orders in flight; their journal entries are settled by
/// the next run.
#[derive(Debug)]
pub struct BatchRun {
    rx: mpsc::Receiver<BatchResult>,
    stop: BatchStop,
    task: tokio::task::JoinHandle<()>,
}

impl BatchRun {
    /// The next result; `None` once every order has one.
    pub async fn next(&mut self) -> Option<BatchResult> {
        self.rx.recv().await
    }

    /// The next result, blocking the thread (not from inside a runtime).
    pub fn blocking_next(&mut self) -> Option<BatchResult> {
        self.rx.blocking_recv()
    }

    /// Why the API stopped the batch (an empty wallet, refused
    /// credentials), if it did: the orders not sent are reported as
    /// `NOT_SENT`.
    pub fn halted(&self) -> Option<Halt> {
        self.stop.halted()
    }

    /// A handle that stops the batch (take no new order).
    pub fn stopper(&self) -> BatchStop {
        self.stop.clone()
    }
}

impl futures_core::Stream for BatchRun {
    type Item = BatchResult;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<BatchResult>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for BatchRun {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Shared {
    client: Client,
    options: BatchOptions,
    pacer: Arc<Pacer>,
    stop: BatchStop,
    /// Orders are waiting for the journal (said once, and once when back).
    journal_paused: AtomicBool,
}

impl Client {
    /// The name of the pace batches of this account share on a journal
    /// (hashed: the journal need not hold the registration id).
    fn pace_name(&self) -> String {
        crate::journal::fingerprint(&["pace", self.registration_id().as_str()])
    }

    /// Pay every order of `orders` at most once, through the journal
    /// (docs/protocol.md §9): each order's id is its idempotency key, so a
    /// rerun of the same orders (after a crash, a kill, a Ctrl-C) sends only
    /// what was never sent, returns what was recorded, and settles what was
    /// in doubt through each write's status call before anything else.
    ///
    /// Every option is checked now; the batch runs on the current Tokio
    /// runtime and its results come as each order finishes. [`BatchRun`] is
    /// a [`futures_core::Stream`] (use `StreamExt` from `futures` or
    /// `tokio-stream` for its combinators) and has [`BatchRun::next`]:
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use aopay_core::batch::{BatchOptions, OrderStream};
    /// use aopay_core::{Client, Journal};
    ///
    /// let sandbox = aopay_sandbox::Sandbox::start().await?;
    /// let dir = std::env::temp_dir().join(format!("aopay-doc-batch-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let orders = dir.join("orders.csv");
    /// std::fs::write(
    ///     &orders,
    ///     "order_id,product_id,amount,customer_number\n\
    ///      A-1,518,10,9876543210\n\
    ///      A-2,518,20,9876543211\n",
    /// )?;
    /// let client = Client::builder()
    ///     .registration_id("AOP-554")
    ///     .base_url(sandbox.url())
    ///     .journal(Journal::sqlite(dir.join("journal.db"))?)
    ///     .build()?;
    /// let options = BatchOptions::default()
    ///     .with_concurrency(8)?
    ///     .with_rate_text("200/s")?
    ///     .with_geocode("23.6784,76.8764")
    ///     .with_create_journal(true); // a first run: its journal is new
    /// let mut run = client.run_batch(OrderStream::open(&orders, None)?, options)?;
    /// let mut succeeded = 0;
    /// while let Some(result) = run.next().await {
    ///     match &result.outcome {
    ///         Ok(answer) if answer["status"] == "SUCCESS" => succeeded += 1,
    ///         Ok(answer) => println!("{:?}: {}", result.order_id, answer["status"]),
    ///         Err(e) => println!("{:?}: {e}", result.order_id),
    ///     }
    /// }
    /// assert_eq!(succeeded, 2);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "sqlite"))]
    /// # fn main() {}
    /// ```
    pub fn run_batch<S>(&self, orders: S, options: BatchOptions) -> Result<BatchRun, Error>
    where
        S: futures_core::Stream<Item = Result<Order, RowError>> + Send + Unpin + 'static,
    {
        self.check_batch(&options)?;
        let stop = BatchStop::default();
        let pacer = Arc::new(Pacer::new(
            options.rate,
            self.journal().map(|j| (j.clone(), self.pace_name())),
        ));
        let shared = Arc::new(Shared {
            // Its keyed writes take the pace once they own their key.
            client: self.for_batch(options.resend_unarrived, Some(Arc::clone(&pacer))),
            pacer,
            options,
            stop: stop.clone(),
            journal_paused: AtomicBool::new(false),
        });
        let (tx, rx) = mpsc::channel(shared.options.concurrency * 2);
        let task = tokio::spawn(dispatch(shared, orders, tx));
        Ok(BatchRun { rx, stop, task })
    }
}

impl Client {
    /// What [`Client::run_batch`] checks before it starts: the options, and
    /// that this client has a journal. The bindings call it before they
    /// start reading the caller's orders, so that a refused batch reads
    /// none.
    pub fn check_batch(&self, options: &BatchOptions) -> Result<(), Error> {
        options.check()?;
        let Some(journal) = self.journal() else {
            return Err(ValidationError::new(
                "journal",
                "a batch needs a journal: it is what makes each order pay once",
            )
            .into());
        };
        if journal.is_new() && !options.create_journal {
            return Err(ValidationError::new(
                "journal",
                format!(
                    "{} does not exist: nothing was read or sent. Check the path (a mistyped or deleted journal would pay every order again), or let the batch create it (create_journal, --create-journal) for a first run",
                    journal.describe()
                ),
            )
            .into());
        }
        Ok(())
    }
}

enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Whichever of `a` and `b` is ready first (`a` when both are).
async fn race<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(x) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(x));
        }
        if let Poll::Ready(y) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(y));
        }
        Poll::Pending
    })
    .await
}

async fn next_item<S>(s: &mut S) -> Option<S::Item>
where
    S: futures_core::Stream + Unpin,
{
    std::future::poll_fn(|cx| Pin::new(&mut *s).poll_next(cx)).await
}

async fn dispatch<S>(sh: Arc<Shared>, mut orders: S, tx: mpsc::Sender<BatchResult>)
where
    S: futures_core::Stream<Item = Result<Order, RowError>> + Send + Unpin + 'static,
{
    // A journal that cannot be reached at the start stops the batch before
    // anything is sent (its orders are reported not sent).
    if let Some(journal) = sh.client.journal() {
        if let Err(e) = journal.check().await {
            tracing::warn!(target: "aopay::batch", error = %e, "the journal cannot be reached: nothing is sent");
            sh.stop.halt(Halt::Journal);
        }
    }
    settle_in_doubt(&sh).await;
    let senders = Arc::new(Semaphore::new(sh.options.concurrency));
    let mut tasks = JoinSet::new();
    // Order id (hashed: 16 bytes an order) → (line, fields): a repeated id
    // in one input is never sent again (and, with other fields, is a
    // conflict).
    let mut seen: HashMap<u128, (u64, u64)> = HashMap::new();
    while !sh.stop.is_stopped() {
        while tasks.try_join_next().is_some() {}
        let permit = match race(senders.clone().acquire_owned(), sh.stop.stopped()).await {
            Either::Left(Ok(p)) => p,
            Either::Left(Err(_)) | Either::Right(()) => break,
        };
        let item = match race(next_item(&mut orders), sh.stop.stopped()).await {
            Either::Left(Some(item)) => item,
            Either::Left(None) | Either::Right(()) => break,
        };
        let order = match item {
            Ok(order) => order,
            Err(row) => {
                if tx.send(BatchResult::of_row(row)).await.is_err() {
                    return;
                }
                continue;
            }
        };
        let id = super::hash128(order.order_id());
        let earlier = seen.get(&id).copied();
        let repeated = match earlier {
            None => {
                seen.insert(id, (order.line, order.fields));
                None
            }
            Some((line, fields)) if fields == order.fields => Some(BatchResult {
                duplicate_of: Some(line),
                ..result_of(&order, Ok(Value::Null))
            }),
            Some((line, _)) => Some(result_of(
                &order,
                Err(Error::IdempotencyConflict(Box::new(ErrorDetails::new(
                    format!(
                        "order id {:?} is also on line {line}, with other fields: nothing was sent for this line",
                        order.order_id()
                    ),
                )))),
            )),
        };
        match repeated {
            Some(r) => {
                if tx.send(r).await.is_err() {
                    return;
                }
            }
            None => {
                tasks.spawn(run_order(sh.clone(), order, permit, tx.clone()));
            }
        }
    }
    while tasks.join_next().await.is_some() {}
    // Stopped by the API: every order left is reported, as not sent.
    if let Some(halt) = sh.stop.halted() {
        while let Some(item) = next_item(&mut orders).await {
            let r = match item {
                Ok(order) => not_sent(&order, halt),
                Err(row) => BatchResult::of_row(row),
            };
            if tx.send(r).await.is_err() {
                return;
            }
        }
    }
}

fn not_sent(order: &Order, halt: Halt) -> BatchResult {
    BatchResult {
        not_sent: Some(halt),
        ..result_of(order, Ok(Value::Null))
    }
}

fn result_of(order: &Order, outcome: Result<Value, Error>) -> BatchResult {
    BatchResult {
        line: order.line,
        order_id: Some(order.order_id.clone()),
        kind: Some(order.kind.method),
        amount: order.amount,
        outcome,
        duplicate_of: None,
        not_sent: None,
    }
}

/// Worth sending again: it provably charged nothing and may pass later.
fn resendable(e: &Error) -> bool {
    e.retry_safe()
        && matches!(
            e.kind(),
            ErrorKind::RateLimit | ErrorKind::Connect | ErrorKind::Server
        )
}

async fn run_order(
    sh: Arc<Shared>,
    order: Order,
    permit: OwnedSemaphorePermit,
    tx: mpsc::Sender<BatchResult>,
) {
    if let Some(halt) = sh.stop.halted() {
        let _ = tx.send(not_sent(&order, halt)).await;
        return;
    }
    let mut args = order.args.clone();
    for (name, value) in &sh.options.defaults {
        if arg_of(order.kind, name).is_some() && args.get(name).is_none() {
            args.set(name.clone(), value.clone());
        }
    }
    let mut permit = Some(permit);
    let mut attempt = 1;
    // When the journal went away under this order (nothing sent yet).
    let mut journal_gone: Option<Instant> = None;
    // Rounds that send nothing new (a reference taken from the journal, a
    // wait for another worker's call) are not attempts, but are bounded.
    let mut rounds = 0;
    let outcome = loop {
        rounds += 1;
        let sent = match sh.client.prepare(order.kind.method, &args) {
            Ok(call) => call.await,
            Err(e) => Err(e),
        };
        let more = attempt < sh.options.attempts
            && rounds < 2 * sh.options.attempts + 4
            && !sh.stop.is_stopped();
        match sent {
            // The journal could not claim (or check) the order: nothing was
            // sent. The order waits for it, holding its sender, so that the
            // batch takes no new order meanwhile; past the pause, the batch
            // stops.
            Err(e) if e.kind() == ErrorKind::Journal && e.retry_safe() => {
                let since = *journal_gone.get_or_insert_with(Instant::now);
                // A file removed or replaced under the batch never comes back.
                let replaced = sh.client.journal().is_some_and(|j| j.is_replaced());
                if replaced || since.elapsed() >= JOURNAL_PAUSE || sh.stop.is_stopped() {
                    if !sh.stop.is_stopped() {
                        sh.stop.halt(Halt::Journal);
                    }
                    break Err(e);
                }
                if !sh.journal_paused.swap(true, Ordering::SeqCst) {
                    tracing::warn!(target: "aopay::batch", error = %e,
                        "the journal is unreachable: orders wait for it (no new order is taken) for up to {} s", JOURNAL_PAUSE.as_secs());
                }
                let pause = Duration::from_millis(250 << attempt.min(3));
                if let Either::Right(()) = race(tokio::time::sleep(pause), sh.stop.stopped()).await
                {
                    break Err(e);
                }
                continue;
            }
            Err(e) if resendable(&e) && more => {
                let pause = e
                    .retry_after()
                    .unwrap_or(Duration::from_millis(250 << attempt.min(6)));
                if e.kind() == ErrorKind::RateLimit {
                    // The server is saying it to the whole batch.
                    sh.pacer.pause(pause).await;
                } else {
                    tokio::time::sleep(pause).await;
                }
                attempt += 1;
            }
            Err(e) if e.kind() == ErrorKind::OutcomeUnknown && more => {
                let entry = match sh.client.journal() {
                    Some(j) => j.get(order.order_id()).await.ok().flatten(),
                    None => None,
                };
                if let Some(r) = entry.as_ref().and_then(|en| unarrived_reference(&sh, en)) {
                    let name = args.spell("reference_id");
                    if args.get(&name) != Some(&ArgValue::Text(r.clone())) {
                        // Resent (by the client) only under the reference
                        // the first send recorded.
                        args.set(name, ArgValue::Text(r));
                        continue;
                    }
                    // Resent and still unknown (its answer lost too):
                    // check it again, and resend if still not found.
                    attempt += 1;
                    continue;
                }
                // In flight in another worker, or in one that was killed:
                // wait out its deadline (holding no sender), then settle it.
                let Some((deadline, claimed, gone)) = entry
                    .filter(|en| matches!(en.state, EntryState::Sending | EntryState::Claimed))
                    .map(|en| {
                        (
                            en.deadline_at_ms,
                            en.state == EntryState::Claimed,
                            en.caller_gone(),
                        )
                    })
                else {
                    break Err(e);
                };
                drop(permit.take());
                // A caller whose process is gone is not waited for.
                let wait = if gone {
                    0
                } else {
                    u64::try_from(deadline.saturating_sub(now_ms())).unwrap_or(0)
                };
                let sleep = tokio::time::sleep(Duration::from_millis(wait + 50));
                if let Either::Right(()) = race(sleep, sh.stop.stopped()).await {
                    break Err(e);
                }
                if claimed {
                    // Never sent: the next round frees the claim if its
                    // caller is gone, and sends once.
                    continue;
                }
                sh.pacer.ready().await;
                match sh.client.settle_key(order.order_id()).await {
                    Ok(settled) => break Ok(settled.to_json_value()),
                    // The status check failed and charged nothing: go
                    // round (the journal decides what is sent).
                    Err(e) if resendable(&e) => attempt += 1,
                    // Its status call does not know it: round once more,
                    // to resend it under its reference.
                    Err(e)
                        if e.kind() == ErrorKind::OutcomeUnknown && sh.options.resend_unarrived => {
                    }
                    Err(e) => break Err(e),
                }
            }
            other => break other,
        }
    };
    if journal_gone.is_some() && outcome.is_ok() && sh.journal_paused.swap(false, Ordering::SeqCst)
    {
        tracing::warn!(target: "aopay::batch", "the journal is back: the batch goes on");
    }
    drop(permit);
    if let Some(halt) = outcome.as_ref().err().and_then(Halt::of) {
        tracing::warn!(target: "aopay::batch", order_id = order.order_id(), "{}", halt.message());
        sh.stop.halt(halt);
    }
    let outcome = match (outcome, sh.options.wait) {
        (Ok(answer), Some(wait)) if answer["is_final"] == false => {
            follow(&sh, order.order_id(), answer, wait).await
        }
        (other, _) => other,
    };
    let _ = tx.send(result_of(&order, outcome)).await;
}

/// The recorded reference of an entry that never got an answer, when the
/// batch resends those under it.
fn unarrived_reference(sh: &Shared, entry: &JournalEntry) -> Option<String> {
    let takes_reference = crate::endpoints::endpoint(&entry.endpoint)
        .is_some_and(|e| e.args.iter().any(|a| a.name == "reference_id"));
    (sh.options.resend_unarrived
        && takes_reference
        && entry.state == EntryState::Unknown
        && entry.outcome.is_none())
    .then(|| entry.reference_id.clone())
    .flatten()
}

/// Check a pending order's status, recording each answer in the journal,
/// until it is final, the wait runs out or the batch stops.
async fn follow(sh: &Shared, key: &str, answer: Value, wait: WaitOptions) -> Result<Value, Error> {
    let deadline = Instant::now() + wait.timeout;
    let mut interval = wait.initial_interval;
    let mut last = answer;
    loop {
        if Instant::now() + interval > deadline {
            return Ok(last);
        }
        if let Either::Right(()) = race(tokio::time::sleep(interval), sh.stop.stopped()).await {
            return Ok(last);
        }
        // A status check is a request too: the rate counts it.
        sh.pacer.ready().await;
        match sh.client.settle_key(key).await {
            Ok(s) if s.is_final() => return Ok(s.to_json_value()),
            Ok(s) => last = s.to_json_value(),
            Err(e) => {
                tracing::debug!(target: "aopay::batch", idempotency_key = key, error = %e, "status check failed; will check again");
            }
        }
        interval = (interval * 3 / 2).min(wait.max_interval);
    }
}

/// Settle the journal's in-doubt entries before any new send, through
/// each one's status call: the unknown and pending ones, and those whose
/// call has passed its deadline (its caller is gone). A call still within
/// its deadline may belong to a live worker: it is not waited for here
/// (a second worker would stall for a whole deadline); its order, when
/// reached, waits it out holding no sender, then settles it.
async fn settle_in_doubt(sh: &Arc<Shared>) {
    let Some(journal) = sh.client.journal() else {
        return;
    };
    if sh.stop.is_stopped() {
        return;
    }
    let entries = match journal.unresolved().await {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(target: "aopay::batch", error = %e, "cannot list the journal's unresolved entries");
            return;
        }
    };
    let checks = Arc::new(Semaphore::new(sh.options.concurrency));
    let mut tasks = JoinSet::new();
    for entry in entries {
        if matches!(entry.state, EntryState::Sending | EntryState::Claimed) && !entry.caller_gone()
        {
            continue;
        }
        if sh.stop.is_stopped() {
            break;
        }
        let Ok(permit) = checks.clone().acquire_owned().await else {
            break;
        };
        if entry.state == EntryState::Claimed {
            // Claimed, never sent, its caller gone: freed, to be sent when
            // its order is reached.
            match journal.release_stale_claim(&entry).await {
                Ok(true) => {
                    tracing::info!(target: "aopay::batch", idempotency_key = entry.key, "released a claim its caller never sent");
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(target: "aopay::batch", idempotency_key = entry.key, error = %e, "cannot release a stale claim");
                }
            }
            continue;
        }
        let sh = Arc::clone(sh);
        tasks.spawn(async move {
            sh.pacer.ready().await;
            if let Err(e) = sh.client.settle_key(&entry.key).await {
                tracing::info!(target: "aopay::batch", idempotency_key = entry.key, error = %e, "an in-doubt entry stays unresolved");
            }
            drop(permit);
        });
    }
    while tasks.join_next().await.is_some() {}
}

#[cfg(test)]
pub(super) fn tests_result(order: &Order, outcome: Result<Value, Error>) -> BatchResult {
    result_of(order, outcome)
}

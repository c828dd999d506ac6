//! `client.runBatch`: the JS side feeds orders (`push`, as JSON) or names a
//! file, and pulls results (`next`, as camelCase JSON); the core's batch
//! runner does the rest. It starts on the first `next`, on napi's runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aopay_core::batch::{BatchOptions, BatchRun, BatchStop, Order, OrderStream, RowError};
use aopay_core::{Lang, ValidationError};
use napi::bindgen_prelude::{AsyncBlock, AsyncBlockBuilder, Object, Unknown};
use napi::{Env, JsValue, Result, ValueType};
use napi_derive::napi;
use tokio::sync::{Mutex, mpsc};

use crate::convert::{camel_json, js_error};

enum State {
    /// Orders pushed from JS, or read from a file, once started.
    NotStarted(Source, BatchOptions),
    Running(BatchRun),
}

enum Source {
    Pushed(OrderStream),
    File(String),
}

/// One batch, driven from JS.
#[napi]
pub struct NativeBatch {
    client: aopay_core::Client,
    state: Arc<Mutex<State>>,
    orders: std::sync::Mutex<Option<mpsc::Sender<std::result::Result<Order, RowError>>>>,
    line: AtomicU64,
    stop: Arc<std::sync::Mutex<Option<BatchStop>>>,
    stop_requested: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for NativeBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NativeBatch")
    }
}

fn invalid(field: &'static str, rule: impl Into<String>) -> napi::Error {
    js_error(ValidationError::new(field, rule).into())
}

/// `{ concurrency?, rate?, waitTimeoutMs?, attempts?, geocode?,
/// resendUnarrived?, createJournal? }`, checked now.
fn options_from_js(options: Option<&Object<'_>>) -> Result<BatchOptions> {
    let mut o = BatchOptions::default();
    let Some(obj) = options else {
        return Ok(o);
    };
    let number = |name: &str, field: &'static str| -> Result<Option<f64>> {
        let v: Option<Unknown<'_>> = obj.get(name)?;
        match v {
            None => Ok(None),
            Some(v) if matches!(v.get_type()?, ValueType::Undefined | ValueType::Null) => Ok(None),
            Some(v) if v.get_type()? == ValueType::Number => {
                Ok(Some(v.coerce_to_number()?.get_double()?))
            }
            Some(_) => Err(invalid(field, "must be a number")),
        }
    };
    let whole = |n: f64, field: &'static str| -> Result<i64> {
        if n.fract() != 0.0 || !n.is_finite() {
            return Err(invalid(field, format!("must be a whole number (got {n})")));
        }
        Ok(n as i64)
    };
    let core = |e: ValidationError| js_error(e.into());
    if let Some(n) = number("concurrency", "concurrency")? {
        o = o.with_concurrency(whole(n, "concurrency")?).map_err(core)?;
    }
    if let Some(n) = number("attempts", "attempts")? {
        o = o.with_attempts(whole(n, "attempts")?).map_err(core)?;
    }
    if let Some(ms) = number("waitTimeoutMs", "waitTimeoutMs")? {
        o = o
            .with_wait_secs("waitTimeoutMs", ms / 1000.0)
            .map_err(core)?;
    }
    let rate: Option<Unknown<'_>> = obj.get("rate")?;
    if let Some(r) = rate {
        match r.get_type()? {
            ValueType::Undefined | ValueType::Null => {}
            ValueType::String => {
                let text = r.coerce_to_string()?.into_utf8()?.as_str()?.to_owned();
                o = o.with_rate_text(&text).map_err(core)?;
            }
            ValueType::Number => {
                let n = r.coerce_to_number()?.get_double()?;
                o = o.with_rate_per_second(n).map_err(core)?;
            }
            _ => {
                return Err(invalid(
                    "rate",
                    "must be a string (\"200/s\") or a number per second",
                ));
            }
        };
    }
    let geocode: Option<Unknown<'_>> = obj.get("geocode")?;
    if let Some(g) = geocode {
        match g.get_type()? {
            ValueType::Undefined | ValueType::Null => {}
            ValueType::String => {
                let text = g.coerce_to_string()?.into_utf8()?.as_str()?.to_owned();
                o = o.with_geocode(text);
            }
            _ => return Err(invalid("geocode", "must be a string \"lat,long\"")),
        }
    }
    let resend: Option<Unknown<'_>> = obj.get("resendUnarrived")?;
    if let Some(r) = resend {
        match r.get_type()? {
            ValueType::Undefined | ValueType::Null => {}
            ValueType::Boolean => o = o.with_resend_unarrived(r.coerce_to_bool()?),
            _ => return Err(invalid("resendUnarrived", "must be a boolean")),
        }
    }
    let create: Option<Unknown<'_>> = obj.get("createJournal")?;
    if let Some(c) = create {
        match c.get_type()? {
            ValueType::Undefined | ValueType::Null => {}
            ValueType::Boolean => o = o.with_create_journal(c.coerce_to_bool()?),
            _ => return Err(invalid("createJournal", "must be a boolean")),
        }
    }
    Ok(o)
}

impl NativeBatch {
    /// A batch of `client`: orders from `path` when given, else pushed.
    /// Every option, the journal and the file are checked now.
    pub(crate) fn new(
        client: aopay_core::Client,
        path: Option<String>,
        options: Option<Object<'_>>,
    ) -> Result<Self> {
        let options = options_from_js(options.as_ref())?;
        client.check_batch(&options).map_err(js_error)?;
        let (orders, source) = match path {
            Some(p) => {
                std::fs::metadata(&p)
                    .map_err(|e| invalid("orders", format!("cannot read {p}: {e}")))?;
                (None, Source::File(p))
            }
            None => {
                let (tx, rx) = OrderStream::channel(256);
                (Some(tx), Source::Pushed(rx))
            }
        };
        Ok(Self {
            client,
            state: Arc::new(Mutex::new(State::NotStarted(source, options))),
            orders: std::sync::Mutex::new(orders),
            line: AtomicU64::new(0),
            stop: Arc::default(),
            stop_requested: Arc::default(),
        })
    }
}

#[napi]
impl NativeBatch {
    /// Queue one order (its JSON); resolves once it is taken (a few are
    /// kept ahead: the input is never loaded whole).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn push(&self, env: &Env, order: String) -> Result<AsyncBlock<()>> {
        let line = self.line.fetch_add(1, Ordering::SeqCst) + 1;
        let item = match serde_json::from_str::<serde_json::Value>(&order) {
            Ok(v) => Order::from_json(line, v, Lang::Node),
            Err(e) => Err(RowError {
                line,
                order_id: None,
                error: ValidationError::new("order", format!("is not JSON: {e}")).into(),
            }),
        };
        let tx = self.sender();
        AsyncBlockBuilder::new(async move {
            if let Some(tx) = tx {
                let _ = tx.send(item).await;
            }
            Ok(())
        })
        .build(env)
    }

    /// The orders' iterable failed: one row error, then no more orders.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn fail(&self, env: &Env, message: String) -> Result<AsyncBlock<()>> {
        let line = self.line.fetch_add(1, Ordering::SeqCst) + 1;
        let tx = self
            .orders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        AsyncBlockBuilder::new(async move {
            if let Some(tx) = tx {
                let error = ValidationError::new(
                    "orders",
                    format!("the iterable threw {message}; no order after it is read"),
                );
                let _ = tx
                    .send(Err(RowError {
                        line,
                        order_id: None,
                        error: error.into(),
                    }))
                    .await;
            }
            Ok(())
        })
        .build(env)
    }

    /// No more orders.
    #[napi]
    pub fn end(&self) {
        self.orders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
    }

    /// The next result as camelCase JSON; `null` once every order has one.
    #[napi(ts_return_type = "Promise<string | null>")]
    pub fn next(&self, env: &Env) -> Result<AsyncBlock<Option<String>>> {
        let state = Arc::clone(&self.state);
        let client = self.client.clone();
        let stop = Arc::clone(&self.stop);
        let requested = Arc::clone(&self.stop_requested);
        AsyncBlockBuilder::new(async move {
            let mut state = state.lock().await;
            let started = match std::mem::replace(
                &mut *state,
                State::NotStarted(Source::File(String::new()), BatchOptions::default()),
            ) {
                State::Running(run) => run,
                State::NotStarted(source, options) => {
                    let orders = match source {
                        Source::Pushed(s) => s,
                        Source::File(p) => OrderStream::open(std::path::Path::new(&p), None)
                            .map_err(|e| invalid("orders", format!("cannot read {p}: {e}")))?,
                    };
                    let run = client.run_batch(orders, options).map_err(js_error)?;
                    let stopper = run.stopper();
                    if requested.load(Ordering::SeqCst) {
                        stopper.stop();
                    }
                    *stop
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(stopper);
                    run
                }
            };
            *state = State::Running(started);
            let State::Running(run) = &mut *state else {
                return Ok(None);
            };
            Ok(run.next().await.map(|r| camel_json(&r.to_json_value())))
        })
        .build(env)
    }

    /// Take no new order; the ones in flight finish.
    #[napi]
    pub fn stop(&self) {
        self.stop_requested.store(true, Ordering::SeqCst);
        if let Some(s) = &*self
            .stop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            s.stop();
        }
    }
}

impl NativeBatch {
    fn sender(&self) -> Option<mpsc::Sender<std::result::Result<Order, RowError>>> {
        self.orders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

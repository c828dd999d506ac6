//! `client.runBatch`: the JS side feeds orders (`push`, as JSON) or names a
//! file, and pulls results (`next`, as camelCase JSON); the core's batch
//! runner does the rest. It starts on the first `next`, on napi's runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aopay_core::batch::{
    BatchOptions, BatchRun, BatchStop, Order, OrderStream, RowError, batch_option_in,
};
use aopay_core::{Lang, ValidationError};
use napi::bindgen_prelude::{AsyncBlock, AsyncBlockBuilder, JsObjectValue, Object, Unknown};
use napi::{Env, Result, ValueType};
use napi_derive::napi;
use tokio::sync::{Mutex, mpsc};

use crate::convert::{camel_json, invalid, js_error, plain_value};

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

/// The options object, every key a batch option of the core's table
/// (`aopay_core::batch::BATCH_OPTIONS`) by its Node name, each converted by
/// its kind and checked now; `undefined` or `null` is the default.
fn options_from_js(options: Option<&Object<'_>>) -> Result<BatchOptions> {
    let mut o = BatchOptions::default();
    let Some(obj) = options else {
        return Ok(o);
    };
    let core = |e: ValidationError| js_error(e.into());
    let names = obj.get_property_names()?;
    for i in 0..names.get_array_length()? {
        let name: String = names.get_element(i)?;
        let option = batch_option_in(Lang::Node, &name).map_err(core)?;
        let v: Unknown<'_> = obj.get_named_property(&name)?;
        if matches!(v.get_type()?, ValueType::Undefined | ValueType::Null) {
            continue;
        }
        if let Some(value) = plain_value(option.js_name, option.kind, &v)? {
            o = o.set(option.js_name, value).map_err(core)?;
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
                std::fs::metadata(&p).map_err(|e| {
                    invalid(ValidationError::new(
                        "orders",
                        format!("cannot read {p}: {e}"),
                    ))
                })?;
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
                            .map_err(|e| {
                                invalid(ValidationError::new(
                                    "orders",
                                    format!("cannot read {p}: {e}"),
                                ))
                            })?,
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

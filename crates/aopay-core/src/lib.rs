//! # aopay-core
//!
//! A typed, validated client for the AOPay recharge and bill-payment API.
//! Each endpoint is one entry of [`ENDPOINTS`] (recharges, lookups, bills,
//! FASTags; the referenced writes answer a [`Payment`] through [`Client::pay`]),
//! sent through one call path ([`Client::call`]; reads retried under one
//! deadline, writes sent once). A recharge ends in a [`Recharge`] (the API
//! answered about a transaction, whatever its fate) or an [`Error`] that
//! says whether resubmitting is safe ([`Error::retry_safe`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), aopay_core::Error> {
//! use std::time::Duration;
//! use aopay_core::{Client, MobileRecharge, WaitOptions};
//!
//! let client = Client::builder()
//!     .registration_id("AOP-554")
//!     .timeout(Duration::from_secs(30))
//!     .build()?;
//! let req = MobileRecharge::new(518, 10, "9876543210", "23.6784,76.8764")?;
//! match client.mobile_recharge(&req).await {
//!     Ok(r) if r.is_final() => println!("{}", r.status),
//!     Ok(r) => {
//!         let reference = r.reference_id.as_deref().unwrap_or_default();
//!         let r = client.wait_for_final(reference, WaitOptions::default()).await?;
//!         println!("{}", r.status);
//!     }
//!     Err(e) if !e.retry_safe() => eprintln!("do NOT resubmit; reconcile: {e}"),
//!     Err(e) => eprintln!("safe to fix and resubmit: {e}"),
//! }
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

#[cfg(feature = "batch")]
pub mod batch;
mod client;
pub mod diagnostics;
mod endpoints;
mod error;
mod journal;
#[cfg(feature = "jwt")]
mod jwt;
mod models;
mod money;
mod naming;
mod options;
mod process;
mod reference;
mod tls;
mod validate;
mod wire;

pub use client::{
    CallEvent, CallObserver, Client, ClientBuilder, Credentials, CredentialsFuture,
    CredentialsProvider, DEFAULT_BASE_URL, DEFAULT_POOL_IDLE_TIMEOUT, Signer, SignerFuture,
    USER_AGENT, WaitOptions, parse_base_url,
};
// Every endpoint's types, as its module lists them (a new endpoint is not
// listed again here).
pub use endpoints::*;
pub use error::{BODY_EXCERPT_LIMIT, Error, ErrorKind, ValidationError};
pub use journal::{
    AuditRecord, ByHand, EntryState, Journal, JournalEntry, JournalSpec, Tally, reconciliation_json,
};
#[cfg(feature = "jwt")]
pub use jwt::{JwtSettings, JwtSigner, RESERVED_CLAIMS};
pub use models::{MobileRecharge, Status, recharge_status_json};
pub use money::Money;
pub use naming::camel_case;
pub use options::{CLIENT_OPTIONS, ClientOption, OptionKind, OptionValue, client_option};
pub use process::PerProcess;
pub use reference::{ClientReference, MAX_REFERENCE_LEN};
pub use validate::{
    Amount, CustomerNumber, Geocode, IdempotencyKey, MAX_SAFE_INTEGER, ProductId, ReferenceId,
    RegistrationId, duration_from_secs, integer_from_f64, mask_digits,
};
pub use wire::answers;
pub use wire::{Answered, Effect};

/// The repository README's Rust snippets, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeSnippets;

//! The wire: JSON as AOPay writes it, read strictly then leniently
//! ([`json`]), the answer tables that say what an answer means
//! ([`answers`], docs/protocol.md §10), and an answer as an endpoint's
//! reader receives it ([`answered`]). Below the endpoints: nothing here
//! knows one.

mod answered;
pub mod answers;
pub(crate) mod json;

pub(crate) use answered::answered;
pub use answered::{Answered, Effect};

//! An HTTP answer as every endpoint's reader sees it (docs/protocol.md §2,
//! §10): what a call does ([`Effect`]), and a 2xx (or placed 4xx) JSON
//! object ([`Answered`]) or the error the answer is.

use std::time::Duration;

use serde_json::{Map, Value};

use super::answers::{AnswerTable, Facts, Outcome, Reading, mask_body};
use super::json::{StrictValue, api_code, http_reason, message, refused};
use crate::error::{Error, ErrorDetails, ErrorKind};

/// What a call does, and so what its failures mean (docs/protocol.md §2):
/// after a write's bytes may have left, any failure may hide a processed
/// payment; a read's failure is only a failed read, safe to repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Safe to repeat: retried under one deadline.
    Read,
    /// Moves money: sent once, never resent by the SDK.
    Write,
}

impl Effect {
    /// An answer that cannot be trusted (unreadable, cut off, a 3xx).
    pub(crate) fn unreadable(self, d: ErrorDetails) -> Error {
        match self {
            Self::Write => Error::outcome_unknown(d),
            Self::Read => Error::protocol(d),
        }
    }

    /// The exchange broke after the request may have left: a timeout, a
    /// lost connection, or an HTTP 5xx.
    pub(crate) fn lost(self, d: ErrorDetails) -> Error {
        match self {
            Self::Write => Error::outcome_unknown(d),
            Self::Read => Error::Server(Box::new(d)),
        }
    }
}

/// A 2xx answer whose body is a JSON object, for an endpoint's [`crate::Answer`] to read.
pub struct Answered<'a> {
    effect: Effect,
    http_status: u16,
    obj: Map<String, Value>,
    body: &'a [u8],
    /// The table that places the answer; `None` for a stored answer read
    /// again (its status was stored beside it).
    table: Option<&'static AnswerTable>,
    /// The endpoint's name, for the warning of an answer not placed.
    endpoint: &'static str,
}

impl std::fmt::Debug for Answered<'_> {
    // The body may hold personal data: its size only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answered")
            .field("effect", &self.effect)
            .field("http_status", &self.http_status)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl Answered<'static> {
    /// A stored answer's `raw`, read again (as a 200 of a read).
    pub(crate) fn restored(obj: Map<String, Value>) -> Self {
        Self {
            effect: Effect::Read,
            http_status: 200,
            obj,
            body: &[],
            table: None,
            endpoint: "",
        }
    }

    /// A stored answer of `endpoint` read again, placed by its `table` as
    /// a 200.
    pub(crate) fn restored_as(
        obj: Map<String, Value>,
        table: Option<&'static AnswerTable>,
        endpoint: &'static str,
    ) -> Self {
        Self {
            table,
            endpoint,
            ..Self::restored(obj)
        }
    }
}

impl Answered<'_> {
    /// The HTTP status.
    pub fn http_status(&self) -> u16 {
        self.http_status
    }

    /// The body's top-level object.
    pub fn object(&self) -> &Map<String, Value> {
        &self.obj
    }

    /// The body, given up as the answer's `raw`.
    pub fn into_raw(self) -> Value {
        Value::Object(self.obj)
    }

    /// `status: false` (or `"false"`) at the top level: the API refused.
    pub fn refused(&self) -> bool {
        refused(&self.obj)
    }

    /// The most specific non-empty message.
    pub fn message(&self) -> Option<String> {
        message(&self.obj)
    }

    /// `statusCode` / `response_code`.
    pub fn api_code(&self) -> Option<i64> {
        api_code(&self.obj)
    }

    /// The refusal this answer is: an [`Error::Api`] with its message and code.
    pub fn refusal(&self) -> Error {
        let text = self.message().unwrap_or_else(|| {
            format!(
                "HTTP {} {}",
                self.http_status,
                http_reason(self.http_status)
            )
        });
        Error::Api(Box::new(
            ErrorDetails::new(text)
                .http_status(self.http_status)
                .api_code(self.api_code())
                .body(self.body),
        ))
    }

    /// What the endpoint family's answer table makes of this answer
    /// (docs/protocol.md §10): the transaction's fate, or the error it is.
    /// `Ok(None)` when there is no table (a stored answer read again). An
    /// answer no row places, or one placed as `UNKNOWN`, is logged at WARN
    /// with its endpoint and its body, digits masked.
    pub fn place(&self) -> Result<Option<Outcome>, Error> {
        let Some(table) = self.table else {
            return Ok(None);
        };
        let row = table.row(&Facts::of(self.http_status, &self.obj));
        let warn = || {
            tracing::warn!(
                target: "aopay",
                endpoint = self.endpoint,
                http_status = self.http_status,
                body = %mask_body(self.body),
                "an answer the SDK cannot place: {}",
                row.meaning
            );
        };
        match row.reading {
            Reading::Outcome(o) => {
                if o == Outcome::Unknown {
                    warn();
                }
                Ok(Some(o))
            }
            Reading::Error(ErrorKind::Api) => Err(self.refusal()),
            Reading::Error(kind) => {
                let text = self.message().unwrap_or_else(|| row.meaning.to_owned());
                Err(Error::of_kind(
                    kind,
                    ErrorDetails::new(text)
                        .http_status(self.http_status)
                        .api_code(self.api_code())
                        .body(self.body),
                ))
            }
            Reading::Unplaced => {
                warn();
                Err(self.unreadable(&format!("is not one the SDK can place ({})", row.meaning)))
            }
        }
    }

    /// An answer that names nothing this endpoint answers: after a write,
    /// the outcome is unknown; after a read, it is a protocol error.
    pub fn unreadable(&self, why: &str) -> Error {
        self.effect.unreadable(
            ErrorDetails::new(format!("HTTP {} answer {why}", self.http_status))
                .http_status(self.http_status)
                .api_code(self.api_code())
                .body(self.body),
        )
    }
}

/// One HTTP answer: an error for every non-2xx status and every body that
/// is not a JSON object, else the object for the endpoint's reader. An
/// endpoint whose answers `table` places has its 4xx JSON answers read too
/// (a code there says what was refused, or that a payment under the
/// reference exists).
pub(crate) fn answered<'a>(
    effect: Effect,
    table: Option<&'static AnswerTable>,
    endpoint: &'static str,
    http_status: u16,
    retry_after: Option<Duration>,
    body: &'a [u8],
) -> Result<Answered<'a>, Error> {
    let (json, unparsed) = match serde_json::from_slice::<StrictValue>(body) {
        Ok(v) => (Some(v.0), None),
        Err(e) => (None, Some(e)),
    };
    let ok = (200..300).contains(&http_status);
    // A JSON answer at 4xx (but 429) is the table's to place too.
    let placed_4xx = table.is_some() && (400..500).contains(&http_status) && http_status != 429;
    let json = match json {
        Some(Value::Object(obj)) if ok || placed_4xx => {
            return Ok(Answered {
                effect,
                http_status,
                obj,
                body,
                table,
                endpoint,
            });
        }
        other => other,
    };
    if ok {
        let what = match &unparsed {
            None => "not a JSON object".to_owned(),
            Some(e) => format!("not valid JSON ({e})"),
        };
        let d = ErrorDetails::new(format!("HTTP {http_status} answer is {what}"))
            .http_status(http_status)
            .body(body);
        return Err(effect.unreadable(d));
    }
    let obj = json.as_ref().and_then(Value::as_object);
    let api_code = obj.and_then(api_code);
    let message = obj
        .and_then(message)
        .unwrap_or_else(|| format!("HTTP {http_status} {}", http_reason(http_status)));
    let details = ErrorDetails::new(message)
        .http_status(http_status)
        .api_code(api_code)
        .body(body);
    Err(match http_status {
        401 | 403 => Error::Authentication(Box::new(details)),
        429 => Error::RateLimit(Box::new(details.retry_after(retry_after))),
        400..=499 => Error::Api(Box::new(details)),
        500..=599 => effect.lost(details),
        // 1xx/3xx (redirects are not followed: a POST must not turn into a GET).
        _ => effect.unreadable(details),
    })
}

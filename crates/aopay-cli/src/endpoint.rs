//! A command generated from the core's endpoint table: its flags to the
//! core's neutral arguments, the call, and the answer printed.

use aopay_core::{ArgKind, ArgValue, Client, EndpointSpec, FieldKind, Lang, ValidationError};
use clap::FromArgMatches;

use crate::cli::{Shared, WaitArgs};
use crate::client::wait_options;
use crate::{Failure, SANDBOX_GEOCODE, exit, other};

/// The status command of a payment (`bill status`), for hints.
pub(crate) static STATUS_HINT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// A `--bill FILE` (`-`: stdin): the JSON a fetch printed.
fn read_bill(path: &str) -> Result<serde_json::Value, Failure> {
    let text = if path == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| ValidationError::new("bill", format!("cannot read {path}: {e}")))?;
    serde_json::from_str(&text).map_err(|e| {
        ValidationError::new(
            "bill",
            format!("{path} is not JSON ({e}): give it what `--json` printed for the fetch"),
        )
        .into()
    })
}

/// A generated subcommand: its flags as neutral arguments, checked by the
/// core against the endpoint's table, then the one generic call.
pub(crate) async fn endpoint_call(
    client: &Client,
    spec: &'static EndpointSpec,
    sub: &clap::ArgMatches,
    g: &Shared,
) -> Result<u8, Failure> {
    let mut args = aopay_core::Args::new(Lang::Rust);
    for a in spec.args {
        let given = sub.get_one::<String>(a.name).cloned();
        let given = match (a.kind, given) {
            (ArgKind::Geocode, None) if g.sandbox() => Some(SANDBOX_GEOCODE.to_owned()),
            (ArgKind::Geocode, None) if a.required => {
                return Err(ValidationError::new(
                    a.name,
                    "is required (use --geocode LAT,LONG or AOPAY_GEOCODE)",
                )
                .into());
            }
            (_, given) => given,
        };
        if let Some(text) = given {
            let value = match a.kind {
                // A bill is given as a file (or `-`), not as its JSON.
                ArgKind::Bill => ArgValue::Json(read_bill(&text)?),
                kind => ArgValue::from_text(a.name, kind, &text)?,
            };
            args.set(a.name, value);
        }
    }
    let keyed = matches!(sub.try_get_one::<String>("idempotency_key"), Ok(Some(_)));
    if keyed && client.journal().is_none() {
        return Err(ValidationError::new(
            "idempotency_key",
            "needs a journal (use --journal PATH|postgres://… or AOPAY_JOURNAL)",
        )
        .into());
    }
    let payment = spec.answer.name == "Payment";
    let wait = if payment {
        Some(WaitArgs::from_arg_matches(sub).map_err(|e| other(e.to_string()))?)
    } else {
        None
    };
    let wait_opts = wait.as_ref().map(wait_options).transpose()?;
    let status_words = spec
        .status
        .and_then(aopay_core::endpoint)
        .unwrap_or(spec)
        .cli
        .join(" ");
    let _ = STATUS_HINT.set(if g.sandbox() {
        // A later command has a fresh embedded sandbox: nothing to check there.
        "the embedded sandbox ends with this command; against a real or shared sandbox, run \
`aopay {status} --reference-id {reference} --wait`"
            .replace("{status}", &status_words)
    } else {
        format!("run `aopay {status_words} --reference-id {{reference}} --wait`")
    });
    let mut answer = client.prepare(spec.method, &args)?.await?;
    let status = |a: &serde_json::Value| a["status"].as_str().unwrap_or_default().to_owned();
    if let (Some(w), Some(opts)) = (&wait, wait_opts) {
        if w.wait && answer["is_final"] == false {
            let reference = answer["reference_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if !g.json {
                print_fields(&spec.answer_fields().collect::<Vec<_>>(), &answer, 0);
                out!("waiting for the final status of {reference}…");
            }
            let call = answer["status_call"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            // The payment was sent: whatever the wait meets, resubmitting is
            // never safe.
            let p = client
                .wait_for_payment(&call, &reference, opts)
                .await
                .map_err(|e| e.after_payment_sent(&status(&answer), &reference))?;
            answer = aopay_core::Answer::to_json_value(&p);
        }
    }
    if g.json {
        out!("{answer}");
    } else {
        print_fields(&spec.answer_fields().collect::<Vec<_>>(), &answer, 0);
    }
    if !payment {
        return Ok(exit::SUCCESS);
    }
    let reference = answer["reference_id"].as_str().unwrap_or_default();
    Ok(match status(&answer).as_str() {
        "SUCCESS" => exit::SUCCESS,
        "FAILED" | "REFUNDED" => exit::FAILED,
        _ => {
            if g.sandbox() && !g.json {
                out!(
                    "not final yet (the embedded sandbox ends with this command: add --wait to follow it)"
                );
            } else if !g.json {
                out!("not final yet: run `aopay {status_words} --reference-id {reference} --wait`");
            }
            exit::NOT_FINAL
        }
    })
}

/// An answer as `name  value` lines; a list as one line per item (its plain
/// values side by side), the lists inside an item indented below it.
fn print_fields(fields: &[&aopay_core::FieldSpec], value: &serde_json::Value, indent: usize) {
    let pad = " ".repeat(indent);
    for f in fields.iter().copied() {
        let v = &value[f.name];
        match (f.kind, v) {
            (FieldKind::Raw, _) | (_, serde_json::Value::Null) => {}
            (FieldKind::Items(inner), serde_json::Value::Array(items)) => {
                for item in items {
                    let plain: Vec<String> = inner
                        .fields
                        .iter()
                        .filter(|f| !matches!(f.kind, FieldKind::Items(_)))
                        .filter_map(|f| match &item[f.name] {
                            serde_json::Value::Null => None,
                            serde_json::Value::String(s) => Some(s.clone()),
                            other => Some(other.to_string()),
                        })
                        .collect();
                    out!("{pad}{}", plain.join("  "));
                    let lists: Vec<&aopay_core::FieldSpec> = inner
                        .fields
                        .iter()
                        .filter(|f| matches!(f.kind, FieldKind::Items(_)))
                        .collect();
                    print_fields(&lists, item, indent + 2);
                }
            }
            (_, serde_json::Value::String(s)) => {
                out!("{pad}{:<16}{s}", f.name.replace('_', " "));
            }
            (_, v) => out!("{pad}{:<16}{v}", f.name.replace('_', " ")),
        }
    }
}

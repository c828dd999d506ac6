//! The client a command calls the API with, from its connection options
//! (each through the core's option table).

use std::time::Duration;

use aopay_core::{Client, Error, Journal, OptionValue, ValidationError, WaitOptions};
use aopay_sandbox::Sandbox;

use crate::SANDBOX_REGISTRATION_ID;
use crate::cli::{Shared, WaitArgs};

/// The client of a command that calls the API, with the journal it was
/// given: only the commands that keep one take `--journal`, so a read never
/// opens one (nor creates its file).
pub(crate) fn build_client(g: &Shared, sandbox: Option<&Sandbox>) -> Result<Client, Error> {
    let Some(c) = &g.conn else {
        return Err(ValidationError::new("command", "does not call the API").into());
    };
    let registration_id = match (&c.registration_id, sandbox) {
        (Some(id), _) => id.clone(),
        (None, Some(_)) => SANDBOX_REGISTRATION_ID.to_owned(),
        (None, None) => {
            return Err(ValidationError::new(
                "registration_id",
                "is required (use --registration-id or AOPAY_REGISTRATION_ID)",
            )
            .into());
        }
    };
    // Every option goes through the core's table (`ClientBuilder::set`),
    // which checks it as it does for the bindings.
    let mut options = vec![
        ("registration_id", OptionValue::Text(registration_id)),
        ("timeout", OptionValue::Seconds(c.timeout)),
        (
            "allow_insecure_http",
            OptionValue::Flag(c.allow_insecure_http),
        ),
    ];
    match (sandbox, &c.base_url) {
        (Some(sb), _) => options.push(("base_url", OptionValue::Text(sb.url().to_owned()))),
        (None, Some(url)) => options.push(("base_url", OptionValue::Text(url.clone()))),
        (None, None) => {}
    }
    for (name, secs) in [
        ("connect_timeout", c.connect_timeout),
        ("read_attempt_timeout", c.read_attempt_timeout),
        ("pool_idle_timeout", c.pool_idle_timeout),
    ] {
        if let Some(secs) = secs {
            options.push((name, OptionValue::Seconds(secs)));
        }
    }
    for (name, n) in [
        ("read_max_attempts", c.read_max_attempts),
        ("max_response_bytes", c.max_response_bytes),
    ] {
        if let Some(n) = n {
            options.push((name, OptionValue::Count(n)));
        }
    }
    if let Some(path) = &c.root_certificates {
        let pem = std::fs::read(path).map_err(|e| {
            ValidationError::new(
                "root_certificates",
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        options.push(("root_certificates", OptionValue::Pem(pem)));
    }
    let mut headers = Vec::new();
    for h in &c.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| ValidationError::new("headers", "each --header must be NAME:VALUE"))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    options.push(("headers", OptionValue::Headers(headers)));
    if let Some(spec) = &g.journal {
        options.push(("journal", OptionValue::Journal(Journal::open(spec)?)));
    }
    if let Some(command) = &c.credentials_command {
        if command.trim().is_empty() {
            return Err(
                ValidationError::new("credentials", "the command must not be empty").into(),
            );
        }
        let command = command.clone();
        let provider = move || credentials_from_command(command.clone());
        options.push((
            "credentials",
            OptionValue::Credentials(std::sync::Arc::new(provider)),
        ));
    }
    if let Some(signer) = jwt_signer(c)? {
        options.push(("signer", OptionValue::Signer(std::sync::Arc::new(signer))));
    }
    let mut b = Client::builder().user_agent(concat!("aopay-cli/", env!("CARGO_PKG_VERSION")));
    for (name, value) in options {
        b = b.set(name, value)?;
    }
    b.build()
}

/// The JWT signer the `--jwt-*` options describe, if any.
fn jwt_signer(c: &crate::cli::Connection) -> Result<Option<aopay_core::JwtSigner>, Error> {
    let env_secret = std::env::var("AOPAY_JWT_SECRET")
        .ok()
        .filter(|s| !s.is_empty());
    let secret = match (&c.jwt_secret_file, env_secret) {
        (Some(path), _) => Some(secret_file("jwt_secret_file", path)?),
        (None, Some(s)) => Some(s.into_bytes()),
        (None, None) => None,
    };
    let private_key = match &c.jwt_private_key_file {
        Some(path) => Some(std::fs::read(path).map_err(|e| {
            ValidationError::new(
                "jwt_private_key_file",
                format!("cannot read {}: {e}", path.display()),
            )
        })?),
        None => None,
    };
    let Some(partner_id) = &c.jwt_partner_id else {
        if secret.is_some() || private_key.is_some() || c.jwt_header.is_some() {
            return Err(ValidationError::new(
                "jwt_partner_id",
                "is required with a JWT secret, private key or header (--jwt-partner-id)",
            )
            .into());
        }
        return Ok(None);
    };
    let settings = aopay_core::JwtSettings {
        partner_id,
        secret: secret.as_deref(),
        private_key: private_key.as_deref(),
        header: c.jwt_header.as_deref(),
        ..Default::default()
    };
    Ok(Some(aopay_core::JwtSigner::from_settings(settings)?))
}

/// A secret kept in a file, without the one newline an editor or `echo`
/// leaves at its end. The error names the file, never its content.
pub(crate) fn secret_file(field: &'static str, path: &std::path::Path) -> Result<Vec<u8>, Error> {
    let mut bytes = std::fs::read(path)
        .map_err(|e| ValidationError::new(field, format!("cannot read {}: {e}", path.display())))?;
    if bytes.ends_with(b"\n") {
        bytes.pop();
        if bytes.ends_with(b"\r") {
            bytes.pop();
        }
    }
    Ok(bytes)
}

/// Run the credentials command (through `sh -c`) and read its JSON. Its
/// output holds secrets: an error names the problem, never the output.
async fn credentials_from_command(command: String) -> Result<aopay_core::Credentials, String> {
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run the credentials command: {e}"))?;
    if !out.status.success() {
        return Err(format!("the credentials command failed ({})", out.status));
    }
    const SHAPE: &str =
        "the credentials command must print {\"headers\": {NAME: VALUE}, \"lifetime\": SECONDS}";
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|_| SHAPE.to_owned())?;
    let headers = v["headers"].as_object().ok_or(SHAPE)?;
    let mut pairs = Vec::with_capacity(headers.len());
    for (k, value) in headers {
        pairs.push((k.clone(), value.as_str().ok_or(SHAPE)?.to_owned()));
    }
    let creds = aopay_core::Credentials::new(pairs);
    match &v["lifetime"] {
        serde_json::Value::Null => Ok(creds),
        l => match l.as_f64().filter(|s| s.is_finite() && *s > 0.0) {
            Some(secs) => Ok(creds.lifetime(Duration::from_secs_f64(secs.min(1e9)))),
            None => Err(
                "the credentials command's lifetime must be a positive number of seconds"
                    .to_owned(),
            ),
        },
    }
}

pub(crate) fn wait_options(w: &WaitArgs) -> Result<WaitOptions, Error> {
    Ok(WaitOptions::with_timeout(seconds(
        "wait_timeout",
        w.wait_timeout,
    )?))
}

pub(crate) fn seconds(field: &'static str, s: f64) -> Result<Duration, ValidationError> {
    aopay_core::duration_from_secs(field, s)
}

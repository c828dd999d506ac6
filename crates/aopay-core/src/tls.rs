//! TLS set-up shared by the HTTP client and the PostgreSQL journal: rustls
//! with ring, TLS 1.2+, the platform's roots plus the caller's, and no way to
//! turn verification off.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::{Error, ErrorDetails, ValidationError};

/// The client option that adds roots (named in errors).
pub(crate) const ROOTS: &str = "root_certificates";

/// Parse the extra roots; each PEM text must hold at least one certificate.
fn extra_roots(
    field: &'static str,
    pems: &[Vec<u8>],
) -> Result<Vec<CertificateDer<'static>>, ValidationError> {
    let mut roots = Vec::new();
    for pem in pems {
        let before = roots.len();
        for cert in CertificateDer::pem_slice_iter(pem) {
            roots.push(
                cert.map_err(|e| ValidationError::new(field, format!("is not valid PEM ({e})")))?,
            );
        }
        if roots.len() == before {
            return Err(ValidationError::new(
                field,
                "must contain at least one PEM CERTIFICATE block",
            ));
        }
    }
    Ok(roots)
}

/// rustls with the platform's roots plus the CAs in `pems` (each a PEM text
/// given through the option `field`, named in errors), ring, TLS 1.2+.
pub(crate) fn config(field: &'static str, pems: &[Vec<u8>]) -> Result<rustls::ClientConfig, Error> {
    let extra_roots = extra_roots(field, pems)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let setup =
        |e: rustls::Error| Error::connect(ErrorDetails::new(format!("cannot set up TLS: {e}")));
    let verifier: Arc<dyn rustls::client::danger::ServerCertVerifier> = if extra_roots.is_empty() {
        match rustls_platform_verifier::Verifier::new(Arc::clone(&provider)) {
            Ok(v) => Arc::new(v),
            // A slim container without CA certificates: plain HTTP to the
            // sandbox must still work, and HTTPS must say why it cannot.
            Err(e) => Arc::new(NoRoots {
                reason: e.to_string(),
                field,
                schemes: provider
                    .signature_verification_algorithms
                    .supported_schemes(),
            }),
        }
    } else {
        // Only the caller's certificates can fail here: system roots that
        // do not parse are skipped.
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, Arc::clone(&provider))
            .map(Arc::new)
            .map_err(|e| {
                ValidationError::new(field, format!("is not a usable CA certificate ({e})"))
            })?
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(setup)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// Refuses every certificate, saying that no trusted root was found.
#[derive(Debug)]
struct NoRoots {
    reason: String,
    field: &'static str,
    schemes: Vec<rustls::SignatureScheme>,
}

impl NoRoots {
    fn refuse<T>(&self) -> Result<T, rustls::Error> {
        Err(rustls::Error::General(format!(
            "no trusted CA certificates ({}): install the system's CA \
             certificates (ca-certificates) or pass {}",
            self.reason, self.field
        )))
    }
}

impl rustls::client::danger::ServerCertVerifier for NoRoots {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        self.refuse()
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.refuse()
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.refuse()
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.schemes.clone()
    }
}

//! Which certificate authorities the AWS clients trust.
//!
//! The functions only ever talk to AWS endpoints (DynamoDB and Cognito in their region), and
//! every AWS endpoint's certificate chains to Amazon Trust Services: Amazon Root CA 1–4, and
//! Starfield Services Root Certificate Authority - G2, which cross-signs them. Those five
//! roots, taken from Debian's `ca-certificates` (Mozilla's list; tests/tls.rs checks them
//! against the `webpki-root-certs` crate), are compiled in (`certs/amazon-trust-services.pem`):
//! no other authority can vouch for a server the functions send credentials to, and a cold
//! start parses five certificates instead of reading the platform's whole folder or bundle
//! (about 140 files, 3–5 ms of every cold start here).
//!
//! `AWS_CA_BUNDLE` (the AWS CLI's variable) names a PEM bundle trusted *instead*, for a
//! TLS-inspecting proxy or an emulator served over HTTPS; it is read and checked at the cold
//! start, and an unreadable or invalid bundle fails the start with its name.

use crate::config::ConfigError;
use aws_smithy_http_client::tls::TrustStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The roots of Amazon Trust Services, as PEM.
pub const AMAZON_TRUST_SERVICES: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

pub const CA_BUNDLE_VARIABLE: &str = "AWS_CA_BUNDLE";

/// Only the compiled-in Amazon Trust Services roots.
pub fn amazon_trust_services() -> TrustStore {
    TrustStore::empty().with_native_roots(false).with_pem_certificate(AMAZON_TRUST_SERVICES)
}

/// Only the certificates of `pem`, each checked to be a usable trust anchor (the SDK's
/// connector would otherwise panic on the first request).
pub fn bundle(pem: &[u8]) -> Result<TrustStore, String> {
    let certificates = anchors(pem)?;
    if certificates.is_empty() {
        return Err("no certificate in it".to_owned());
    }
    Ok(TrustStore::empty().with_native_roots(false).with_pem_certificate(pem.to_vec()))
}

/// Every certificate of a PEM bundle, each parsed as a trust anchor.
pub fn anchors(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("not PEM: {error}"))?;
    for (index, certificate) in certificates.iter().enumerate() {
        webpki::anchor_from_trusted_cert(certificate)
            .map_err(|error| format!("certificate {} is not a usable CA: {error}", index + 1))?;
    }
    Ok(certificates)
}

/// `AWS_CA_BUNDLE`'s bundle when it is set, the Amazon Trust Services roots otherwise.
pub fn from_env() -> Result<TrustStore, ConfigError> {
    from_lookup(|name| std::env::var(name).ok())
}

pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<TrustStore, ConfigError> {
    let Some(path) = lookup(CA_BUNDLE_VARIABLE).filter(|path| !path.trim().is_empty()) else {
        return Ok(amazon_trust_services());
    };
    let invalid =
        |reason: String| ConfigError::Invalid { name: CA_BUNDLE_VARIABLE, reason: format!("{path}: {reason}") };
    let pem = std::fs::read(path.trim()).map_err(|error| invalid(error.to_string()))?;
    bundle(&pem).map_err(invalid)
}

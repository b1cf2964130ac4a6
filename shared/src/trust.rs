//! Which certificate authorities the AWS clients trust.
//!
//! Mozilla's root program, as the `webpki-root-certs` crate carries it, compiled into the
//! binary (`build.rs` writes the PEM bundle the SDK's trust store takes): no file is read at
//! a cold start, and what a host's CA folder holds, or lacks, does not matter. Not a pin:
//! Amazon Trust Services asks its customers not to pin, and a root AWS adds (a new
//! partition's, the European Sovereign Cloud's) is in Mozilla's list before it serves; a
//! rebuild with a newer crate takes it in. Amazon Root CA 1–4 and Starfield Services Root G2,
//! which every AWS endpoint's chain ends in today, are among them (tests/tls.rs).
//!
//! `AWS_CA_BUNDLE` (the AWS CLI's variable) names a PEM bundle trusted *instead*, for a
//! TLS-inspecting proxy or an emulator served over HTTPS; it is read and checked at the cold
//! start, and an unreadable or invalid bundle fails the start with its name.

use crate::config::ConfigError;
use aws_smithy_http_client::tls::TrustStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// Mozilla's root program's certificates, as PEM.
pub const MOZILLA_ROOTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/mozilla-roots.pem"));

pub const CA_BUNDLE_VARIABLE: &str = "AWS_CA_BUNDLE";

/// Only the compiled-in Mozilla roots.
pub fn mozilla_roots() -> TrustStore {
    TrustStore::empty().with_native_roots(false).with_pem_certificate(MOZILLA_ROOTS)
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

/// `AWS_CA_BUNDLE`'s bundle when it is set, the Mozilla roots otherwise.
pub fn from_env() -> Result<TrustStore, ConfigError> {
    from_lookup(|name| std::env::var(name).ok())
}

pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<TrustStore, ConfigError> {
    let Some(path) = lookup(CA_BUNDLE_VARIABLE).filter(|path| !path.trim().is_empty()) else {
        return Ok(mozilla_roots());
    };
    let invalid =
        |reason: String| ConfigError::Invalid { name: CA_BUNDLE_VARIABLE, reason: format!("{path}: {reason}") };
    let pem = std::fs::read(path.trim()).map_err(|error| invalid(error.to_string()))?;
    bundle(&pem).map_err(invalid)
}

//! The one HTTPS client of every SDK client: rustls on ring (no aws-lc: smaller, and no C
//! library to build), certificates verified as the SDK's default client verifies them,
//! against the trust store of [`crate::trust`] only.

use aws_smithy_http_client::tls::{self, TrustStore};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::runtime_components::{RuntimeComponents, RuntimeComponentsBuilder};
use aws_smithy_runtime_api::shared::IntoShared;
use aws_smithy_types::config_bag::ConfigBag;

/// Trusting the compiled-in Mozilla roots.
pub fn https_client() -> SharedHttpClient {
    https_client_trusting(crate::trust::mozilla_roots())
}

/// Trusting `trust_store` only.
pub fn https_client_trusting(trust_store: TrustStore) -> SharedHttpClient {
    let client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .tls_context(tls::TlsContext::builder().with_trust_store(trust_store).build().expect("a TLS context"))
        .build_https();
    NoThrowawayConnector(client).into_shared()
}

/// The SDK's client, less one thing: at every SDK client's construction it builds a
/// connector (trust store parsed, TLS configuration made) and throws it away, "so that
/// native certs load at client initialization time instead of upon first request"; the
/// first request then builds the connector it keeps. Each cold start paid that once per SDK
/// client (three here, with the credential chain's STS client) for nothing: this wrapper
/// passes everything else through and skips only that.
#[derive(Debug)]
struct NoThrowawayConnector(SharedHttpClient);

impl HttpClient for NoThrowawayConnector {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn validate_base_client_config(&self, _: &RuntimeComponentsBuilder, _: &ConfigBag) -> Result<(), BoxError> {
        Ok(())
    }

    fn validate_final_config(&self, components: &RuntimeComponents, cfg: &ConfigBag) -> Result<(), BoxError> {
        self.0.validate_final_config(components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

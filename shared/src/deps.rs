//! What a handler needs, built once per cold start from one `SdkConfig`.

use crate::config::{Config, ConfigError};
use crate::directory::CognitoDirectory;
use crate::store::DynamoStore;
use aws_config::{BehaviorVersion, SdkConfig};

#[derive(Debug, Clone)]
pub struct Deps<D = CognitoDirectory, S = DynamoStore> {
    pub config: Config,
    pub directory: D,
    pub store: S,
}

impl Deps {
    pub fn new(config: Config, sdk: &SdkConfig) -> Self {
        let directory = CognitoDirectory::new(aws_sdk_cognitoidentityprovider::Client::new(sdk), &config.user_pool_id);
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), config.tables.clone());
        Self { config, directory, store }
    }

    /// Reads the configuration first, so that a missing variable fails the cold start with
    /// its name before any AWS client exists.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let sdk = load_sdk_config().await;
        Ok(Self::new(config, &sdk))
    }
}

/// The standard AWS configuration chain: `AWS_ENDPOINT_URL`, `AWS_REGION`, credentials, ….
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).http_client(https_client()).load().await
}

/// rustls on ring, trusting the platform's roots (Lambda's al2023 image keeps them in one
/// bundle), with certificates verified as the SDK's default client verifies them.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    https_client_trusting(aws_smithy_http_client::tls::TrustStore::default())
}

/// The same client with another trust store (the default: the platform's roots).
pub fn https_client_trusting(
    trust_store: aws_smithy_http_client::tls::TrustStore,
) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .tls_context(tls::TlsContext::builder().with_trust_store(trust_store).build().expect("a TLS context"))
        .build_https()
}

/// A function's cold start: JSON logs, then the configuration and the clients. A missing
/// variable is logged with its name and fails the start.
pub async fn start() -> Result<Deps, ConfigError> {
    crate::telemetry::init();
    Deps::from_env().await.inspect_err(|error| tracing::error!(%error, "cannot start: configuration incomplete"))
}

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
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// A function's cold start: JSON logs, then the configuration and the clients. A missing
/// variable is logged with its name and fails the start.
pub async fn start() -> Result<Deps, ConfigError> {
    crate::telemetry::init();
    Deps::from_env().await.inspect_err(|error| tracing::error!(%error, "cannot start: configuration incomplete"))
}

//! What a handler needs, built once per cold start from one `SdkConfig`.

use crate::config::{Config, ConfigError};
use crate::directory::CognitoDirectory;
use crate::https::https_client_trusting;
use crate::store::DynamoStore;
use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::environment::EnvironmentVariableRegionProvider;
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
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), config.tables.clone())
            .retaining_audit(config.audit_retention);
        Self { config, directory, store }
    }

    /// Reads the configuration first, so that a missing variable fails the cold start with
    /// its name before any AWS client exists.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let sdk = load_sdk_config().await?;
        Ok(Self::new(config, &sdk))
    }
}

impl Deps<(), DynamoStore> {
    /// For a function that only reads DynamoDB (list-members, list-audit-log): no Cognito
    /// client is built at its cold start.
    pub async fn store_only_from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let sdk = load_sdk_config().await?;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), config.tables.clone())
            .retaining_audit(config.audit_retention);
        Ok(Self { config, directory: (), store })
    }
}

/// The standard AWS configuration chain (`AWS_ENDPOINT_URL`, `AWS_REGION`, credentials, …)
/// with the project's HTTPS client, trusting what [`crate::trust::from_env`] says.
///
/// Lambda hands a function its credentials in `AWS_ACCESS_KEY_ID` & co. and its region in
/// `AWS_REGION`, the first places the default chains look: when they are there, they are
/// taken directly, so that the rest of the chains (profiles, SSO, web identity with its own
/// STS client, ECS, IMDS) is not built at every cold start. Without them, the whole chains.
pub async fn load_sdk_config() -> Result<SdkConfig, ConfigError> {
    let trust = crate::trust::from_env()?;
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https_client_trusting(trust));
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    if std::env::var_os("AWS_REGION").is_some() {
        loader = loader.region(EnvironmentVariableRegionProvider::new());
    }
    Ok(loader.load().await)
}

fn started<T>(deps: Result<T, ConfigError>) -> Result<T, ConfigError> {
    deps.inspect_err(|error| tracing::error!(%error, "cannot start: configuration missing or invalid"))
}

/// A function's cold start: JSON logs, then the configuration and the clients. A missing or
/// invalid variable is logged with its name and fails the start.
pub async fn start() -> Result<Deps, ConfigError> {
    crate::telemetry::init();
    started(Deps::from_env().await)
}

/// [`start`] for a function that never calls Cognito.
pub async fn start_store_only() -> Result<Deps<(), DynamoStore>, ConfigError> {
    crate::telemetry::init();
    started(Deps::store_only_from_env().await)
}

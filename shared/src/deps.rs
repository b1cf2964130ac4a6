//! What a handler needs, built once per cold start from one `SdkConfig`.

use crate::config::{Config, ConfigError};
use crate::directory::Directory;
use crate::store::Store;
use aws_config::{BehaviorVersion, SdkConfig};

#[derive(Debug, Clone)]
pub struct Deps {
    pub config: Config,
    pub directory: Directory,
    pub store: Store,
}

impl Deps {
    pub fn new(config: Config, sdk: &SdkConfig) -> Self {
        let directory = Directory::new(aws_sdk_cognitoidentityprovider::Client::new(sdk), &config.user_pool_id);
        let store = Store::new(aws_sdk_dynamodb::Client::new(sdk), &config.members_table, &config.audit_table);
        Self { config, directory, store }
    }

    /// Reads the configuration first, so that a missing variable fails the cold start
    /// with its name before any AWS client exists.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
        Ok(Self::new(config, &sdk))
    }
}

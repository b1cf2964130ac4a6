//! The local environment `make dev` runs and the tests build on: the stack provisioned from
//! `infra/template.yaml` on the emulator ([`stack`]), the demo organisations ([`seed`]),
//! and the local HTTP API and console origin ([`gateway`], served by the `local-api`
//! binary; `devstack` provisions and seeds).

pub mod gateway;
pub mod seed;
pub mod stack;
pub mod streams;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use std::path::{Path, PathBuf};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("local/ sits in the workspace").to_path_buf()
}

pub fn template_path() -> PathBuf {
    workspace_root().join("infra/template.yaml")
}

/// The SDK configuration from the standard chain, refusing to run without an explicit
/// endpoint: the local environment must never reach a real AWS account by accident.
pub async fn emulator_config() -> SdkConfig {
    emulator_config_with(shared::https::https_client()).await
}

/// [`emulator_config`] through `http_client` (the tests' recording one).
pub async fn emulator_config_with(http_client: SharedHttpClient) -> SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok_and(|url| !url.is_empty()),
        "AWS_ENDPOINT_URL is not set: run with `make dev` or `make test`, which start the emulator"
    );
    aws_config::defaults(BehaviorVersion::latest()).http_client(http_client).load().await
}

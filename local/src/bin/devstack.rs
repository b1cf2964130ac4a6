//! `devstack provision|seed|up --env-file PATH`: creates the template's tables and user pool
//! on the endpoint named by `AWS_ENDPOINT_URL`, writes the functions' environment to the
//! env file, and seeds the demo organisations.

use members_local::{emulator_config, seed, stack};
use std::path::PathBuf;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("devstack: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let mut env_file = PathBuf::from(".local/env");
    let mut template = PathBuf::from("infra/template.yaml");
    let mut prefix = String::from("dev");
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--env-file" => env_file = value.into(),
            "--template" => template = value.into(),
            "--prefix" => prefix = value,
            _ => return Err(format!("unknown option {flag}").into()),
        }
    }
    let sdk = emulator_config().await;
    match command.as_str() {
        "provision" => {
            provision(&sdk, &template, &prefix, &env_file).await?;
        }
        "seed" => {
            seed_from(&sdk, &env_file).await?;
        }
        "up" => {
            provision(&sdk, &template, &prefix, &env_file).await?;
            seed_from(&sdk, &env_file).await?;
        }
        _ => return Err("usage: devstack provision|seed|up [--env-file PATH] [--template PATH] [--prefix NAME]".into()),
    }
    Ok(())
}

async fn provision(
    sdk: &aws_config::SdkConfig,
    template: &std::path::Path,
    prefix: &str,
    env_file: &std::path::Path,
) -> Result<(), BoxError> {
    let provisioned = stack::provision(sdk, template, prefix).await?;
    if let Some(parent) = env_file.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(env_file, provisioned.env_file())?;
    for (logical, physical) in &provisioned.physical_ids {
        println!("ready {logical}: {physical}");
    }
    println!("wrote {}", env_file.display());
    Ok(())
}

async fn seed_from(sdk: &aws_config::SdkConfig, env_file: &std::path::Path) -> Result<(), BoxError> {
    let text = std::fs::read_to_string(env_file).map_err(|e| format!("cannot read {}: {e}", env_file.display()))?;
    let vars: std::collections::HashMap<String, String> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let config = shared::Config::from_lookup(|name| vars.get(name).cloned())?;
    let deps = shared::Deps::new(config, sdk);
    seed::seed(&deps).await?;
    for user in seed::DEMO_USERS {
        println!(
            "seeded {:<13} {:<11} {:<6} {:<10} {}",
            user.user_id,
            user.org_id,
            user.role.as_str(),
            user.status.as_str(),
            user.name
        );
    }
    Ok(())
}

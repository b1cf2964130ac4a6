//! `local-api`: the local HTTP API (API_URL, default http://127.0.0.1:3000) and the
//! reference console (CONSOLE_URL, default http://127.0.0.1:8080), as `make dev` serves
//! them. The functions are reached through the Lambda Invoke API at INVOKE_URL (default
//! `cargo lambda watch`'s http://[::1]:9000); the pool, client and endpoint come from the
//! environment `make provision` writes (.local/env). It also serves Lambda's Invoke API
//! (LAMBDA_API_URL, default http://127.0.0.1:9001) for a function invoking itself
//! asynchronously (members_local::gateway::lambda_api).

use members_local::gateway::{api, authorizer::Authorizer, console, lambda_api, routes};
use std::net::SocketAddr;
use std::sync::Arc;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn var(name: &str) -> Result<String, BoxError> {
    std::env::var(name).map_err(|_| format!("{name} is not set (make dev writes it to .local/env)").into())
}

fn address(url: &str) -> Result<SocketAddr, BoxError> {
    let authority = url.split("://").nth(1).ok_or_else(|| format!("{url} is not a URL"))?.trim_end_matches('/');
    let address: SocketAddr = authority.parse().map_err(|_| format!("{url}: an IP address and port, please"))?;
    if !address.ip().is_loopback() {
        return Err(format!("{url}: only the loopback is served").into());
    }
    Ok(address)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("local-api: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), BoxError> {
    let root = members_local::workspace_root();
    let template = root.join("infra/template.yaml");
    let api_url = std::env::var("API_URL").unwrap_or_else(|_| "http://127.0.0.1:3000".into());
    let console_url = std::env::var("CONSOLE_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let invoke_url = std::env::var("INVOKE_URL").unwrap_or_else(|_| "http://[::1]:9000".into());
    let endpoint = var("AWS_ENDPOINT_URL")?;
    let region = var("AWS_REGION")?;
    let user_pool_id = var("USER_POOL_ID")?;
    let client_id = var("USER_POOL_CLIENT_ID")?;

    let definition = routes::read(&template, console_url.trim_end_matches('/'))?;
    let issuer = definition.issuer(&region, &user_pool_id);
    let audiences = definition.audience_refs.iter().map(|_| client_id.clone()).collect();
    let jwks = format!("{}/{user_pool_id}/.well-known/jwks.json", endpoint.trim_end_matches('/'));
    let invoke = api::lambda_invoke_api(invoke_url.trim_end_matches('/').to_owned());
    let routes_text: Vec<String> = definition.routes.iter().map(|r| format!("{} → {}", r.key(), r.function)).collect();
    let gateway = Arc::new(api::Gateway {
        api: definition,
        authorizer: Authorizer::new(issuer, audiences, jwks),
        invoke: invoke.clone(),
    });
    let gateway_invoke = invoke.clone();

    let sdk = members_local::emulator_config().await;
    let console = Arc::new(console::Console {
        root: root.join("console"),
        config: serde_json::json!({
            "apiUrl": api_url.trim_end_matches('/'),
            "userPoolId": user_pool_id,
            "clientId": client_id,
            "cognitoEndpoint": format!("{}/cognito/", console_url.trim_end_matches('/')),
            "adminGroup": std::env::var("ADMIN_GROUP").unwrap_or_else(|_| "org-admin".into()),
        }),
        endpoint,
        region,
        user_pool_id: user_pool_id.clone(),
        trigger_function: routes::trigger_function(&template)?,
        invoke,
        cognito: aws_sdk_cognitoidentityprovider::Client::new(&sdk),
        http: reqwest::Client::new(),
    });

    let lambda_api_url = std::env::var("LAMBDA_API_URL").unwrap_or_else(|_| lambda_api::DEFAULT_URL.into());
    let lambda_listener = tokio::net::TcpListener::bind(address(&lambda_api_url)?).await?;
    let api_listener = tokio::net::TcpListener::bind(address(&api_url)?).await?;
    let console_listener = tokio::net::TcpListener::bind(address(&console_url)?).await?;
    println!("local HTTP API on {api_url} ({})", routes_text.join(", "));
    println!("reference console on {console_url}");
    let api_server =
        axum::serve(api_listener, api::router(gateway).into_make_service_with_connect_info::<SocketAddr>());
    let console_server = axum::serve(console_listener, console::router(console));
    let lambda_server = axum::serve(lambda_listener, lambda_api::router(gateway_invoke));
    println!("Lambda's Invoke API on {lambda_api_url} (asynchronous invocations run after a 202)");
    tokio::try_join!(async { api_server.await }, async { console_server.await }, async { lambda_server.await })?;
    Ok(())
}

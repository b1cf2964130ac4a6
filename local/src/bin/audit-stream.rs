//! `audit-stream`: the audit table's stream run into `publish-events` as Lambda's event
//! source mapping runs it (members_local::streams), for `make dev`: every second, what is
//! new on the stream, through the Lambda Invoke API at INVOKE_URL (`cargo lambda watch`).
//! The table, the dead-letter queue and the endpoint come from `.local/env`.

use members_local::gateway::api;
use members_local::streams::StreamPoller;
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("audit-stream: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), BoxError> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set (make dev writes .local/env)"));
    let (table, dead_letters) = (var("AUDIT_TABLE")?, var("DEAD_LETTER_QUEUE_URL")?);
    let invoke_url = std::env::var("INVOKE_URL").unwrap_or_else(|_| "http://[::1]:9000".into());
    let invoke = api::lambda_invoke_api(invoke_url.trim_end_matches('/').to_owned());
    let sdk = members_local::emulator_config().await;
    let mut stream = StreamPoller::new(&sdk, &table, &dead_letters).await?.pausing(Duration::from_secs(1));
    println!("audit-stream: {table}'s stream → publish-events at {invoke_url}");
    loop {
        match stream.poll(&invoke).await {
            Ok(polled) if polled.records > 0 => println!("audit-stream: {polled:?}"),
            Ok(_) => {}
            Err(error) => eprintln!("audit-stream: {error} (trying again)"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

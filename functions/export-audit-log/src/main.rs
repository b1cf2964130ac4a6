use lambda_http::{Adapter, Service, service_fn};
use lambda_runtime::{Error, LambdaEvent, run};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let exporter = &export_audit_log::Exporter::from_env().await.inspect_err(|error| {
        tracing::error!(%error, "cannot start: configuration missing or invalid");
    })?;
    let http = Adapter::from(service_fn(move |request| export_audit_log::handle(exporter, request)));
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let mut http = http.clone();
        export_audit_log::invoked(exporter, event, async move |event: LambdaEvent<serde_json::Value>| {
            let request = serde_json::from_value(event.payload)?;
            let response = http.call(LambdaEvent::new(request, event.context)).await?;
            Ok(serde_json::to_value(response)?)
        })
    }))
    .await
}

//! Provisions an AWS-compatible endpoint (the moto emulator, locally) with the tables, the
//! user pool, its group and its client exactly as `infra/template.yaml` defines them, and
//! works out the functions' environment from the template's own `Globals`.

use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider as cognito;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_dynamodb as dynamodb;
use serde::Deserialize;
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::Path;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The local stack's queue that a rule on the bus delivers every event to (not in the
/// template: a deployed stack's consumers bring their own rules). Its URL is in
/// `.local/env` as `EVENTS_TAP_QUEUE_URL`.
pub const LOCAL_EVENTS_TAP: &str = "LocalEventsTap";

/// What got created, and the environment a function needs to use it.
#[derive(Debug, Clone)]
pub struct Provisioned {
    /// Logical id in the template → physical id (table name, pool id, group name, …).
    pub physical_ids: BTreeMap<String, String>,
    /// The functions' variables, as the template's `Globals` give them, resolved locally.
    pub function_env: BTreeMap<String, String>,
}

impl Provisioned {
    pub fn var(&self, name: &str) -> &str {
        self.function_env.get(name).map(String::as_str).unwrap_or_default()
    }

    /// `KEY=VALUE` lines: the functions' variables plus the standard AWS ones of this
    /// process, so that `cargo lambda watch --env-file` reaches the same endpoint.
    pub fn env_file(&self) -> String {
        let mut lines: BTreeMap<String, String> = self.function_env.clone();
        for name in ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            if let Ok(value) = std::env::var(name) {
                lines.insert(name.to_owned(), value);
            }
        }
        // What the console and the local HTTP API need besides the functions' variables.
        if let Some(client) = self.physical_ids.get("UserPoolClient") {
            lines.insert("USER_POOL_CLIENT_ID".into(), client.clone());
        }
        for (name, default) in [("API_URL", "http://127.0.0.1:3000"), ("CONSOLE_URL", "http://127.0.0.1:8080")] {
            lines.insert(name.into(), std::env::var(name).unwrap_or_else(|_| default.into()));
        }
        lines.insert("SEED_PASSWORD".into(), crate::seed::DEMO_PASSWORD.into());
        // export-audit-log invokes itself through the Lambda API: locally, the one local-api
        // serves in front of cargo lambda watch (crate::gateway::lambda_api), named by the
        // SDK's own per-service endpoint variable.
        let lambda_api =
            std::env::var("LAMBDA_API_URL").unwrap_or_else(|_| crate::gateway::lambda_api::DEFAULT_URL.into());
        lines.insert("AWS_ENDPOINT_URL_LAMBDA".into(), lambda_api);
        if let Some(tap) = self.physical_ids.get(LOCAL_EVENTS_TAP) {
            lines.insert("EVENTS_TAP_QUEUE_URL".into(), tap.clone());
        }
        lines.into_iter().map(|(k, v)| format!("{k}={v}\n")).collect()
    }

    pub fn shared_config(&self) -> Result<shared::Config, shared::config::ConfigError> {
        shared::Config::from_lookup(|name| self.function_env.get(name).cloned())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Template {
    #[serde(default)]
    parameters: BTreeMap<String, Parameter>,
    #[serde(default)]
    globals: Value,
    resources: BTreeMap<String, Resource>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Parameter {
    default: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Resource {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(default)]
    properties: Value,
}

/// Reads the template and creates its tables, user pool, groups and clients, each named
/// with `prefix` so that several stacks share one endpoint without seeing each other.
/// What exists already under those names is kept, so provisioning twice is harmless.
pub async fn provision(sdk: &SdkConfig, template_path: &Path, prefix: &str) -> Result<Provisioned, BoxError> {
    let text =
        std::fs::read_to_string(template_path).map_err(|e| format!("cannot read {}: {e}", template_path.display()))?;
    let template: Template = serde_yaml::from_str(&text)?;
    let dynamo = dynamodb::Client::new(sdk);
    let cognito = cognito::Client::new(sdk);
    let mut physical_ids = BTreeMap::new();

    for (logical_id, resource) in &template.resources {
        if resource.kind == "AWS::DynamoDB::Table" {
            let name = format!("{prefix}-{logical_id}");
            create_table(&dynamo, &name, &resource.properties).await?;
            physical_ids.insert(logical_id.clone(), name);
        }
    }
    let s3 = aws_sdk_s3::Client::new(sdk);
    for (logical_id, resource) in &template.resources {
        if resource.kind == "AWS::S3::Bucket" {
            // Bucket names are lowercase, and shared by every account of the endpoint.
            let name = format!("{prefix}-{logical_id}").to_lowercase();
            // Outside us-east-1, S3 wants the region named again.
            let region = sdk.region().map(|r| r.to_string()).unwrap_or_default();
            let located = (region != "us-east-1").then(|| {
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(region.as_str().into())
                    .build()
            });
            match s3.create_bucket().bucket(&name).set_create_bucket_configuration(located).send().await {
                Ok(_) => {}
                Err(error) if error.as_service_error().is_some_and(|e| e.is_bucket_already_owned_by_you()) => {}
                Err(error) => return Err(error.into()),
            }
            physical_ids.insert(logical_id.clone(), name);
        }
    }
    let sqs = aws_sdk_sqs::Client::new(sdk);
    for (logical_id, resource) in &template.resources {
        if resource.kind == "AWS::SQS::Queue" {
            let name = format!("{prefix}-{logical_id}");
            let url = sqs.create_queue().queue_name(&name).send().await?.queue_url.ok_or("no queue url")?;
            physical_ids.insert(logical_id.clone(), url);
        }
    }
    for (logical_id, resource) in &template.resources {
        if resource.kind == "AWS::Events::EventBus" {
            let name = format!("{prefix}-{logical_id}");
            create_event_bus(sdk, &name).await?;
            // What a deployed stack leaves to its consumers, here a queue the tests read:
            // every event on the bus, delivered by a rule as EventBridge delivers.
            let tap = format!("{prefix}-{LOCAL_EVENTS_TAP}");
            let url = sqs.create_queue().queue_name(&tap).send().await?.queue_url.ok_or("no queue url")?;
            deliver_to_queue(sdk, &name, &tap, &queue_arn(&sqs, &url).await?).await?;
            physical_ids.insert(LOCAL_EVENTS_TAP.to_owned(), url);
            physical_ids.insert(logical_id.clone(), name);
        }
    }
    for (logical_id, resource) in &template.resources {
        if resource.kind == "AWS::Cognito::UserPool" {
            let name = format!("{prefix}-{logical_id}");
            let pool_id = match existing_pool(&cognito, &name).await? {
                Some(id) => id,
                None => create_user_pool(&cognito, &name, &with_parameters(&template, &resource.properties)).await?,
            };
            physical_ids.insert(logical_id.clone(), pool_id);
        }
    }
    for (logical_id, resource) in &template.resources {
        let pool_of = |props: &Value| -> Result<String, BoxError> {
            let pool = reference(&props["UserPoolId"]).ok_or("UserPoolId must be a !Ref")?;
            Ok(physical_ids.get(pool).cloned().ok_or_else(|| format!("unknown pool {pool}"))?)
        };
        match resource.kind.as_str() {
            "AWS::Cognito::UserPoolGroup" => {
                let props: GroupProps = serde_yaml::from_value(resource.properties.clone())?;
                let group_name = resolve(&template, &physical_ids, "GroupName", &props.group_name)?;
                let created = cognito
                    .create_group()
                    .user_pool_id(pool_of(&resource.properties)?)
                    .group_name(&group_name)
                    .set_description(props.description)
                    .send()
                    .await;
                if let Err(error) = created {
                    if error.code() != Some("GroupExistsException") {
                        return Err(error.into());
                    }
                }
                physical_ids.insert(logical_id.clone(), group_name);
            }
            "AWS::Cognito::UserPoolClient" => {
                let props: ClientProps = serde_yaml::from_value(resource.properties.clone())?;
                let pool_id = pool_of(&resource.properties)?;
                let clients = cognito.list_user_pool_clients().user_pool_id(&pool_id).max_results(60).send().await?;
                if let Some(existing) =
                    clients.user_pool_clients().iter().find(|c| c.client_name() == Some(&props.client_name))
                {
                    physical_ids.insert(logical_id.clone(), existing.client_id().unwrap_or_default().to_owned());
                    continue;
                }
                let output = cognito
                    .create_user_pool_client()
                    .user_pool_id(&pool_id)
                    .client_name(&props.client_name)
                    .generate_secret(props.generate_secret)
                    .set_read_attributes(Some(props.read_attributes))
                    .set_write_attributes(Some(props.write_attributes))
                    .set_explicit_auth_flows(Some(
                        props.explicit_auth_flows.iter().map(|f| f.as_str().into()).collect(),
                    ))
                    .send()
                    .await?;
                let client_id = output.user_pool_client().and_then(|c| c.client_id()).ok_or("no client id")?;
                physical_ids.insert(logical_id.clone(), client_id.to_owned());
            }
            _ => {}
        }
    }

    let function_env = resolve_environment(&template, &physical_ids)?;
    Ok(Provisioned { physical_ids, function_env })
}

/// The functions' variables: `Globals.Function.Environment.Variables` and each function's
/// own, with each `!Ref` resolved to what was just created or to the parameter's default.
fn resolve_environment(
    template: &Template,
    physical_ids: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, BoxError> {
    let mut sources = vec![&template.globals["Function"]["Environment"]["Variables"]];
    for resource in template.resources.values() {
        if resource.kind == "AWS::Serverless::Function" {
            sources.push(&resource.properties["Environment"]["Variables"]);
        }
    }
    let mut env = BTreeMap::new();
    for variables in sources {
        let Value::Mapping(variables) = variables else { continue };
        for (name, value) in variables {
            let name = name.as_str().ok_or("variable names must be strings")?.to_owned();
            let resolved = resolve(template, physical_ids, &name, value)?;
            if let Some(previous) = env.insert(name.clone(), resolved.clone()) {
                if previous != resolved {
                    return Err(format!("{name} has two values in the template: {previous} and {resolved}").into());
                }
            }
        }
    }
    if env.is_empty() {
        return Err("the template gives the functions no environment".into());
    }
    Ok(env)
}

fn resolve(
    template: &Template,
    physical_ids: &BTreeMap<String, String>,
    name: &str,
    value: &Value,
) -> Result<String, BoxError> {
    if let Some(pool) = provider_url_of(value) {
        let pool_id = physical_ids.get(pool).ok_or_else(|| format!("{name}: {pool} was not created"))?;
        return Ok(provider_url(pool_id));
    }
    match reference(value) {
        Some(target) => match (physical_ids.get(target), template.parameters.get(target)) {
            (Some(physical), _) => Ok(physical.clone()),
            (None, Some(Parameter { default: Some(default) })) => {
                Ok(scalar(default).ok_or("parameter default must be a scalar")?)
            }
            _ => Err(format!("{name}: cannot resolve !Ref {target} locally").into()),
        },
        None => Ok(scalar(value).ok_or_else(|| format!("{name}: only scalars and !Ref are supported"))?),
    }
}

/// `value` with every `!Ref` to a parameter replaced by the parameter's default (what a
/// deploy without overrides gives), e.g. the pool's `TemporaryPasswordValidityDays`.
fn with_parameters(template: &Template, value: &Value) -> Value {
    if let Some(Parameter { default: Some(default) }) = reference(value).and_then(|name| template.parameters.get(name))
    {
        return default.clone();
    }
    match value {
        Value::Mapping(map) => {
            Value::Mapping(map.iter().map(|(k, v)| (k.clone(), with_parameters(template, v))).collect())
        }
        Value::Sequence(items) => Value::Sequence(items.iter().map(|v| with_parameters(template, v)).collect()),
        other => other.clone(),
    }
}

/// The user pool named by `!GetAtt <pool>.ProviderURL`, if `value` is one.
pub fn provider_url_of(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => tagged.value.as_str()?.strip_suffix(".ProviderURL"),
        _ => None,
    }
}

/// What CloudFormation answers for a pool's `ProviderURL`, here for the emulator's pool: its
/// issuer, as the emulator writes it in `iss` (NOTES: `https://cognito-idp.<region>.amazonaws.com/<pool id>`).
pub fn provider_url(pool_id: &str) -> String {
    let region = pool_id.split_once('_').map_or("", |(region, _)| region);
    format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}")
}

fn reference(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        Value::Mapping(map) => map.get("Ref").and_then(Value::as_str),
        _ => None,
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

// ------------------------------------------------------------------ DynamoDB

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TableProps {
    attribute_definitions: Vec<AttributeDefinition>,
    key_schema: Vec<KeyElement>,
    #[serde(default)]
    local_secondary_indexes: Vec<Index>,
    #[serde(default)]
    global_secondary_indexes: Vec<Index>,
    billing_mode: Option<String>,
    time_to_live_specification: Option<TimeToLive>,
    stream_specification: Option<StreamSpecification>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StreamSpecification {
    stream_view_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeDefinition {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyElement {
    attribute_name: String,
    key_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Index {
    index_name: String,
    key_schema: Vec<KeyElement>,
    projection: Projection,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Projection {
    projection_type: String,
    #[serde(default)]
    non_key_attributes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TimeToLive {
    attribute_name: String,
    enabled: bool,
}

fn key_schema(elements: &[KeyElement]) -> Result<Vec<dynamodb::types::KeySchemaElement>, BoxError> {
    elements
        .iter()
        .map(|e| {
            Ok(dynamodb::types::KeySchemaElement::builder()
                .attribute_name(&e.attribute_name)
                .key_type(e.key_type.as_str().into())
                .build()?)
        })
        .collect()
}

fn projection(p: &Projection) -> dynamodb::types::Projection {
    dynamodb::types::Projection::builder()
        .projection_type(p.projection_type.as_str().into())
        .set_non_key_attributes((!p.non_key_attributes.is_empty()).then(|| p.non_key_attributes.clone()))
        .build()
}

async fn existing_pool(client: &cognito::Client, name: &str) -> Result<Option<String>, BoxError> {
    let mut next = None;
    loop {
        let page = client.list_user_pools().max_results(60).set_next_token(next).send().await?;
        if let Some(pool) = page.user_pools().iter().find(|p| p.name() == Some(name)) {
            return Ok(pool.id().map(str::to_owned));
        }
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            return Ok(None);
        }
    }
}

async fn create_table(client: &dynamodb::Client, name: &str, properties: &Value) -> Result<(), BoxError> {
    let exists = client.describe_table().table_name(name).send().await;
    match exists {
        Ok(_) => return Ok(()),
        Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {}
        Err(error) => return Err(error.into()),
    }
    let props: TableProps = serde_yaml::from_value(properties.clone())?;
    let mut request = client
        .create_table()
        .table_name(name)
        .set_key_schema(Some(key_schema(&props.key_schema)?))
        .billing_mode(props.billing_mode.as_deref().unwrap_or("PAY_PER_REQUEST").into());
    for a in &props.attribute_definitions {
        request = request.attribute_definitions(
            dynamodb::types::AttributeDefinition::builder()
                .attribute_name(&a.attribute_name)
                .attribute_type(a.attribute_type.as_str().into())
                .build()?,
        );
    }
    for index in &props.local_secondary_indexes {
        request = request.local_secondary_indexes(
            dynamodb::types::LocalSecondaryIndex::builder()
                .index_name(&index.index_name)
                .set_key_schema(Some(key_schema(&index.key_schema)?))
                .projection(projection(&index.projection))
                .build()?,
        );
    }
    for index in &props.global_secondary_indexes {
        request = request.global_secondary_indexes(
            dynamodb::types::GlobalSecondaryIndex::builder()
                .index_name(&index.index_name)
                .set_key_schema(Some(key_schema(&index.key_schema)?))
                .projection(projection(&index.projection))
                .build()?,
        );
    }
    if let Some(stream) = &props.stream_specification {
        request = request.stream_specification(
            dynamodb::types::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(stream.stream_view_type.as_str().into())
                .build()?,
        );
    }
    request.send().await?;
    if let Some(ttl) = props.time_to_live_specification {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                dynamodb::types::TimeToLiveSpecification::builder()
                    .attribute_name(ttl.attribute_name)
                    .enabled(ttl.enabled)
                    .build()?,
            )
            .send()
            .await?;
    }
    Ok(())
}

// ------------------------------------------------------------------ EventBridge and SQS

async fn create_event_bus(sdk: &SdkConfig, name: &str) -> Result<(), BoxError> {
    let events = aws_sdk_eventbridge::Client::new(sdk);
    match events.create_event_bus().name(name).send().await {
        Ok(_) => Ok(()),
        Err(error) if error.code() == Some("ResourceAlreadyExistsException") => Ok(()),
        Err(error) => Err(error.into()),
    }
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String, BoxError> {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await?;
    Ok(attributes
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .cloned()
        .ok_or("no queue arn")?)
}

/// A rule on `bus` (every event of `members-api`) whose target is the queue `queue_arn`.
async fn deliver_to_queue(sdk: &SdkConfig, bus: &str, rule: &str, queue_arn: &str) -> Result<(), BoxError> {
    let events = aws_sdk_eventbridge::Client::new(sdk);
    events
        .put_rule()
        .name(rule)
        .event_bus_name(bus)
        .event_pattern(serde_json::json!({"source": ["members-api"]}).to_string())
        .send()
        .await?;
    let target = aws_sdk_eventbridge::types::Target::builder().id("tap").arn(queue_arn).build()?;
    events.put_targets().rule(rule).event_bus_name(bus).targets(target).send().await?;
    Ok(())
}

// ------------------------------------------------------------------ Cognito

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolProps {
    #[serde(default)]
    alias_attributes: Vec<String>,
    #[serde(default)]
    username_attributes: Vec<String>,
    #[serde(default)]
    auto_verified_attributes: Vec<String>,
    username_configuration: Option<UsernameConfiguration>,
    #[serde(default)]
    schema: Vec<SchemaAttribute>,
    policies: Option<Policies>,
    admin_create_user_config: Option<AdminCreateUserConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UsernameConfiguration {
    case_sensitive: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SchemaAttribute {
    name: String,
    attribute_data_type: String,
    #[serde(default)]
    mutable: Option<bool>,
    #[serde(default)]
    required: Option<bool>,
    string_attribute_constraints: Option<StringConstraints>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StringConstraints {
    min_length: Option<String>,
    max_length: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Policies {
    password_policy: PasswordPolicy,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PasswordPolicy {
    minimum_length: Option<i32>,
    require_lowercase: Option<bool>,
    require_uppercase: Option<bool>,
    require_numbers: Option<bool>,
    require_symbols: Option<bool>,
    temporary_password_validity_days: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminCreateUserConfig {
    allow_admin_create_user_only: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupProps {
    group_name: Value,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClientProps {
    client_name: String,
    #[serde(default)]
    generate_secret: bool,
    #[serde(default)]
    explicit_auth_flows: Vec<String>,
    #[serde(default)]
    read_attributes: Vec<String>,
    #[serde(default)]
    write_attributes: Vec<String>,
}

async fn create_user_pool(client: &cognito::Client, name: &str, properties: &Value) -> Result<String, BoxError> {
    use cognito::types::*;
    let props: PoolProps = serde_yaml::from_value(properties.clone())?;
    let schema = props
        .schema
        .iter()
        .map(|a| {
            SchemaAttributeType::builder()
                .name(&a.name)
                .attribute_data_type(a.attribute_data_type.as_str().into())
                .set_mutable(a.mutable)
                .set_required(a.required)
                .set_string_attribute_constraints(a.string_attribute_constraints.as_ref().map(|c| {
                    StringAttributeConstraintsType::builder()
                        .set_min_length(c.min_length.clone())
                        .set_max_length(c.max_length.clone())
                        .build()
                }))
                .build()
        })
        .collect();
    let mut request = client
        .create_user_pool()
        .pool_name(name)
        .set_schema(Some(schema))
        .set_alias_attributes(non_empty(props.alias_attributes.iter().map(|a| a.as_str().into()).collect()))
        .set_username_attributes(non_empty(props.username_attributes.iter().map(|a| a.as_str().into()).collect()))
        .set_auto_verified_attributes(non_empty(
            props.auto_verified_attributes.iter().map(|a| a.as_str().into()).collect(),
        ));
    if let Some(config) = props.username_configuration {
        request = request.username_configuration(
            UsernameConfigurationType::builder().case_sensitive(config.case_sensitive).build()?,
        );
    }
    if let Some(policies) = props.policies {
        let p = policies.password_policy;
        request = request.policies(
            UserPoolPolicyType::builder()
                .password_policy(
                    PasswordPolicyType::builder()
                        .set_minimum_length(p.minimum_length)
                        .set_require_lowercase(p.require_lowercase)
                        .set_require_uppercase(p.require_uppercase)
                        .set_require_numbers(p.require_numbers)
                        .set_require_symbols(p.require_symbols)
                        .set_temporary_password_validity_days(p.temporary_password_validity_days)
                        .build(),
                )
                .build(),
        );
    }
    if let Some(config) = props.admin_create_user_config {
        request = request.admin_create_user_config(
            AdminCreateUserConfigType::builder()
                .set_allow_admin_create_user_only(config.allow_admin_create_user_only)
                .build(),
        );
    }
    let output = request.send().await?;
    Ok(output.user_pool().and_then(|p| p.id()).ok_or("CreateUserPool returned no id")?.to_owned())
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

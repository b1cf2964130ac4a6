//! What the local HTTP API serves, read from `infra/template.yaml`: each `HttpApi` event of a
//! function (method, path, the function's binary), the JWT authorizer's issuer and audience,
//! and the CORS configuration.

use serde_yaml::Value;
use std::path::Path;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    /// `/invitations/{userId}`: segments, `{name}` a parameter.
    pub path: String,
    /// The function's binary: what the Lambda Invoke API calls it locally.
    pub function: String,
}

impl Route {
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The path parameters, if `path` is this route's.
    pub fn matches(&self, method: &str, path: &str) -> Option<Vec<(String, String)>> {
        if !self.method.eq_ignore_ascii_case(method) {
            return None;
        }
        let pattern: Vec<&str> = self.path.trim_matches('/').split('/').collect();
        let actual: Vec<&str> = path.trim_matches('/').split('/').collect();
        if pattern.len() != actual.len() {
            return None;
        }
        let mut parameters = Vec::new();
        for (want, got) in pattern.iter().zip(&actual) {
            match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                Some(name) if !got.is_empty() => parameters.push((
                    name.to_owned(),
                    percent_encoding::percent_decode_str(got).decode_utf8_lossy().into_owned(),
                )),
                Some(_) => return None,
                None if want == got => {}
                None => return None,
            }
        }
        Some(parameters)
    }
}

/// The HTTP API's CORS configuration, `ConsoleOrigin` resolved.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_headers: Vec<String>,
    pub allow_methods: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Api {
    pub routes: Vec<Route>,
    pub cors: Cors,
    /// The authorizer's `issuer` and `audience` as written (`${AWS::Region}`, `${UserPool}`,
    /// `!GetAtt UserPool.ProviderURL` and `!Ref UserPoolClient` still to resolve).
    pub issuer_template: String,
    pub audience_refs: Vec<String>,
    pub identity_source: String,
}

/// The authorizer's issuer written as `!GetAtt UserPool.ProviderURL`: the pool's own.
const PROVIDER_URL: &str = "!GetAtt UserPool.ProviderURL";

impl Api {
    pub fn issuer(&self, region: &str, user_pool_id: &str) -> String {
        if self.issuer_template == PROVIDER_URL {
            return crate::stack::provider_url(user_pool_id);
        }
        self.issuer_template.replace("${AWS::Region}", region).replace("${UserPool}", user_pool_id)
    }
}

fn tagged<'a>(value: &'a Value, tag: &str) -> Option<&'a Value> {
    match value {
        Value::Tagged(t) if t.tag == tag => Some(&t.value),
        _ => None,
    }
}

fn strings(value: &Value) -> Vec<String> {
    value.as_sequence().map(|s| s.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// Reads the routes of the HTTP API and its authorizer and CORS from the template;
/// `console_origin` is what `!Ref ConsoleOrigin` stands for here.
pub fn read(template: &Path, console_origin: &str) -> Result<Api, BoxError> {
    let text = std::fs::read_to_string(template)?;
    let doc: Value = serde_yaml::from_str(&text)?;
    let resources = doc["Resources"].as_mapping().ok_or("the template has no Resources")?;
    let mut routes = Vec::new();
    let mut api = None;
    for (_, resource) in resources {
        match resource["Type"].as_str() {
            Some("AWS::Serverless::Function") => {
                let function = resource["Metadata"]["BuildProperties"]["Binary"].as_str().map(str::to_owned);
                let Some(events) = resource["Properties"]["Events"].as_mapping() else { continue };
                for (_, event) in events {
                    if event["Type"].as_str() != Some("HttpApi") {
                        continue;
                    }
                    let properties = &event["Properties"];
                    routes.push(Route {
                        method: properties["Method"].as_str().ok_or("an HttpApi event without Method")?.to_uppercase(),
                        path: properties["Path"].as_str().ok_or("an HttpApi event without Path")?.to_owned(),
                        function: function.clone().ok_or("a function without BuildProperties.Binary")?,
                    });
                }
            }
            Some("AWS::Serverless::HttpApi") => api = Some(resource["Properties"].clone()),
            _ => {}
        }
    }
    let api = api.ok_or("the template has no AWS::Serverless::HttpApi")?;
    let authorizer_name = api["Auth"]["DefaultAuthorizer"].as_str().ok_or("the HTTP API has no DefaultAuthorizer")?;
    let authorizer = &api["Auth"]["Authorizers"][authorizer_name];
    let jwt = &authorizer["JwtConfiguration"];
    let issuer_template = match crate::stack::provider_url_of(&jwt["issuer"]) {
        Some(_) => PROVIDER_URL.to_owned(),
        None => tagged(&jwt["issuer"], "Sub")
            .and_then(Value::as_str)
            .or_else(|| jwt["issuer"].as_str())
            .ok_or("the authorizer has no issuer")?
            .to_owned(),
    };
    let audience_refs = jwt["audience"]
        .as_sequence()
        .map(|a| a.iter().filter_map(|v| tagged(v, "Ref").and_then(Value::as_str).map(str::to_owned)).collect())
        .unwrap_or_default();
    let cors_config = &api["CorsConfiguration"];
    let allow_origins = cors_config["AllowOrigins"]
        .as_sequence()
        .map(|origins| {
            origins
                .iter()
                .filter_map(|o| match tagged(o, "Ref").and_then(Value::as_str) {
                    Some("ConsoleOrigin") => Some(console_origin.to_owned()),
                    Some(_) => None,
                    None => o.as_str().map(str::to_owned),
                })
                .collect()
        })
        .unwrap_or_default();
    let cors = Cors {
        allow_origins,
        allow_headers: strings(&cors_config["AllowHeaders"]),
        allow_methods: strings(&cors_config["AllowMethods"]),
        expose_headers: strings(&cors_config["ExposeHeaders"]),
        max_age: cors_config["MaxAge"].as_u64(),
    };
    Ok(Api {
        routes,
        cors,
        issuer_template,
        audience_refs,
        identity_source: authorizer["IdentitySource"].as_str().unwrap_or("$request.header.Authorization").to_owned(),
    })
}

/// The binary of the function the user pool calls on PostConfirmation.
pub fn trigger_function(template: &Path) -> Result<String, BoxError> {
    let doc: Value = serde_yaml::from_str(&std::fs::read_to_string(template)?)?;
    let resources = &doc["Resources"];
    let (_, pool) = resources
        .as_mapping()
        .and_then(|r| r.iter().find(|(_, v)| v["Type"].as_str() == Some("AWS::Cognito::UserPool")))
        .ok_or("the template has no user pool")?;
    let target = tagged(&pool["Properties"]["LambdaConfig"]["PostConfirmation"], "GetAtt")
        .and_then(Value::as_str)
        .and_then(|t| t.split('.').next())
        .ok_or("the pool has no PostConfirmation trigger")?;
    Ok(resources[target]["Metadata"]["BuildProperties"]["Binary"]
        .as_str()
        .ok_or("the trigger has no Binary")?
        .to_owned())
}

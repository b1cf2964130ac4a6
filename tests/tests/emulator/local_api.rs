//! The local HTTP API over real HTTP, with the emulator's pool, keys and tokens: API Gateway's
//! JWT authorizer refuses every token it would refuse without calling a function, answers
//! preflights itself, and hands a payload 2.0 event to the function of the route.
//! The functions here are a counting stand-in, so that "not called" is counted.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use members_tests::gateway::api::{Gateway, Invoke, router};
use members_tests::gateway::authorizer::Authorizer;
use members_tests::gateway::routes;
use members_tests::seed::{ACME_ADMIN, DEMO_PASSWORD};
use members_tests::{TestStack, template_path, workspace_root};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

const CONSOLE: &str = "http://127.0.0.1:8080";

/// One change to a valid token's claims.
type Change = Box<dyn Fn(&mut Value)>;

struct Local {
    url: String,
    events: Arc<Mutex<Vec<(String, Value)>>>,
    issuer: String,
    client_id: String,
    id_token: String,
    access_token: String,
    http: reqwest::Client,
}

/// What the stand-in function answers: `fail` makes it fail, `malformed` answer nonsense.
fn stand_in(events: Arc<Mutex<Vec<(String, Value)>>>) -> Invoke {
    Arc::new(move |function, event| {
        let events = events.clone();
        Box::pin(async move {
            let header = event["headers"]["x-test-answer"].as_str().unwrap_or("").to_owned();
            events.lock().unwrap().push((function, event));
            match header.as_str() {
                "fail" => Err("the function failed".into()),
                "malformed" => Ok(json!({"no": "statusCode"})),
                _ => Ok(json!({
                    "statusCode": 200,
                    "headers": {"content-type": "application/json", "retry-after": "3"},
                    "body": "{\"members\":[],\"nextCursor\":null}",
                    "isBase64Encoded": false,
                    "cookies": []
                })),
            }
        })
    })
}

async fn start() -> Local {
    let stack = TestStack::seeded().await;
    let pool = stack.deps.config.user_pool_id.clone();
    let client_id = stack.provisioned.physical_ids["UserPoolClient"].clone();
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("make test starts the emulator");
    let definition = routes::read(&template_path(), CONSOLE).expect("the template's routes");
    let issuer = definition.issuer("eu-west-1", &pool);
    assert_eq!(issuer, stack.deps.config.issuer, "the template's issuer is the functions' issuer");
    let jwks = format!("{endpoint}/{pool}/.well-known/jwks.json");
    let events = Arc::new(Mutex::new(Vec::new()));
    let gateway = Arc::new(Gateway {
        api: definition,
        authorizer: Authorizer::new(issuer.clone(), vec![client_id.clone()], jwks),
        invoke: stand_in(events.clone()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, router(gateway).into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    let auth = stack
        .deps
        .directory
        .client()
        .admin_initiate_auth()
        .user_pool_id(&pool)
        .client_id(&client_id)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", ACME_ADMIN.user_id)
        .auth_parameters("PASSWORD", DEMO_PASSWORD)
        .send()
        .await
        .expect("the emulator signs Ada in");
    let result = auth.authentication_result().expect("tokens");
    Local {
        url,
        events,
        issuer,
        client_id,
        id_token: result.id_token().unwrap().to_owned(),
        access_token: result.access_token().unwrap().to_owned(),
        http: reqwest::Client::new(),
    }
}

fn emulator_key() -> EncodingKey {
    let output = std::process::Command::new(workspace_root().join(".tools/venv/bin/python"))
        .arg(workspace_root().join("tests/support/emulator_key.py"))
        .output()
        .expect("the tools' python");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    EncodingKey::from_rsa_pem(&output.stdout).expect("a PEM key")
}

fn other_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&std::fs::read(workspace_root().join("tests/support/not-the-pools-key.pem")).unwrap())
        .unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Local {
    /// Claims of an ID token of this pool and client, valid for an hour.
    fn claims(&self) -> Value {
        json!({
            "sub": ACME_ADMIN.sub, "cognito:username": ACME_ADMIN.user_id, "custom:org_id": "org-acme",
            "cognito:groups": ["org-admin", "staff"], "token_use": "id", "iss": self.issuer, "aud": self.client_id,
            "iat": now() - 10, "auth_time": now() - 10, "exp": now() + 3600, "email_verified": true,
        })
    }

    fn sign(&self, key: &EncodingKey, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("dummy".into());
        encode(&header, claims, key).unwrap()
    }

    async fn get(&self, path: &str, authorization: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{path}", self.url)).header("origin", CONSOLE);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.send().await.unwrap()
    }

    fn calls(&self) -> usize {
        self.events.lock().unwrap().len()
    }
}

async fn assert_unauthorized(response: reqwest::Response, case: &str) {
    assert_eq!(response.status(), 401, "{case}");
    assert!(
        response.headers().get("www-authenticate").is_some_and(|h| h.to_str().unwrap().starts_with("Bearer")),
        "{case}"
    );
    assert_eq!(response.headers()["access-control-allow-origin"], CONSOLE, "{case}: the console can read the refusal");
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"message": "Unauthorized"}), "{case}");
}

#[tokio::test]
async fn every_token_the_gateway_would_refuse_is_refused_before_any_function() {
    let local = start().await;
    let key = emulator_key();
    let mut cases: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("an empty header", Some(String::new())),
        ("not a JWT", Some("Bearer not.a.jwt".into())),
        ("another scheme", Some(format!("Basic {}", local.id_token))),
        ("signed by another key", Some(local.sign(&other_key(), &local.claims()))),
    ];
    let none = {
        use base64::Engine;
        let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.", b64(&json!({"alg": "none", "kid": "dummy"})), b64(&local.claims()))
    };
    cases.push(("alg none", Some(none)));
    let variants: Vec<(&str, Change)> = vec![
        ("expired", Box::new(|c| c["exp"] = json!(now() - 60))),
        ("not yet valid", Box::new(|c| c["nbf"] = json!(now() + 600))),
        ("issued in the future", Box::new(|c| c["iat"] = json!(now() + 600))),
        ("for another app client", Box::new(|c| c["aud"] = json!("another-client"))),
        (
            "from another pool",
            Box::new(|c| c["iss"] = json!("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other")),
        ),
        ("without exp", Box::new(|c| c.as_object_mut().unwrap().remove("exp").map(|_| ()).unwrap_or(()))),
    ];
    for (name, change) in &variants {
        let mut claims = local.claims();
        change(&mut claims);
        cases.push((name, Some(format!("Bearer {}", local.sign(&key, &claims)))));
    }
    for (case, authorization) in &cases {
        assert_unauthorized(local.get("/members", authorization.as_deref()).await, case).await;
    }
    assert_eq!(local.calls(), 0, "no function was called");

    // The same claims, well signed, go through: the refusals above were the changes'.
    let good = local.sign(&key, &local.claims());
    assert_eq!(local.get("/members", Some(&format!("Bearer {good}"))).await.status(), 200);
    assert_eq!(local.calls(), 1);
}

#[tokio::test]
async fn a_valid_id_token_reaches_the_routes_function_as_a_payload_2_event() {
    let local = start().await;

    let with_bearer = local.get("/members?limit=2&q=ann%20b", Some(&format!("Bearer {}", local.id_token))).await;
    let bare = local.get("/members", Some(&local.id_token)).await;

    assert_eq!(with_bearer.status(), 200);
    assert_eq!(with_bearer.headers()["content-type"], "application/json");
    assert_eq!(with_bearer.headers()["access-control-allow-origin"], CONSOLE);
    assert_eq!(with_bearer.headers()["access-control-expose-headers"], "retry-after,www-authenticate");
    assert_eq!(bare.status(), 200, "the Bearer prefix is optional");
    let events = local.events.lock().unwrap().clone();
    let (function, event) = &events[0];
    assert_eq!(function, "list-members");
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "GET /members");
    assert_eq!(event["rawPath"], "/members");
    assert_eq!(event["rawQueryString"], "limit=2&q=ann%20b");
    assert_eq!(event["queryStringParameters"], json!({"limit": "2", "q": "ann b"}));
    assert_eq!(event["requestContext"]["http"]["method"], "GET");
    assert_eq!(event["requestContext"]["http"]["sourceIp"], "127.0.0.1");
    assert_eq!(event["requestContext"]["routeKey"], "GET /members");
    for legacy in ["type", "methodArn", "httpMethod", "identitySource", "authorizationToken"] {
        assert!(event.get(legacy).is_none(), "{legacy} is not part of a payload 2.0 event");
    }
    let claims = event["requestContext"]["authorizer"]["jwt"]["claims"].as_object().unwrap();
    assert!(claims.values().all(Value::is_string), "every claim a string: {claims:?}");
    assert_eq!(claims["cognito:groups"], "[org-admin]", "arrays as API Gateway flattens them");
    assert_eq!(claims["token_use"], "id");
    assert_eq!(claims["cognito:username"], ACME_ADMIN.user_id);
    assert!(claims["exp"].as_str().unwrap().parse::<i64>().is_ok());
}

/// API Gateway checks `aud`, or `client_id` where there is none: a Cognito access token of
/// the app client passes it (as on AWS), and the function refuses it (`token_use` must be
/// `id`): tested end to end in the function's own tests; here, that the gateway forwards it.
#[tokio::test]
async fn an_access_token_passes_the_gateway_as_on_aws_and_a_foreign_client_id_does_not() {
    let local = start().await;
    let key = emulator_key();
    let access = local.get("/members", Some(&format!("Bearer {}", local.access_token))).await;
    assert_eq!(access.status(), 200);
    let forwarded = local.events.lock().unwrap()[0].1["requestContext"]["authorizer"]["jwt"]["claims"].clone();
    assert_eq!(forwarded["token_use"], "access", "the function sees it is not an ID token");

    let mut claims = local.claims();
    claims.as_object_mut().unwrap().remove("aud");
    claims["client_id"] = json!("another-client");
    assert_unauthorized(local.get("/members", Some(&local.sign(&key, &claims))).await, "client_id of another client")
        .await;
    assert_eq!(local.calls(), 1);
}

#[tokio::test]
async fn preflights_are_the_gateways_own_and_only_the_consoles_origin_is_allowed() {
    let local = start().await;
    let preflight = |origin: &'static str, method: &'static str| {
        local
            .http
            .request(reqwest::Method::OPTIONS, format!("{}/invitations/acme-carol", local.url))
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "authorization,idempotency-key")
            .send()
    };

    let allowed = preflight(CONSOLE, "DELETE").await.unwrap();
    let other_origin = preflight("https://evil.example", "DELETE").await.unwrap();
    let other_method = preflight(CONSOLE, "PUT").await.unwrap();

    assert_eq!(allowed.status(), 204);
    assert_eq!(allowed.headers()["access-control-allow-origin"], CONSOLE);
    assert!(allowed.headers()["access-control-allow-methods"].to_str().unwrap().contains("DELETE"));
    let role_change = preflight(CONSOLE, "PATCH").await.unwrap();
    assert_eq!(role_change.status(), 204, "the console changes a role with PATCH");
    assert!(allowed.headers()["access-control-allow-headers"].to_str().unwrap().contains("idempotency-key"));
    assert_eq!(allowed.headers()["access-control-max-age"], "600");
    for refused in [&other_origin, &other_method] {
        assert!(refused.headers().get("access-control-allow-origin").is_none());
    }
    let from_elsewhere = local
        .http
        .get(format!("{}/members", local.url))
        .header("origin", "https://evil.example")
        .header("authorization", &local.id_token)
        .send()
        .await
        .unwrap();
    assert!(from_elsewhere.headers().get("access-control-allow-origin").is_none(), "no CORS for another origin");
    assert_eq!(local.calls(), 1, "preflights call no function");
}

#[tokio::test]
async fn unknown_routes_and_failing_functions_get_the_gateways_own_answers() {
    let local = start().await;
    let bearer = format!("Bearer {}", local.id_token);
    for (method, path) in [("GET", "/nope"), ("PATCH", "/members"), ("GET", "/invitations/a/b/c"), ("GET", "/")] {
        let response = local
            .http
            .request(method.parse().unwrap(), format!("{}{path}", local.url))
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"message": "Not Found"}));
    }
    for answer in ["fail", "malformed"] {
        let response = local
            .http
            .get(format!("{}/members", local.url))
            .header("authorization", &bearer)
            .header("x-test-answer", answer)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 500, "{answer}");
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"message": "Internal Server Error"}));
    }
    let path_parameter = local
        .http
        .delete(format!("{}/invitations/acme%2Dcarol", local.url))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(path_parameter.status(), 200);
    let events = local.events.lock().unwrap().clone();
    let (function, event) = events.last().unwrap();
    assert_eq!(function, "cancel-invitation");
    assert_eq!(event["pathParameters"], json!({"userId": "acme-carol"}));
    assert_eq!(event["routeKey"], "DELETE /invitations/{userId}");
}

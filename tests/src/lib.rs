//! The test harness: every test gets its own user pool and tables on the shared emulator
//! (provisioned by the local environment, `members-local`, under a fresh prefix), so tests
//! run in parallel unseen by each other; faults injected into the real SDK clients; the
//! workload and its invariants.

pub mod bus_faults;
pub mod calls;
pub mod chaos;
pub mod events;
pub mod exports;
pub mod faults;
pub mod workload;

pub use members_local::{gateway, seed, stack, template_path, workspace_root};

use aws_config::SdkConfig;
pub use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use lambda_http::{Body, Request, Response};
use shared::Deps;
use shared::directory::CognitoDirectory;
use shared::domain::{AuditAction, AuditEntry, Member, UserId};
use shared::ports::prelude::*;
use shared::ports::{Directory, DirectoryUser};
use shared::store::DynamoStore;

/// `program`, run in the workspace as a developer's shell runs it: the environment cleared
/// but for the shell's own variables (and `also`). The variables cargo sets for a test
/// process (`CARGO_PKG_*`, `CARGO_MANIFEST_DIR`, …) would change build fingerprints and make
/// a build the test starts and the test's own build rebuild each other.
pub fn as_from_a_shell(program: &str, also: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(program);
    command.current_dir(workspace_root()).env_clear();
    let shell = [
        "PATH",
        "HOME",
        "USER",
        "TMPDIR",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
        "CARGO_TARGET_DIR",
        "RUSTC_WRAPPER",
        "SCCACHE_DIR",
    ];
    for name in shell.iter().chain(also) {
        if let Ok(value) = std::env::var(name) {
            command.env(name, value);
        }
    }
    command
}

/// The emulator's SDK configuration (see [`members_local::emulator_config`]), every call
/// recorded for the IAM check ([`calls`]).
pub async fn emulator_config() -> SdkConfig {
    members_local::emulator_config_with(calls::recording(shared::https::https_client())).await
}

pub struct TestStack {
    pub sdk: SdkConfig,
    pub provisioned: stack::Provisioned,
    pub deps: Deps,
}

impl TestStack {
    /// A fresh pool and fresh tables from the template, empty.
    pub async fn empty() -> Self {
        let sdk = emulator_config().await;
        let prefix = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let provisioned = stack::provision(&sdk, &template_path(), &prefix).await.expect("provision the stack");
        let deps = Deps::new(provisioned.shared_config().expect("template gives the config"), &sdk);
        TEST_ISSUER.with(|issuer| *issuer.borrow_mut() = Some(deps.config.issuer.clone()));
        Self { sdk, provisioned, deps }
    }

    /// A fresh stack, empty but for the fixtures' callers (Ada and Bob of Acme, Gus of
    /// Globex; see [`TestStack::admit`]), whose memberships every request's admission reads.
    pub async fn with_callers() -> Self {
        let stack = Self::empty().await;
        for demo in [seed::ACME_ADMIN, seed::ACME_VERIFIED, seed::GLOBEX_ADMIN] {
            stack.admit(demo.org_id, demo.user_id, demo.role).await;
        }
        stack
    }

    /// `user_id` of `org_id`, verified, as a test's own caller: their confirmed Cognito user
    /// (no phone or email, in the administrators' group when admin) and their membership
    /// (counted among the active administrators when admin), and no audit entry.
    pub async fn admit(&self, org_id: &str, user_id: &str, role: shared::domain::Role) {
        let (client, pool) = (self.deps.directory.client(), self.deps.directory.user_pool_id());
        let attribute = |name: &str, value: &str| {
            aws_sdk_cognitoidentityprovider::types::AttributeType::builder().name(name).value(value).build().unwrap()
        };
        client
            .admin_create_user()
            .user_pool_id(pool)
            .username(user_id)
            .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
            .user_attributes(attribute("custom:org_id", org_id))
            .user_attributes(attribute("name", user_id))
            .send()
            .await
            .expect("create the caller's user");
        client
            .admin_set_user_password()
            .user_pool_id(pool)
            .username(user_id)
            .password(seed::DEMO_PASSWORD)
            .permanent(true)
            .send()
            .await
            .expect("confirm the caller");
        if role == shared::domain::Role::Admin {
            self.deps.directory.add_to_group(user_id, &self.deps.config.admin_group).await.expect("the group");
        }
        let user = shared::domain::UserId::parse(user_id).expect("a user id");
        let member = shared::domain::Member::new(org_id, user, user_id, role, shared::domain::MemberStatus::Verified);
        self.deps.store.put_member_record(&member).await.expect("write a caller's membership");
        if member.is_active_admin() {
            self.deps.store.count_active_admin(org_id).await.expect("count the administrator");
        }
    }

    /// A fresh stack with the demo organisations of `make dev`.
    pub async fn seeded() -> Self {
        let stack = Self::empty().await;
        seed::seed(&stack.deps).await.expect("seed the demo organisations");
        stack
    }

    /// Another function instance on the same resources, whose clients may carry faults and
    /// counters (see [`faults`]): `stack.instance().cognito(fault).dynamo(calls).deps()`.
    pub fn instance(&self) -> Instance<'_> {
        Instance { stack: self, cognito: Vec::new(), dynamo: Vec::new() }
    }

    /// The same resources, with Cognito reached through `connector` in front of the real
    /// HTTP client (the SDK's retries then pass through it).
    pub fn deps_with_cognito_http(&self, connector: &faults::LosingConnector) -> Deps {
        let inner = self.sdk.http_client().expect("the SDK configuration names its HTTP client");
        let config = aws_sdk_cognitoidentityprovider::config::Builder::from(&self.sdk)
            .http_client(connector.around(inner))
            .build();
        Deps {
            directory: CognitoDirectory::new(
                aws_sdk_cognitoidentityprovider::Client::from_conf(config),
                &self.deps.config.user_pool_id,
            ),
            store: self.deps.store.clone(),
            config: self.deps.config.clone(),
        }
    }

    pub async fn cognito_user_exists(&self, user_id: &str) -> bool {
        self.deps.directory.get_user(user_id).await.expect("AdminGetUser").is_some()
    }

    pub async fn cognito_user(&self, user_id: &str) -> Option<DirectoryUser> {
        self.deps.directory.get_user(user_id).await.expect("AdminGetUser")
    }

    /// The pool's users holding this phone number.
    pub async fn users_with_phone(&self, phone: &str) -> Vec<DirectoryUser> {
        self.deps.directory.users_with(shared::ports::ContactKind::Phone, phone).await.expect("ListUsers")
    }

    pub async fn groups_of(&self, user_id: &str) -> Vec<String> {
        let output = self
            .deps
            .directory
            .client()
            .admin_list_groups_for_user()
            .user_pool_id(self.deps.directory.user_pool_id())
            .username(user_id)
            .send()
            .await
            .expect("AdminListGroupsForUser");
        output.groups().iter().filter_map(|g| g.group_name().map(str::to_owned)).collect()
    }

    pub async fn member(&self, org_id: &str, user_id: &str) -> Option<Member> {
        let user_id = UserId::parse(user_id).expect("a valid user id");
        self.deps.store.get_member(org_id, &user_id).await.expect("GetItem")
    }

    pub async fn audit_entries(&self, org_id: &str) -> Vec<AuditEntry> {
        self.deps.store.audit_entries(org_id).await.expect("Query audit")
    }

    /// The organisation's audit entries of one action, oldest first.
    pub async fn audit_entries_of(&self, org_id: &str, action: AuditAction) -> Vec<AuditEntry> {
        self.audit_entries(org_id).await.into_iter().filter(|entry| entry.action == action).collect()
    }

    /// A whole table's items, for assertions on what was (not) written.
    pub async fn scan(
        &self,
        table: &str,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let output = self.deps.store.client().scan().table_name(table).send().await.expect("Scan");
        output.items().to_vec()
    }

    /// How many search terms find this user (in every organisation and index).
    pub async fn search_terms_of(&self, user_id: &str) -> usize {
        let mut count = 0;
        let mut start = None;
        loop {
            let output = self
                .deps
                .store
                .client()
                .scan()
                .table_name(&self.deps.config.tables.search)
                .filter_expression("userId = :u")
                .expression_attribute_values(":u", aws_sdk_dynamodb::types::AttributeValue::S(user_id.to_owned()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("Scan");
            count += output.items().len();
            start = output.last_evaluated_key;
            if start.is_none() {
                return count;
            }
        }
    }
}

/// A function instance being built by [`TestStack::instance`].
pub struct Instance<'a> {
    stack: &'a TestStack,
    cognito: Vec<SharedInterceptor>,
    dynamo: Vec<SharedInterceptor>,
}

impl Instance<'_> {
    /// Its Cognito client goes through `interceptor` (in the order given).
    pub fn cognito(mut self, interceptor: impl Intercept + 'static) -> Self {
        self.cognito.push(SharedInterceptor::new(interceptor));
        self
    }

    /// Its DynamoDB client goes through `interceptor` (in the order given).
    pub fn dynamo(mut self, interceptor: impl Intercept + 'static) -> Self {
        self.dynamo.push(SharedInterceptor::new(interceptor));
        self
    }

    pub fn deps(self) -> Deps {
        deps_with(&self.stack.sdk, &self.stack.deps, self.cognito, self.dynamo)
    }
}

/// The resources of `base`, reached through clients that carry `cognito` and `dynamo`
/// interceptors (see [`faults`]): another function instance.
pub fn deps_with(
    sdk: &SdkConfig,
    base: &Deps,
    cognito: Vec<SharedInterceptor>,
    dynamo: Vec<SharedInterceptor>,
) -> Deps {
    let mut cognito_config = aws_sdk_cognitoidentityprovider::config::Builder::from(sdk);
    for interceptor in cognito {
        cognito_config.push_interceptor(interceptor);
    }
    let mut dynamo_config = aws_sdk_dynamodb::config::Builder::from(sdk);
    for interceptor in dynamo {
        dynamo_config.push_interceptor(interceptor);
    }
    let config = base.config.clone();
    Deps {
        directory: CognitoDirectory::new(
            aws_sdk_cognitoidentityprovider::Client::from_conf(cognito_config.build()),
            &config.user_pool_id,
        ),
        store: DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(dynamo_config.build()), config.tables.clone())
            .retaining_audit(config.audit_retention),
        config,
    }
}

/// The issuer every fixture carries: `make dev`'s pool (its id derives from its name).
pub const FIXTURE_ISSUER: &str =
    "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_71411589fd2d2548fd69078119d912b77dae3f784c3f6";

thread_local! {
    /// The issuer of the pool of the stack this test built last: each test has its own pool,
    /// so [`fixture`] re-issues the fixtures' claims for it, as that pool's authorizer would.
    static TEST_ISSUER: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// An event fixture of `events/`, read as API Gateway would deliver it.
pub fn fixture(relative: &str) -> Request {
    fixture_with(relative, |_| {})
}

/// A fixture changed by `edit` before it is read: another target, another request id.
pub fn fixture_with(relative: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Request {
    let path = workspace_root().join("events").join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut event: serde_json::Value = serde_json::from_str(&text).expect("fixtures are JSON");
    if let Some(iss) = event.pointer_mut("/requestContext/authorizer/jwt/claims/iss")
        && iss.as_str() == Some(FIXTURE_ISSUER)
        && let Some(issuer) = TEST_ISSUER.with(|issuer| issuer.borrow().clone())
    {
        *iss = issuer.into();
    }
    edit(&mut event);
    lambda_http::request::from_str(&event.to_string())
        .unwrap_or_else(|e| panic!("{} is not an API Gateway event: {e}", path.display()))
}

/// Points an HTTP API event at another `{userId}`.
pub fn retarget(event: &mut serde_json::Value, user_id: &str) {
    let path = event["rawPath"].as_str().unwrap_or_default();
    let (prefix, rest) = path.trim_start_matches('/').split_once('/').unwrap_or(("", ""));
    let suffix = rest.split_once('/').map(|(_, tail)| format!("/{tail}")).unwrap_or_default();
    let new_path = format!("/{prefix}/{user_id}{suffix}");
    event["rawPath"] = new_path.clone().into();
    event["requestContext"]["http"]["path"] = new_path.into();
    event["pathParameters"]["userId"] = user_id.into();
}

/// A response body as JSON (`null` when empty).
pub fn json_body(response: &Response<Body>) -> serde_json::Value {
    match response.body() {
        Body::Empty => serde_json::Value::Null,
        Body::Text(text) => serde_json::from_str(text).expect("a JSON body"),
        Body::Binary(bytes) => serde_json::from_slice(bytes).expect("a JSON body"),
        _ => panic!("unexpected body"),
    }
}

/// Appends `response` to the file named by `MEMBERS_RESPONSE_LOG` (one JSON line each), so
/// that `make test` can check every response the tests saw against `infra/openapi.yaml`.
pub fn record(method: &str, route: &str, response: &Response<Body>) {
    use std::io::Write;
    static LOG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let Ok(path) = std::env::var("MEMBERS_RESPONSE_LOG") else { return };
    let body = match response.body() {
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => String::new(),
    };
    let headers: serde_json::Map<String, serde_json::Value> = response
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.into())))
        .collect();
    let line = serde_json::json!({
        "method": method,
        "route": route,
        "status": response.status().as_u16(),
        "headers": headers,
        "body": body,
    });
    let _guard = LOG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open the response log");
    writeln!(file, "{line}").expect("write the response log");
}

/// `k=v&…` with each part percent-encoded, as API Gateway gives `rawQueryString`.
pub fn query_string(query: &[(&str, &str)]) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    query.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// A fixture with its query string replaced by `query`, as API Gateway would carry it.
pub fn with_query(case: &str, query: &[(&str, &str)]) -> Request {
    fixture_with(case, |e| {
        e["queryStringParameters"] = query.iter().map(|(k, v)| (k.to_string(), serde_json::Value::from(*v))).collect();
        e["rawQueryString"] = query_string(query).into();
    })
}

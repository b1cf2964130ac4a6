//! `make bootstrap-admin`: the first administrator of an organisation, through the invite
//! path's own code, against the emulator: by the function, and by the script an operator runs.

use invite_user::bootstrap::{BootstrapError, OPERATOR_ID, OPERATOR_NAME, bootstrap_admin, invitation};
use members_tests::seed::ACME;
use members_tests::{TestStack, fixture};
use shared::domain::{AuditAction, MemberStatus, Role};
use std::collections::BTreeSet;

const ORG: &str = "org-newco";

fn keys(item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>) -> BTreeSet<String> {
    item.keys().cloned().collect()
}

#[tokio::test]
async fn the_first_administrator_is_written_exactly_as_an_invitation_writes_one() {
    let stack = TestStack::seeded().await;
    // An administrator invited through the API, in the seeded organisation, for comparison.
    let invited = invite_user::handle(&stack.deps, fixture("invite-user/admin-invites-admin.json")).await.unwrap();
    assert_eq!(invited.status(), 201);
    let invited_id = members_tests::json_body(&invited)["userId"].as_str().unwrap().to_owned();

    // As the fixture's invitation: a phone, no email.
    let admin = invitation("Nora Founder", "+447700900801", None).unwrap();
    let member = bootstrap_admin(&stack.deps, ORG, &admin).await.expect("bootstrapped");

    assert_eq!(member.role, Role::Admin);
    assert_eq!(member.status, MemberStatus::Unverified);
    let user = stack.cognito_user(member.user_id.as_str()).await.expect("the Cognito user exists");
    assert_eq!(user.org_id.as_deref(), Some(ORG));
    assert!(user.is_unverified(), "the temporary password went out; they verify at first sign-in");
    assert_eq!(stack.groups_of(member.user_id.as_str()).await, vec![stack.deps.config.admin_group.clone()]);
    // The same records as the API's invitation: the membership's attributes, the claims.
    let members = stack.scan(&stack.deps.config.tables.members).await;
    let item = |org: &str, id: &str| {
        members.iter().find(|m| m["orgId"].as_s().unwrap() == org && m["userId"].as_s().unwrap() == id).cloned()
    };
    assert_eq!(keys(&item(ORG, member.user_id.as_str()).unwrap()), keys(&item(ACME, &invited_id).unwrap()));
    let claims = stack.scan(&stack.deps.config.tables.contacts).await;
    let held: Vec<_> =
        claims.iter().filter(|c| c["userId"].as_s().ok() == Some(&member.user_id.as_str().to_owned())).collect();
    assert_eq!(held.len(), 1, "the phone claimed: {held:?}");
    // The Log names the operator.
    let entries = stack.audit_entries_of(ORG, AuditAction::Invited).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor_id, OPERATOR_ID);
    assert_eq!(entries[0].actor_name, OPERATOR_NAME);
    assert_eq!(entries[0].target_id, member.user_id.as_str());
}

#[tokio::test]
async fn an_organisation_with_an_administrator_gets_no_second_one_this_way() {
    let stack = TestStack::seeded().await;
    let before = stack.scan(&stack.deps.config.tables.members).await.len();
    let result = bootstrap_admin(&stack.deps, ACME, &invitation("Mallory", "+447700900802", None).unwrap()).await;
    assert!(matches!(result, Err(BootstrapError::HasAdministrator(_))), "{result:?}");
    assert_eq!(stack.scan(&stack.deps.config.tables.members).await.len(), before);
    assert!(stack.users_with_phone("+447700900802").await.is_empty());
}

/// Two operators bootstrapping one new organisation at the same moment: each run alone
/// finds no administrator, so a check alone would let both make one. The bootstrap record
/// (a conditional write) lets one through; the other is refused, and the organisation has
/// exactly one administrator. Run many times, each on a fresh organisation.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_bootstraps_racing_make_one_first_administrator() {
    let stack = TestStack::empty().await;
    for round in 0..8 {
        let org = format!("org-race-{round}");
        let first = invitation("Nora First", &format!("+4477009081{round}"), None).unwrap();
        let second = invitation("Otto Second", &format!("+4477009082{round}"), None).unwrap();
        let (a, b) = tokio::join!(
            tokio::spawn({
                let (deps, org) = (stack.deps.clone(), org.clone());
                async move { bootstrap_admin(&deps, &org, &first).await }
            }),
            tokio::spawn({
                let (deps, org) = (stack.deps.clone(), org.clone());
                async move { bootstrap_admin(&deps, &org, &second).await }
            }),
        );
        let outcomes = [a.unwrap(), b.unwrap()];
        let made = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
        assert_eq!(made, 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes.iter().any(|o| matches!(o, Err(BootstrapError::AtWork(_) | BootstrapError::HasAdministrator(_)))),
            "{outcomes:?}"
        );
        let members = stack.deps.store.all_members().await.unwrap();
        let admins = members.iter().filter(|m| m.org_id == org && m.role == shared::domain::Role::Admin).count();
        assert_eq!(admins, 1, "round {round}: one first administrator");
    }
    // Once made, later runs are refused as before.
    let again = bootstrap_admin(&stack.deps, "org-race-0", &invitation("Late", "+447700900830", None).unwrap()).await;
    assert!(matches!(again, Err(BootstrapError::HasAdministrator(_))), "{again:?}");
}

#[test]
fn bad_input_is_refused_before_anything_is_called() {
    assert!(matches!(invitation("", "+447700900803", None), Err(BootstrapError::Invalid(_))));
    assert!(matches!(invitation("Ann", "07700 900803", None), Err(BootstrapError::Invalid(_))));
    assert!(matches!(invitation("Ann", "+447700900803", Some("not-an-email")), Err(BootstrapError::Invalid(_))));
    assert!(invite_user::bootstrap::valid_org_id("org with spaces").is_err());
    assert!(invite_user::bootstrap::valid_org_id(&"o".repeat(65)).is_err());
}

/// The script an operator runs (make bootstrap-admin runs it), here with a local stack's
/// environment file in place of a deployed stack's outputs.
#[tokio::test]
async fn the_operators_script_bootstraps_and_then_refuses_a_second_time() {
    let stack = TestStack::empty().await;
    let env_file = std::env::temp_dir().join(format!("members-bootstrap-{}.env", uuid::Uuid::new_v4()));
    std::fs::write(&env_file, stack.provisioned.env_file()).unwrap();
    let run = |phone: &str| {
        let mut command = members_tests::as_from_a_shell("bash", &[]);
        command.arg("scripts/deploy/bootstrap-admin.sh");
        command.env("ENV_FILE", &env_file).env("ORG", ORG).env("NAME", "Nora Founder").env("PHONE", phone);
        command.output().expect("bash runs the script")
    };

    let first = run("+447700900804");
    let second = run("+447700900805");
    let _ = std::fs::remove_file(&env_file);

    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&first.stdout).expect("the new member as JSON");
    let user_id = printed["userId"].as_str().unwrap();
    assert_eq!(stack.member(ORG, user_id).await.unwrap().role, Role::Admin);
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("already has an administrator"));
    assert!(stack.users_with_phone("+447700900805").await.is_empty());
}

/// `make bootstrap-admin` against a deployed stack: every variable comes from the stack's
/// outputs, read with `sam list stack-outputs` (a stub `sam` here, printing what the
/// template's outputs hold for the test's stack), in an environment holding nothing of the
/// functions' own: only what an operator's shell has (credentials, region, endpoint).
#[tokio::test]
async fn the_operators_script_reads_every_variable_from_the_stacks_outputs() {
    let stack = TestStack::empty().await;
    let outputs: Vec<serde_json::Value> = [
        ("UserPoolId", "USER_POOL_ID"),
        ("TokenIssuer", "TOKEN_ISSUER"),
        ("InvitationValidityDays", "INVITATION_VALIDITY_DAYS"),
        ("MembersTableName", "MEMBERS_TABLE"),
        ("AuditTableName", "AUDIT_TABLE"),
        ("ContactsTableName", "CONTACTS_TABLE"),
        ("IdempotencyTableName", "IDEMPOTENCY_TABLE"),
        ("SearchTableName", "SEARCH_TABLE"),
        ("JobsTableName", "JOBS_TABLE"),
        ("OrgsTableName", "ORGS_TABLE"),
        ("QuotasTableName", "QUOTAS_TABLE"),
        ("AdminGroupName", "ADMIN_GROUP"),
        ("FunctionTimeoutSeconds", "FUNCTION_TIMEOUT_SECONDS"),
    ]
    .iter()
    .map(|(output, variable)| serde_json::json!({"OutputKey": output, "OutputValue": stack.provisioned.var(variable)}))
    .collect();
    let stub = std::env::temp_dir().join(format!("members-sam-stub-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&stub).unwrap();
    let called = stub.join("called");
    std::fs::write(stub.join("outputs.json"), serde_json::to_string(&outputs).unwrap()).unwrap();
    let script =
        format!("#!/bin/sh\necho \"$*\" > '{}'\ncat '{}'\n", called.display(), stub.join("outputs.json").display());
    std::fs::write(stub.join("sam"), script).unwrap();
    std::fs::set_permissions(stub.join("sam"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    // An operator's shell: credentials, region and endpoint, nothing of the functions' own.
    let operator = ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
    let mut command = members_tests::as_from_a_shell("bash", &operator);
    command.arg("scripts/deploy/bootstrap-admin.sh");
    command.env("PATH", format!("{}:{}", stub.display(), std::env::var("PATH").unwrap()));
    command.env("ORG", "org-from-outputs").env("NAME", "Nora Founder").env("PHONE", "+447700900806");
    let output = command.output().expect("bash runs the script");
    let arguments = std::fs::read_to_string(&called).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&stub);

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(arguments.starts_with("list stack-outputs --stack-name org-members"), "{arguments}");
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("the new member as JSON");
    let member = stack.member("org-from-outputs", printed["userId"].as_str().unwrap()).await.unwrap();
    assert_eq!(member.role, Role::Admin);
}

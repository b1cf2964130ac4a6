//! `make bootstrap-admin`: the first administrator of an organisation, through the invite
//! path's own code, against the emulator: by the function, and by the script an operator runs.

use invite_user::bootstrap::{BootstrapError, OPERATOR_ID, OPERATOR_NAME, bootstrap_admin, invitation};
use members_tests::seed::ACME;
use members_tests::{TestStack, fixture, workspace_root};
use shared::domain::{AuditAction, MemberStatus, Role};
use std::collections::BTreeSet;
use std::process::Command;

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
        let mut command = Command::new("bash");
        command.current_dir(workspace_root()).arg("scripts/bootstrap-admin.sh").env_clear();
        for name in [
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
        ] {
            if let Ok(value) = std::env::var(name) {
                command.env(name, value);
            }
        }
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

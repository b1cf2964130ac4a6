//! The Members page's story end to end: invite, see, cancel, invite again.

use members_tests::seed::ACME;
use members_tests::{TestStack, fixture, fixture_with, json_body, retarget};
use serde_json::Value;
use shared::domain::AuditAction;

fn row<'a>(list: &'a Value, user_id: &str) -> Option<&'a Value> {
    list["members"].as_array().unwrap().iter().find(|m| m["userId"] == user_id)
}

#[tokio::test]
async fn invite_list_cancel_and_invite_again() {
    let stack = TestStack::seeded().await;
    let deps = &stack.deps;

    let invited = invite_user::handle(deps, fixture("invite-user/admin-invites-member.json")).await.unwrap();
    assert_eq!(invited.status(), 201);
    let user_id = json_body(&invited)["userId"].as_str().unwrap().to_owned();

    let listed = json_body(&list_members::handle(deps, fixture("list-members/admin-lists.json")).await.unwrap());
    let frank = row(&listed, &user_id).expect("Frank is listed");
    assert_eq!(frank["status"], "unverified");
    assert_eq!(frank["actions"], serde_json::json!(["resend-invitation", "cancel-invitation", "change-role"]));

    let cancel = fixture_with("cancel-invitation/admin-cancels-unverified.json", |e| retarget(e, &user_id));
    assert_eq!(cancel_invitation::handle(deps, cancel).await.unwrap().status(), 204);
    let listed = json_body(&list_members::handle(deps, fixture("list-members/admin-lists.json")).await.unwrap());
    assert!(row(&listed, &user_id).is_none(), "Frank is gone from the list");
    let canceled = stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await;
    assert_eq!(canceled.len(), 1);
    assert_eq!(canceled[0].target_id, user_id);
    assert_eq!(canceled[0].target_name, "Frank Newcomer");
    assert!(!stack.cognito_user_exists(&user_id).await);

    let again = invite_user::handle(deps, fixture("invite-user/admin-invites-member.json")).await.unwrap();
    assert_eq!(again.status(), 201, "{}", json_body(&again));
    let new_id = json_body(&again)["userId"].as_str().unwrap().to_owned();
    assert_ne!(new_id, user_id, "a new user, a new id");
    let listed = json_body(&list_members::handle(deps, fixture("list-members/admin-lists.json")).await.unwrap());
    assert_eq!(row(&listed, &new_id).expect("listed again")["status"], "unverified");
}

#[tokio::test]
async fn invite_resend_resend_cancel_and_read_the_log_tab() {
    let stack = TestStack::seeded().await;
    let deps = &stack.deps;
    let invited = invite_user::handle(deps, fixture("invite-user/admin-invites-member.json")).await.unwrap();
    let user_id = json_body(&invited)["userId"].as_str().unwrap().to_owned();
    let resend = || fixture_with("resend-invitation/admin-resends-invitation.json", |e| retarget(e, &user_id));

    let first = resend_invitation::handle(deps, resend()).await.unwrap();
    let second = resend_invitation::handle(deps, resend()).await.unwrap();
    let cancel = fixture_with("cancel-invitation/admin-cancels-unverified.json", |e| retarget(e, &user_id));
    let canceled = cancel_invitation::handle(deps, cancel).await.unwrap();
    let log = json_body(&list_audit_log::handle(deps, fixture("list-audit-log/admin-reads-log.json")).await.unwrap());

    assert_eq!((first.status().as_u16(), second.status().as_u16(), canceled.status().as_u16()), (202, 429, 204));
    let franks: Vec<(&str, &str, &str)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"]["id"] == user_id.as_str())
        .map(|e| {
            (e["action"].as_str().unwrap(), e["actor"]["name"].as_str().unwrap(), e["target"]["name"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        franks,
        [
            ("Admin canceled user invite", "Ada Admin", "Frank Newcomer"),
            ("Admin resent user invite", "Ada Admin", "Frank Newcomer"),
            ("Admin invited user", "Ada Admin", "Frank Newcomer"),
        ],
        "newest first"
    );
}

#[tokio::test]
async fn every_audit_item_carries_the_contracts_attributes() {
    let stack = TestStack::seeded().await;
    let deps = &stack.deps;
    let invited = invite_user::handle(deps, fixture("invite-user/admin-invites-member.json")).await.unwrap();
    let user_id = json_body(&invited)["userId"].as_str().unwrap().to_owned();
    let resend = fixture_with("resend-invitation/admin-resends-invitation.json", |e| retarget(e, &user_id));
    assert_eq!(resend_invitation::handle(deps, resend).await.unwrap().status(), 202);
    let cancel = fixture_with("cancel-invitation/admin-cancels-unverified.json", |e| retarget(e, &user_id));
    assert_eq!(cancel_invitation::handle(deps, cancel).await.unwrap().status(), 204);

    // Read as any DynamoDB client would, not through the store's own parser.
    let items = stack.scan(&deps.config.tables.audit).await;
    let franks: Vec<_> = items.iter().filter(|i| i["targetId"].as_s().ok() == Some(&user_id)).collect();
    assert_eq!(franks.len(), 3);
    for item in &items {
        for attribute in ["orgId", "action", "occurredAt", "actorId", "targetId", "requestId", "sourceIp"] {
            let value = item.get(attribute).and_then(|v| v.as_s().ok());
            assert!(value.is_some_and(|v| !v.is_empty()), "{attribute} missing from {item:?}");
        }
        assert!(shared::time::parse(item["occurredAt"].as_s().unwrap()).is_some());
    }
    let actions: std::collections::BTreeSet<&str> =
        franks.iter().map(|i| i["action"].as_s().unwrap().as_str()).collect();
    assert_eq!(
        actions,
        ["Admin canceled user invite", "Admin invited user", "Admin resent user invite"].into_iter().collect()
    );
}

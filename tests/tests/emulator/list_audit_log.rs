//! `GET /audit-log` against the emulator, through the real SDK clients.

use lambda_http::{Body, Request, Response};
use list_audit_log::handle;
use members_tests::faults::Calls;
use members_tests::seed::{ACME, ACME_ADMIN, ACME_INVITEE, GLOBEX};
use members_tests::{TestStack, fixture, json_body, with_query};
use serde_json::Value;
use shared::Deps;
use shared::domain::{AuditAction, AuditEntry};
use shared::ports::prelude::*;

async fn call(deps: &Deps, request: Request) -> Response<Body> {
    let response = handle(deps, request).await.expect("the handler answers every request");
    members_tests::record("GET", "/audit-log", &response);
    response
}

#[tokio::test]
async fn an_admin_reads_the_log_newest_first_in_the_contract_shape() {
    let stack = TestStack::seeded().await;
    let canceled = cancel_invitation::handle(&stack.deps, fixture("cancel-invitation/admin-cancels-unverified.json"))
        .await
        .unwrap();
    assert_eq!(canceled.status(), 204);

    let response = call(&stack.deps, fixture("list-audit-log/admin-reads-log.json")).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = json_body(&response);
    let entries = body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 8, "five seeded invitations, two acceptances and the cancel");
    let newest = &entries[0];
    assert_eq!(newest["action"], "Admin canceled user invite");
    assert_eq!(newest["actor"], serde_json::json!({"id": ACME_ADMIN.sub, "name": "Ada Admin"}));
    assert_eq!(newest["target"], serde_json::json!({"id": ACME_INVITEE.user_id, "name": "Carol Invitee"}));
    assert_eq!(newest["requestId"], "cAnc1AAAIAMEbQ=");
    assert_eq!(newest["sourceIp"], "203.0.113.24");
    assert!(newest["userAgent"].as_str().unwrap().contains("AdminConsole"));
    assert!(shared::time::parse(newest["occurredAt"].as_str().unwrap()).is_some());
    let keys: Vec<&str> = newest.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 8, "{keys:?}");
    assert!(entries[1..].iter().all(|e| e["action"] == "Admin invited user" || e["action"] == "User accepted invite"));
    let accepted: Vec<&Value> = entries.iter().filter(|e| e["action"] == "User accepted invite").collect();
    assert_eq!(accepted.len(), 2, "Ada and Bob verified, once each");
    assert!(accepted.iter().all(|e| e["actor"]["id"] == e["target"]["id"]), "the member accepted their own invitation");
    assert_eq!(body["nextCursor"], Value::Null);
}

#[tokio::test]
async fn only_administrators_read_their_own_organisations_log() {
    let stack = TestStack::seeded().await;

    let member = call(&stack.deps, fixture("list-audit-log/member-reads-log.json")).await;
    let anonymous = call(&stack.deps, fixture("list-audit-log/no-authorizer.json")).await;
    let globex = json_body(&call(&stack.deps, fixture("list-audit-log/other-org-admin-reads-log.json")).await);

    assert_eq!(member.status(), 403);
    assert_eq!(json_body(&member)["code"], "forbidden");
    assert_eq!(anonymous.status(), 401);
    let targets: Vec<&str> =
        globex["entries"].as_array().unwrap().iter().map(|e| e["target"]["name"].as_str().unwrap()).collect();
    assert_eq!(targets, ["Hank Invitee", "Gus Globex", "Gus Globex"], "Hank invited; Gus accepted, invited");
}

#[tokio::test]
async fn bad_parameters_and_forged_or_foreign_cursors_are_refused() {
    let stack = TestStack::seeded().await;
    for case in ["bad-limit", "forged-cursor"] {
        let response = call(&stack.deps, fixture(&format!("list-audit-log/{case}.json"))).await;
        assert_eq!(response.status(), 400, "{case}");
        assert_eq!(json_body(&response)["code"], "bad-request");
    }
    let acme = json_body(&call(&stack.deps, fixture("list-audit-log/admin-pages-by-two.json")).await);
    let cursor = acme["nextCursor"].as_str().expect("Acme has more than two entries");
    let foreign =
        call(&stack.deps, with_query("list-audit-log/other-org-admin-reads-log.json", &[("cursor", cursor)])).await;
    assert_eq!(foreign.status(), 400);
    let unknown = call(&stack.deps, with_query("list-audit-log/admin-reads-log.json", &[("since", "yesterday")])).await;
    assert_eq!(unknown.status(), 400);
}

#[tokio::test]
async fn a_few_hundred_entries_page_completely_newest_first_one_query_a_page() {
    let stack = TestStack::with_callers().await;
    let start = shared::time::parse("2026-11-26T09:00:00Z").unwrap();
    let mut written = Vec::new();
    for (org, count) in [(ACME, 320), (GLOBEX, 45)] {
        for i in 0..count {
            let entry = AuditEntry {
                id: uuid::Uuid::new_v4().to_string(),
                org_id: org.into(),
                action: [AuditAction::Invited, AuditAction::ResentInvite, AuditAction::CanceledInvite][i % 3],
                occurred_at: start + chrono::Duration::milliseconds(i as i64 * 1500),
                actor_id: "admin".into(),
                actor_name: "Admin".into(),
                target_id: format!("user-{i}"),
                target_name: format!("User {i}"),
                request_id: format!("req-{i}"),
                source_ip: "203.0.113.1".into(),
                user_agent: "test".into(),
                role_change: None,
            };
            stack.deps.store.append_audit(&entry).await.unwrap();
            if org == ACME {
                written.push(entry.id);
            }
        }
    }
    let dynamo = Calls::new();
    let deps = stack.instance().dynamo(dynamo.clone()).deps();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut query = vec![("limit", "50")];
        if let Some(cursor) = &cursor {
            query.push(("cursor", cursor));
        }
        dynamo.reset();
        let body = json_body(&call(&deps, with_query("list-audit-log/admin-reads-log.json", &query)).await);
        assert_eq!(dynamo.count("Query"), 1);
        assert_eq!(dynamo.count("GetItem"), 1, "the caller's membership");
        assert_eq!(dynamo.total(), 2);
        pages += 1;
        seen.extend(body["entries"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }

    written.reverse();
    assert_eq!(pages, 7);
    assert_eq!(seen, written, "every Acme entry once, newest first, no Globex entry");
}

/// The audit table's append-only promise rests on the write's condition (IAM cannot forbid
/// a PutItem that overwrites): a second write of an entry's key changes nothing.
#[tokio::test]
async fn an_entry_once_written_is_never_overwritten() {
    let stack = TestStack::seeded().await;
    let store = &stack.deps.store;
    let original = stack.audit_entries(members_tests::seed::ACME).await.into_iter().next().expect("the seed's entries");
    let forged = shared::domain::AuditEntry { actor_name: "Somebody Else".into(), ..original.clone() };

    store.append_audit(&forged).await.expect("answered as written already");

    let after = stack.audit_entries(members_tests::seed::ACME).await;
    let kept = after.iter().find(|e| e.id == original.id).unwrap();
    assert_eq!(kept, &original);
}

/// The Log tab and the Members page read consistently (DynamoDB's default is eventually
/// consistent; the emulator is always consistent, so this asserts what is sent).
#[tokio::test]
async fn the_log_and_the_members_page_ask_for_consistent_reads() {
    let stack = TestStack::seeded().await;
    let calls = members_tests::faults::Calls::new();
    let deps = stack.instance().dynamo(calls.clone()).deps();

    let log = list_audit_log::handle(&deps, fixture("list-audit-log/admin-reads-log.json")).await.unwrap();
    let members = list_members::handle(&deps, fixture("list-members/admin-lists.json")).await.unwrap();

    assert_eq!((log.status().as_u16(), members.status().as_u16()), (200, 200));
    let queries = calls.requests("Query");
    assert_eq!(queries.len(), 2);
    assert!(queries.iter().all(|q| q["ConsistentRead"] == true), "{queries:?}");
}

/// One member's whole history (also once cancelled), one action's entries, both at once:
/// each page one query, on the index the template defines for it.
#[tokio::test]
async fn the_log_filters_by_action_and_by_member_also_after_a_cancel() {
    let stack = TestStack::seeded().await;
    let resent = resend_invitation::handle(&stack.deps, fixture("resend-invitation/admin-resends-invitation.json"))
        .await
        .unwrap();
    assert_eq!(resent.status(), 202);
    let canceled = cancel_invitation::handle(&stack.deps, fixture("cancel-invitation/admin-cancels-unverified.json"))
        .await
        .unwrap();
    assert_eq!(canceled.status(), 204);
    let dynamo = Calls::new();
    let deps = stack.instance().dynamo(dynamo.clone()).deps();
    let actions = |body: &Value| -> Vec<String> {
        body["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
    };

    let history = json_body(&call(&deps, fixture("list-audit-log/admin-reads-member-history.json")).await);
    assert_eq!(dynamo.requests("Query")[0]["IndexName"], "byTarget");
    let only_canceled = json_body(&call(&deps, fixture("list-audit-log/admin-filters-canceled.json")).await);
    assert_eq!(dynamo.requests("Query")[1]["IndexName"], "byAction");
    let carols_resends = json_body(
        &call(
            &deps,
            with_query(
                "list-audit-log/admin-reads-log.json",
                &[("action", "resent"), ("targetId", ACME_INVITEE.user_id)],
            ),
        )
        .await,
    );
    let other_orgs_member = json_body(
        &call(
            &deps,
            with_query("list-audit-log/other-org-admin-reads-log.json", &[("targetId", ACME_INVITEE.user_id)]),
        )
        .await,
    );
    assert_eq!(dynamo.count("Query"), 4);
    assert_eq!(dynamo.count("GetItem"), 4, "the caller's membership, a request");
    assert_eq!(dynamo.total(), 8, "one query a page, nothing else");

    assert_eq!(actions(&history), ["Admin canceled user invite", "Admin resent user invite", "Admin invited user"]);
    assert!(history["entries"].as_array().unwrap().iter().all(|e| e["target"]["id"] == ACME_INVITEE.user_id));
    assert_eq!(actions(&only_canceled), ["Admin canceled user invite"]);
    assert_eq!(only_canceled["entries"][0]["target"]["name"], "Carol Invitee");
    assert_eq!(actions(&carols_resends), ["Admin resent user invite"]);
    assert!(other_orgs_member["entries"].as_array().unwrap().is_empty(), "another organisation's history stays hidden");
}

#[tokio::test]
async fn filtered_pages_follow_their_cursor_and_refuse_another_filters() {
    let stack = TestStack::with_callers().await;
    let start = shared::time::parse("2026-11-26T09:00:00Z").unwrap();
    let mut canceled = Vec::new();
    for i in 0..120 {
        let entry = AuditEntry {
            id: uuid::Uuid::new_v4().to_string(),
            org_id: ACME.into(),
            action: [AuditAction::Invited, AuditAction::ResentInvite, AuditAction::CanceledInvite][i % 3],
            occurred_at: start + chrono::Duration::milliseconds(i as i64 * 1500),
            actor_id: "admin".into(),
            actor_name: "Admin".into(),
            target_id: format!("user-{}", i % 4),
            target_name: format!("User {}", i % 4),
            request_id: format!("req-{i}"),
            source_ip: "203.0.113.1".into(),
            user_agent: "test".into(),
            role_change: None,
        };
        stack.deps.store.append_audit(&entry).await.unwrap();
        if entry.action == AuditAction::CanceledInvite {
            canceled.push(entry.id);
        }
    }
    canceled.reverse();
    let dynamo = Calls::new();
    let deps = stack.instance().dynamo(dynamo.clone()).deps();
    let case = "list-audit-log/admin-reads-log.json";

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("limit", "7"), ("action", "canceled")];
        if let Some(cursor) = &cursor {
            query.push(("cursor", cursor));
        }
        dynamo.reset();
        let body = json_body(&call(&deps, with_query(case, &query)).await);
        assert_eq!(dynamo.total(), 2, "the caller's membership and one query");
        seen.extend(body["entries"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match body["nextCursor"].as_str() {
            Some(next) if seen.len() == 14 => {
                for other in [
                    vec![("cursor", next)],
                    vec![("cursor", next), ("action", "invited")],
                    vec![("cursor", next), ("targetId", "user-1")],
                ] {
                    assert_eq!(call(&deps, with_query(case, &other)).await.status(), 400, "{other:?}");
                }
                cursor = Some(next.to_owned());
            }
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, canceled, "every canceled entry once, newest first");

    let bad = call(&stack.deps, fixture("list-audit-log/bad-action.json")).await;
    assert_eq!(bad.status(), 400);
    assert_eq!(json_body(&bad)["code"], "bad-request");
    for query in [[("targetId", "a b")], [("action", "Canceled")], [("action", "")]] {
        assert_eq!(call(&stack.deps, with_query(case, &query)).await.status(), 400, "{query:?}");
    }
}

/// Entries written before the Log's action index carry no `orgAction`, so the action filter
/// misses them. `make migrate`'s backfill gives it to them, a page at a time, keeping its
/// position in a file between runs: stopped after one page and run again, it goes on from
/// there; run once more, it changes nothing.
#[tokio::test]
async fn entries_from_before_the_action_index_are_found_by_it_after_the_backfill() {
    let stack = TestStack::seeded().await;
    let deps = &stack.deps;
    let client = deps.store.client();
    let old = |i: usize| AuditEntry {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: ACME.into(),
        action: AuditAction::CanceledInvite,
        occurred_at: shared::time::parse("2025-01-01T09:00:00Z").unwrap() + chrono::Duration::minutes(i as i64),
        actor_id: ACME_ADMIN.sub.into(),
        actor_name: ACME_ADMIN.name.into(),
        target_id: format!("old-{i}"),
        target_name: format!("Old Invitee {i}"),
        request_id: format!("old-{i}"),
        source_ip: "203.0.113.1".into(),
        user_agent: "test".into(),
        role_change: None,
    };
    for i in 0..5 {
        let mut item = shared::store::audit_item(&old(i));
        item.remove("orgAction");
        client.put_item().table_name(&deps.config.tables.audit).set_item(Some(item)).send().await.unwrap();
    }
    let canceled = |deps: &Deps| {
        let deps = deps.clone();
        async move {
            let page = json_body(
                &call(
                    &deps,
                    with_query("list-audit-log/admin-reads-log.json", &[("action", "canceled"), ("limit", "100")]),
                )
                .await,
            );
            page["entries"].as_array().unwrap().len()
        }
    };
    assert_eq!(canceled(deps).await, 0, "the filter misses them");
    let position = std::env::temp_dir().join(format!("backfill-{}.position", uuid::Uuid::new_v4()));

    // Two items a page: the first run stops after one page, and keeps where it stopped.
    let first = list_audit_log::backfill::backfill(&deps.store, &position, 2, Some(1)).await.unwrap();
    assert!(position.exists(), "the position is kept");
    let rest = list_audit_log::backfill::backfill(&deps.store, &position, 2, None).await.unwrap();
    assert!(!position.exists(), "done: no position left");
    assert_eq!(first.updated + rest.updated, 5);
    assert!(first.updated <= 2 && rest.pages > 1, "{first:?} {rest:?}");
    assert_eq!(canceled(deps).await, 5, "the filter finds them");

    let again = list_audit_log::backfill::backfill(&deps.store, &position, 2, None).await.unwrap();
    assert_eq!(again.updated, 0, "idempotent");
    let stored = stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await;
    assert_eq!(stored.len(), 5, "no entry written twice or lost");
}

/// The script an operator runs after a deploy (make migrate runs it), here with a local
/// stack's environment file: it backfills, prints its totals, and run again changes nothing.
#[tokio::test]
async fn the_operators_migrate_script_backfills_and_a_second_run_changes_nothing() {
    let stack = TestStack::seeded().await;
    let deps = &stack.deps;
    let mut item = shared::store::audit_item(&AuditEntry {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: ACME.into(),
        action: AuditAction::ResentInvite,
        occurred_at: shared::time::parse("2025-01-01T09:00:00Z").unwrap(),
        actor_id: ACME_ADMIN.sub.into(),
        actor_name: ACME_ADMIN.name.into(),
        target_id: "old-1".into(),
        target_name: "Old Invitee".into(),
        request_id: "old-1".into(),
        source_ip: "203.0.113.1".into(),
        user_agent: "test".into(),
        role_change: None,
    });
    item.remove("orgAction");
    deps.store.client().put_item().table_name(&deps.config.tables.audit).set_item(Some(item)).send().await.unwrap();
    let env_file = std::env::temp_dir().join(format!("members-migrate-{}.env", uuid::Uuid::new_v4()));
    std::fs::write(&env_file, stack.provisioned.env_file()).unwrap();
    let positions = std::env::temp_dir().join(format!("members-migrate-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&positions).unwrap();
    let run = || {
        let mut command = members_tests::as_from_a_shell("bash", &[]);
        command.arg("scripts/deploy/migrate.sh").env("ENV_FILE", &env_file).env("POSITION_DIR", &positions);
        command.output().expect("bash runs the script")
    };
    // One totals line a migration: the Log's action, then the search terms.
    let totals = |output: &std::process::Output| -> Vec<Value> {
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect()
    };

    let first = totals(&run());
    let second = totals(&run());
    let _ = std::fs::remove_file(&env_file);

    let members = stack.deps.store.all_members().await.unwrap().len();
    assert_eq!(first.len(), 2, "{first:?}");
    assert_eq!(first[0]["updated"], 1, "{first:?}");
    assert_eq!(first[1]["updated"], members, "every membership's terms written: {first:?}");
    assert_eq!(second[0]["updated"], 0, "{second:?}");
    assert_eq!(second[1]["unreadable"], 0, "{second:?}");
    assert!(std::fs::read_dir(&positions).unwrap().next().is_none(), "done: no position left");
    let _ = std::fs::remove_dir(&positions);
}

/// Retention: each entry is written with its TTL (`expiresAt`, from when it occurred), and
/// one past it is in no page (unfiltered, by action, by member) though DynamoDB, whose TTL
/// deletion lags by up to days, still holds it; moto deletes nothing by TTL, so the item
/// is read back to show it is there.
#[tokio::test]
async fn an_entry_past_its_retention_is_in_no_page_while_the_table_still_holds_it() {
    let stack = TestStack::seeded().await;
    let deps = &stack.deps;
    assert_eq!(deps.config.audit_retention, Some(chrono::Duration::days(365)), "the template's default");
    let now = shared::time::now();
    let entry = |days_ago: i64, target: &str| AuditEntry {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: ACME.into(),
        action: AuditAction::ResentInvite,
        occurred_at: now - chrono::Duration::days(days_ago),
        actor_id: ACME_ADMIN.sub.into(),
        actor_name: ACME_ADMIN.name.into(),
        target_id: target.into(),
        target_name: target.into(),
        request_id: format!("retention-{days_ago}"),
        source_ip: "203.0.113.1".into(),
        user_agent: "test".into(),
        role_change: None,
    };
    let (expired, kept) = (entry(366, "gone-1"), entry(364, "kept-1"));
    deps.store.append_audit(&expired).await.unwrap();
    deps.store.append_audit(&kept).await.unwrap();
    let forever = entry(400, "kept-2");
    deps.store.clone().retaining_audit(None).append_audit(&forever).await.unwrap();

    let items = stack.scan(&deps.config.tables.audit).await;
    let expires_of = |entry: &AuditEntry| {
        let item = items.iter().find(|item| item["id"].as_s().unwrap() == &entry.id).expect("the item is stored");
        item.get("expiresAt").map(|n| n.as_n().unwrap().parse::<i64>().unwrap())
    };
    assert_eq!(expires_of(&kept), Some((kept.occurred_at + chrono::Duration::days(365)).timestamp()));
    assert_eq!(expires_of(&expired), Some((expired.occurred_at + chrono::Duration::days(365)).timestamp()));
    assert_eq!(expires_of(&forever), None, "0 days: no TTL, kept forever");

    let shown = |query: &[(&str, &str)]| {
        let deps = deps.clone();
        let query: Vec<(String, String)> = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        async move {
            let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let body = json_body(&call(&deps, with_query("list-audit-log/admin-reads-log.json", &query)).await);
            body["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["target"]["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    for query in [vec![("limit", "100")], vec![("limit", "100"), ("action", "resent")]] {
        let targets = shown(&query).await;
        assert!(
            targets.contains(&"kept-1".to_owned()) && targets.contains(&"kept-2".to_owned()),
            "{query:?}: {targets:?}"
        );
        assert!(!targets.contains(&"gone-1".to_owned()), "{query:?}: {targets:?}");
    }
    assert!(shown(&[("targetId", "gone-1")]).await.is_empty(), "nor in the member's own history");
    assert_eq!(shown(&[("targetId", "kept-1")]).await, ["kept-1"]);
}

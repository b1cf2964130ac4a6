//! `make bench-scale`: what a request or a reconciler pass costs in AWS calls and DynamoDB
//! items read, with 1 000 and with 10 000 members in one organisation (and as many users in
//! the pool), and the ratio between the two. Cost should follow the answer, not the
//! organisation: a ratio near 1.0. The figures are counted from the real SDK clients'
//! requests and the emulator's answers (`ScannedCount`, items got), not timed.
//!
//! The organisation is seeded through the store's own code (`put_member_record`), the pool
//! through `AdminCreateUser` (messages suppressed), on a stack of its own
//! (`AWS_ENDPOINT_URL`). `BENCH_SIZES=100,1000` measures other sizes.

use members_tests::faults::Calls;
use members_tests::seed::{ACME, ACME_ADMIN};
use members_tests::{TestStack, fixture, json_body, with_query};
use shared::domain::{AuditAction, AuditEntry, UserId};
use shared::ports::Cooldown;
use shared::ports::prelude::*;

/// What one measured step cost.
#[derive(Debug, Clone, Copy)]
struct Cost {
    calls: usize,
    items: usize,
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("BENCH_SIZES: sizes separated by commas"))
        .collect();
    let mut table: Vec<(&'static str, Vec<Cost>)> = Vec::new();
    for &size in &sizes {
        let started = std::time::Instant::now();
        let rows = measure(size).await;
        eprintln!("bench-scale: {size} members measured in {:.0} s", started.elapsed().as_secs_f64());
        for (index, (name, cost)) in rows.into_iter().enumerate() {
            if table.len() <= index {
                table.push((name, Vec::new()));
            }
            table[index].1.push(cost);
        }
    }
    print_table(&sizes, &table);
}

fn print_table(sizes: &[usize], table: &[(&str, Vec<Cost>)]) {
    let mut header = format!("{:<44}", "members in the organisation (users in the pool)");
    for size in sizes {
        header.push_str(&format!(" | {:>6} calls {:>6} items", size, ""));
    }
    header.push_str(" | ratio calls, items (last / first)");
    println!("{header}");
    for (name, costs) in table {
        let mut line = format!("{name:<44}");
        for cost in costs {
            line.push_str(&format!(" | {:>12} {:>12}", cost.calls, cost.items));
        }
        let (first, last) = (costs[0], costs[costs.len() - 1]);
        let ratio =
            |a: usize, b: usize| if a == 0 { if b == 0 { 1.0 } else { f64::INFINITY } } else { b as f64 / a as f64 };
        line.push_str(&format!(" | {:.2}, {:.2}", ratio(first.calls, last.calls), ratio(first.items, last.items)));
        println!("{line}");
    }
}

async fn measure(size: usize) -> Vec<(&'static str, Cost)> {
    let stack = TestStack::seeded().await;
    let seeded = stack.deps.store.all_members().await.expect("the seed").iter().filter(|m| m.org_id == ACME).count();
    seed_members(&stack, size.saturating_sub(seeded)).await;
    seed_pool(&stack, size.saturating_sub(stack.deps.directory.all_users().await.expect("the pool").len())).await;

    let (cognito, dynamo) = (Calls::new(), Calls::new());
    let watched = stack.instance().cognito(cognito.clone()).dynamo(dynamo.clone()).deps();
    let reset = || {
        cognito.reset();
        dynamo.reset();
    };
    let cost = || Cost { calls: cognito.total() + dynamo.total(), items: dynamo.items_read() };
    let mut rows = Vec::new();

    reset();
    let page = list_members::handle(&watched, fixture("list-members/admin-lists.json")).await.unwrap();
    assert_eq!(page.status(), 200);
    rows.push(("a first page (50)", cost()));

    // The console pages a search until no cursor comes back.
    for (name, q, found) in
        [("a search matching one member: every page", "carol", 1), ("a search matching nothing: every page", "zzzz", 0)]
    {
        reset();
        let (mut cursor, mut shown): (Option<String>, usize) = (None, 0);
        loop {
            let mut query = vec![("q", q)];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor.as_str()));
            }
            let page =
                list_members::handle(&watched, with_query("list-members/admin-lists.json", &query)).await.unwrap();
            assert_eq!(page.status(), 200);
            let body = json_body(&page);
            shown += body["members"].as_array().map_or(0, Vec::len);
            match body["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(shown, found, "{q}");
        rows.push((name, cost()));
    }

    let later = shared::time::now()
        + chrono::Duration::from_std(stack.deps.config.lease).unwrap()
        + chrono::Duration::seconds(1);
    reset();
    let idle = reconciler::reconcile(&watched, later).await.unwrap();
    assert_eq!(idle.checked.members + idle.checked.reservations, 0);
    rows.push(("a reconciler pass, nothing pending", cost()));

    // Ten resends whose entries were never written, begun an hour ago.
    let begun = shared::time::now() - chrono::Duration::hours(1);
    for index in 0..10 {
        let user_id = UserId::parse(&format!("bulk-{index:06}")).unwrap();
        let member = stack.deps.store.get_member(ACME, &user_id).await.unwrap().expect("a bulk member");
        let entry = AuditEntry {
            id: uuid::Uuid::new_v4().to_string(),
            org_id: ACME.into(),
            action: AuditAction::ResentInvite,
            occurred_at: begun,
            actor_id: ACME_ADMIN.sub.into(),
            actor_name: ACME_ADMIN.name.into(),
            target_id: member.user_id.to_string(),
            target_name: member.name.clone(),
            request_id: format!("bench-{index}"),
            source_ip: "203.0.113.1".into(),
            user_agent: "bench-scale".into(),
            role_change: None,
        };
        let claimed = stack.deps.store.claim_resend(&member, begun, std::time::Duration::from_secs(60), &entry).await;
        assert_eq!(claimed.unwrap(), Cooldown::Claimed);
    }
    reset();
    let busy = reconciler::reconcile(&watched, later).await.unwrap();
    assert_eq!(busy.repaired.resends_logged, 10);
    rows.push(("a reconciler pass, 10 lapsed resends", cost()));
    rows
}

/// `count` memberships more in the organisation, several writes at a time.
async fn seed_members(stack: &TestStack, count: usize) {
    let workers = 8;
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..workers {
        let deps = stack.deps.clone();
        tasks.spawn(async move {
            for index in (worker..count).step_by(workers) {
                members_tests::seed::put_bulk_member(&deps, ACME, index).await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a seeding task");
    }
}

/// `count` users more in the pool (`AdminCreateUser`, no message sent).
async fn seed_pool(stack: &TestStack, count: usize) {
    let workers = 8;
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..workers {
        let (client, pool) = (stack.deps.directory.client().clone(), stack.deps.directory.user_pool_id().to_owned());
        tasks.spawn(async move {
            for index in (worker..count).step_by(workers) {
                client
                    .admin_create_user()
                    .user_pool_id(&pool)
                    .username(format!("pool-{index:06}"))
                    .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
                    .send()
                    .await
                    .expect("a user of the pool");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a seeding task");
    }
}

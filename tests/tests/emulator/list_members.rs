//! `GET /members` against the emulator, through the real SDK clients.

use lambda_http::{Body, Request, Response};
use list_members::handle;
use members_tests::faults::Calls;
use members_tests::seed::{ACME, ACME_ADMIN, ACME_INVITEE, ACME_INVITEE_2, ACME_VERIFIED, GLOBEX, GLOBEX_ADMIN};
use members_tests::{TestStack, fixture, fixture_with, json_body, with_query};
use serde_json::Value;
use shared::Deps;
use shared::domain::{Member, MemberStatus, Role, UserId};

async fn call(deps: &Deps, request: Request) -> Response<Body> {
    let response = handle(deps, request).await.expect("the handler answers every request");
    members_tests::record("GET", "/members", &response);
    response
}

fn names(body: &Value) -> Vec<&str> {
    body["members"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn an_admin_sees_every_member_in_name_order_with_contacts_and_actions() {
    let stack = TestStack::seeded().await;

    let response = call(&stack.deps, fixture("list-members/admin-lists.json")).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = json_body(&response);
    assert_eq!(names(&body), ["Ada Admin", "Bob Verified", "Carol Invitee", "Dan Invitee", "Erin Invitee"]);
    assert_eq!(body["nextCursor"], Value::Null);
    let carol = &body["members"][2];
    assert_eq!(carol["userId"], ACME_INVITEE.user_id);
    assert_eq!(carol["phone"], ACME_INVITEE.phone);
    assert_eq!(carol["email"], "carol@acme.example");
    assert_eq!(carol["status"], "unverified");
    assert_eq!(carol["role"], "member");
    assert_eq!(carol["actions"], serde_json::json!(["resend-invitation", "cancel-invitation", "change-role"]));
    let bob = &body["members"][1];
    assert_eq!(bob["status"], "verified");
    assert_eq!(bob["actions"], serde_json::json!(["change-role", "suspend", "remove"]));
    assert_eq!(body["members"][4]["role"], "admin");
}

#[tokio::test]
async fn the_status_filter_keeps_one_status() {
    let stack = TestStack::seeded().await;

    let unverified = json_body(&call(&stack.deps, fixture("list-members/admin-lists-unverified.json")).await);
    let verified =
        json_body(&call(&stack.deps, with_query("list-members/admin-lists.json", &[("status", "verified")])).await);

    let expired = json_body(&call(&stack.deps, fixture("list-members/admin-lists-expired.json")).await);

    assert_eq!(names(&unverified), ["Carol Invitee", "Dan Invitee"]);
    assert_eq!(names(&verified), ["Ada Admin", "Bob Verified"]);
    // The seed sent Erin's invitation a day longer ago than it lives.
    assert_eq!(names(&expired), ["Erin Invitee"]);
    let erin = &expired["members"][0];
    assert_eq!(erin["status"], "expired");
    assert_eq!(erin["actions"], serde_json::json!(["resend-invitation", "cancel-invitation", "change-role"]));
    let sent = shared::time::parse(erin["lastInvitationSentAt"].as_str().unwrap()).unwrap();
    let expires = shared::time::parse(erin["invitationExpiresAt"].as_str().unwrap()).unwrap();
    assert_eq!(expires - sent, chrono::Duration::days(7), "the template's InvitationValidityDays");
}

/// Expiry is computed when read: moving the functions' clock past a week (never waiting)
/// turns every unverified invitation expired without touching a record; a resend makes one
/// unverified again with a new expiry; an expired one can be cancelled.
#[tokio::test]
async fn invitations_expire_as_time_passes_and_a_resend_renews_one() {
    let stack = TestStack::seeded().await;
    let members_before = stack.scan(&stack.deps.config.tables.members).await;
    let list = |status: &'static str| {
        let deps = &stack.deps;
        async move { json_body(&call(deps, with_query("list-members/admin-lists.json", &[("status", status)])).await) }
    };

    let before = list("unverified").await;
    assert_eq!(names(&before), ["Carol Invitee", "Dan Invitee"]);
    let expiries: Vec<_> = before["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| shared::time::parse(m["invitationExpiresAt"].as_str().unwrap()).unwrap())
        .collect();
    let (first, last) = (*expiries.iter().min().unwrap(), *expiries.iter().max().unwrap());
    // The times shown are whole seconds: a second's margin either side.
    stack.deps.config.clock.advance(first - stack.deps.config.clock.now() - chrono::Duration::seconds(1));
    assert_eq!(names(&list("unverified").await), ["Carol Invitee", "Dan Invitee"], "a second before");
    stack.deps.config.clock.advance(last - stack.deps.config.clock.now() + chrono::Duration::seconds(1));
    assert!(names(&list("unverified").await).is_empty(), "a second after");
    assert_eq!(names(&list("expired").await), ["Carol Invitee", "Dan Invitee", "Erin Invitee"]);
    assert_eq!(stack.scan(&stack.deps.config.tables.members).await, members_before, "no record rewritten");

    let resent = resend_invitation::handle(&stack.deps, fixture("resend-invitation/admin-resends-invitation.json"))
        .await
        .unwrap();
    assert_eq!(resent.status(), 202);
    let unverified = list("unverified").await;
    assert_eq!(names(&unverified), ["Carol Invitee"]);
    let renewed = shared::time::parse(unverified["members"][0]["invitationExpiresAt"].as_str().unwrap()).unwrap();
    let a_week_from_now = stack.deps.config.clock.now() + chrono::Duration::days(7);
    assert!((a_week_from_now - renewed).num_seconds().abs() <= 5, "a week from the resend: {renewed}");
    assert_eq!(names(&list("expired").await), ["Dan Invitee", "Erin Invitee"]);

    let canceled = cancel_invitation::handle(
        &stack.deps,
        fixture_with("cancel-invitation/admin-cancels-unverified.json", |e| {
            members_tests::retarget(e, ACME_INVITEE_2.user_id)
        }),
    )
    .await
    .unwrap();
    assert_eq!(canceled.status(), 204, "an expired invitation is cancelled like an unverified one");
    assert_eq!(names(&list("expired").await), ["Erin Invitee"]);
    assert!(!stack.cognito_user_exists(ACME_INVITEE_2.user_id).await);
}

#[tokio::test]
async fn an_admin_finds_members_by_name_email_or_phone_digits_a_member_by_name_only() {
    let stack = TestStack::seeded().await;
    let search = |case: &'static str, q: &'static str| {
        let deps = &stack.deps;
        async move {
            names(&json_body(&call(deps, with_query(case, &[("q", q)])).await))
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
        }
    };
    let admin = "list-members/admin-lists.json";
    let member = "list-members/member-lists.json";

    let by_name = json_body(&call(&stack.deps, fixture("list-members/admin-searches-by-name.json")).await);
    assert_eq!(names(&by_name), ["Carol Invitee"]);
    assert_eq!(search(admin, "INVITEE").await, ["Carol Invitee", "Dan Invitee", "Erin Invitee"]);
    assert_eq!(search(admin, "inv car").await, ["Carol Invitee"], "each word starts a word of the name");
    assert!(search(admin, "nvitee").await.is_empty(), "the middle of a word finds nobody");
    assert_eq!(search(admin, "bob@acme").await, ["Bob Verified"], "the start of an email");
    assert!(search(admin, "acme.example").await.is_empty(), "the middle of an email finds nobody");
    let by_phone = json_body(&call(&stack.deps, fixture("list-members/admin-searches-by-phone.json")).await);
    assert_eq!(names(&by_phone), ["Carol Invitee"], "'7700 900103': the start of the national number");
    assert_eq!(search(admin, "+44 (7700) 900-104").await, ["Dan Invitee"], "with +: the start of the number");
    assert_eq!(search(admin, "07700 900104").await, ["Dan Invitee"], "as dialled at home, trunk prefix and all");
    assert_eq!(search(admin, "0104").await, ["Dan Invitee"], "the end of the number");
    assert!(search(admin, "0090").await.is_empty(), "the middle of a number finds nobody");
    assert!(search(admin, "globex").await.is_empty(), "another organisation's members stay hidden");
    // A user id is not a name: the name key holds it, the search does not look at it.
    assert!(search(admin, "acme-carol").await.is_empty());

    let member_by_name = json_body(&call(&stack.deps, fixture("list-members/member-searches-by-name.json")).await);
    assert_eq!(names(&member_by_name), ["Carol Invitee"]);
    assert!(member_by_name["members"][0].get("phone").is_none());
    let member_by_phone = json_body(&call(&stack.deps, fixture("list-members/member-searches-by-phone.json")).await);
    assert!(names(&member_by_phone).is_empty(), "a member cannot find anyone by a phone not shown to them");
    assert!(search(member, "carol@acme").await.is_empty(), "nor by an email");

    // Search and status combine.
    let both = json_body(&call(&stack.deps, with_query(admin, &[("q", "invitee"), ("status", "expired")])).await);
    assert_eq!(names(&both), ["Erin Invitee"]);
}

/// A search reads its term's items and the memberships it shows, never the organisation:
/// with 300 members, one that finds nobody reads nothing and has no cursor.
#[tokio::test]
async fn a_search_costs_what_it_finds() {
    let stack = TestStack::with_callers().await;
    let members = put_members(&stack, ACME, 300).await;
    let dynamo = Calls::new();
    let deps = stack.instance().dynamo(dynamo.clone()).deps();
    let admin = "list-members/admin-lists.json";
    for q in ["zzz", "person9999", "+1 555", "5559", "ann zzzz", "@"] {
        dynamo.reset();
        let body = json_body(&call(&deps, with_query(admin, &[("q", q)])).await);
        assert!(names(&body).is_empty() && body["nextCursor"].is_null(), "{q:?}: {body}");
        assert_eq!(dynamo.count("GetItem"), 2, "the caller's membership and the count of administrators");
        assert!(
            dynamo.count("Query") <= 1 && dynamo.total() == dynamo.count("Query") + 2,
            "{q:?}: {:?}",
            dynamo.total()
        );
        assert!(dynamo.items_read() <= 60, "{q:?} read {} items", dynamo.items_read());
    }
    dynamo.reset();
    let one = &members[123];
    let body = json_body(&call(&deps, with_query(admin, &[("q", &format!("person123@{ACME}"))])).await);
    assert_eq!(names(&body), [one.name.as_str()]);
    assert!(body["nextCursor"].is_null());
    assert_eq!((dynamo.count("Query"), dynamo.count("BatchGetItem"), dynamo.total()), (1, 1, 4));
    // At most 12, and the caller's membership and the count of administrators.
    assert!(dynamo.items_read() <= 12 + 2, "finding one read {} items", dynamo.items_read());

    // A term whose membership is gone (its removal's second write lost) is passed over.
    let client = stack.deps.store.client();
    client
        .delete_item()
        .table_name(&stack.deps.config.tables.members)
        .key("orgId", aws_sdk_dynamodb::types::AttributeValue::S(ACME.into()))
        .key("userId", aws_sdk_dynamodb::types::AttributeValue::S(one.user_id.to_string()))
        .send()
        .await
        .unwrap();
    assert!(stack.search_terms_of(one.user_id.as_str()).await > 0);
    let body = json_body(&call(&deps, with_query(admin, &[("q", &format!("person123@{ACME}"))])).await);
    assert!(names(&body).is_empty() && body["nextCursor"].is_null(), "{body}");
}

/// Memberships from before the search table have no terms: no search finds them until
/// `make migrate` writes their terms, a page at a time, resumably.
#[tokio::test]
async fn memberships_from_before_the_search_table_are_found_after_the_backfill() {
    let stack = TestStack::with_callers().await;
    let members = put_members(&stack, ACME, 30).await;
    let terms = &stack.deps.config.tables.search;
    let client = stack.deps.store.client();
    for item in stack.scan(terms).await {
        let key = [("term", item["term"].clone()), ("entry", item["entry"].clone())];
        let mut delete = client.delete_item().table_name(terms);
        for (name, value) in key {
            delete = delete.key(name, value);
        }
        delete.send().await.unwrap();
    }
    let admin = "list-members/admin-lists.json";
    let search = |q: &'static str| {
        let deps = stack.deps.clone();
        async move { names(&json_body(&call(&deps, with_query(admin, &[("q", q), ("limit", "100")])).await)).len() }
    };
    assert_eq!(search("ann").await, 0, "nothing to find them by");

    let position = std::env::temp_dir().join(format!("backfill-terms-{}.position", uuid::Uuid::new_v4()));
    let page = |start| stack.deps.store.backfill_search_terms(start, 7);
    let first = shared::backfill::run("test", &position, Some(2), page).await.unwrap();
    assert!(position.exists() && first.updated == 14, "{first:?}");
    let rest = shared::backfill::run("test", &position, None, page).await.unwrap();
    assert!(!position.exists(), "done: no position left");
    assert_eq!(first.updated + rest.updated, members.len() + 3, "and the fixtures' three callers");
    let anns = members.iter().filter(|m| m.name.to_lowercase().starts_with("ann")).count();
    assert_eq!(search("ann").await, anns);
    assert!(anns > 0);
}

#[tokio::test]
async fn a_search_cursor_serves_that_search_only_and_bad_searches_are_refused() {
    let stack = TestStack::seeded().await;
    let admin = "list-members/admin-lists.json";
    let first = json_body(&call(&stack.deps, with_query(admin, &[("q", "invitee"), ("limit", "1")])).await);
    assert_eq!(names(&first), ["Carol Invitee"]);
    let cursor = first["nextCursor"].as_str().expect("more follow").to_owned();

    let next = call(&stack.deps, with_query(admin, &[("q", "invitee"), ("limit", "1"), ("cursor", &cursor)])).await;
    let other_q = call(&stack.deps, with_query(admin, &[("q", "carol"), ("limit", "1"), ("cursor", &cursor)])).await;
    let no_q = call(&stack.deps, with_query(admin, &[("limit", "1"), ("cursor", &cursor)])).await;

    assert_eq!(names(&json_body(&next)), ["Dan Invitee"]);
    assert_eq!(other_q.status(), 400);
    assert_eq!(no_q.status(), 400);
    let long = "a".repeat(101);
    for q in [long.as_str(), "tab\there", "", "   "] {
        let response = call(&stack.deps, with_query(admin, &[("q", q)])).await;
        assert_eq!(response.status(), 400, "{q:?}");
        assert_eq!(json_body(&response)["code"], "bad-request");
    }
    let hundred = "a".repeat(100);
    assert_eq!(call(&stack.deps, with_query(admin, &[("q", hundred.as_str())])).await.status(), 200);
}

#[tokio::test]
async fn a_plain_member_sees_names_but_no_contacts_and_no_actions() {
    let stack = TestStack::seeded().await;

    let body = json_body(&call(&stack.deps, fixture("list-members/member-lists.json")).await);

    assert_eq!(names(&body).len(), 5);
    for member in body["members"].as_array().unwrap() {
        assert!(member.get("phone").is_none() && member.get("email").is_none(), "{member}");
        assert_eq!(member["actions"], serde_json::json!([]));
    }
}

#[tokio::test]
async fn each_organisation_sees_only_its_own() {
    let stack = TestStack::seeded().await;

    let body = json_body(&call(&stack.deps, fixture("list-members/other-org-admin-lists.json")).await);

    assert_eq!(names(&body), ["Gus Globex", "Hank Invitee"]);
}

#[tokio::test]
async fn pages_follow_the_cursor_to_the_end() {
    let stack = TestStack::seeded().await;
    let first = json_body(&call(&stack.deps, fixture("list-members/admin-pages-by-two.json")).await);
    assert_eq!(names(&first), ["Ada Admin", "Bob Verified"]);
    let cursor = first["nextCursor"].as_str().expect("more pages").to_owned();

    let second = json_body(
        &call(&stack.deps, with_query("list-members/admin-pages-by-two.json", &[("limit", "2"), ("cursor", &cursor)]))
            .await,
    );
    let cursor = second["nextCursor"].as_str().expect("more pages").to_owned();
    let third = json_body(
        &call(&stack.deps, with_query("list-members/admin-pages-by-two.json", &[("limit", "2"), ("cursor", &cursor)]))
            .await,
    );

    assert_eq!(names(&second), ["Carol Invitee", "Dan Invitee"]);
    assert_eq!(names(&third), ["Erin Invitee"]);
    assert_eq!(third["nextCursor"], Value::Null);
}

#[tokio::test]
async fn bad_query_parameters_are_refused() {
    let stack = TestStack::seeded().await;
    for case in ["bad-limit", "bad-status", "foreign-cursor"] {
        let response = call(&stack.deps, fixture(&format!("list-members/{case}.json"))).await;
        assert_eq!(response.status(), 400, "{case}");
        assert_eq!(json_body(&response)["code"], "bad-request");
    }
    for query in [[("limit", "101")], [("limit", "ten")], [("cursor", "garbage")], [("sort", "name")]] {
        let response = call(&stack.deps, with_query("list-members/admin-lists.json", &query)).await;
        assert_eq!(response.status(), 400, "{query:?}");
    }
    // A cursor of Acme's listing, presented by Globex's admin.
    let acme_page = json_body(&call(&stack.deps, fixture("list-members/admin-pages-by-two.json")).await);
    let cursor = acme_page["nextCursor"].as_str().unwrap();
    let foreign = call(&stack.deps, with_query("list-members/other-org-admin-lists.json", &[("cursor", cursor)])).await;
    assert_eq!(foreign.status(), 400);
}

#[tokio::test]
async fn no_authorizer_is_unauthenticated() {
    let stack = TestStack::seeded().await;
    let response = call(&stack.deps, fixture("list-members/no-authorizer.json")).await;
    assert_eq!(response.status(), 401);
    assert_eq!(json_body(&response)["code"], "unauthenticated");
}

/// Membership records written straight to the table: listing never looks at Cognito. A
/// third verified; of the rest, every other one's invitation sent ten days ago (expired),
/// the others' a day ago.
async fn put_members(stack: &TestStack, org_id: &str, count: usize) -> Vec<Member> {
    let now = stack.deps.config.clock.now();
    let first_names = ["ann", "Ann", "ANN B", "bob", "Émile", "zoë", "Zed", "carol", "Dan", "éva"];
    let members: Vec<Member> = (0..count)
        .map(|i| {
            let user_id = UserId::parse(&format!("{org_id}-user-{:04}", (i * 7919) % count)).unwrap();
            let name = format!("{} {}", first_names[i % first_names.len()], i / 37);
            let status = if i % 3 == 0 { MemberStatus::Verified } else { MemberStatus::Unverified };
            Member {
                invited_at: Some(now - chrono::Duration::days(30)),
                last_invitation_sent_at: Some(now - chrono::Duration::days(if i % 2 == 0 { 10 } else { 1 })),
                ..Member::new(org_id, user_id, &name, Role::Member, status)
                    .reached_at(Some(format!("+4477009{:05}", i)), Some(format!("person{i}@{org_id}.example")))
            }
        })
        .collect();
    let client = stack.deps.store.client();
    for chunk in members.chunks(25) {
        let requests = chunk
            .iter()
            .map(|m| {
                aws_sdk_dynamodb::types::WriteRequest::builder()
                    .put_request(
                        aws_sdk_dynamodb::types::PutRequest::builder()
                            .set_item(Some(shared::store::member_item(m)))
                            .build()
                            .unwrap(),
                    )
                    .build()
            })
            .collect();
        client
            .batch_write_item()
            .request_items(&stack.deps.config.tables.members, requests)
            .send()
            .await
            .expect("BatchWriteItem");
    }
    for member in &members {
        stack.deps.store.write_search_terms(member).await.expect("write the search terms");
    }
    members
}

/// Walks every page and checks each costs one query and no Cognito call (and a search page,
/// the `BatchGetItem` of the memberships it found).
async fn walk(stack: &TestStack, case: &str, limit: usize, filters: &[(&str, &str)]) -> Vec<Vec<(String, String)>> {
    let (cognito, dynamo) = (Calls::new(), Calls::new());
    let deps = stack.instance().cognito(cognito.clone()).dynamo(dynamo.clone()).deps();
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let limit = limit.to_string();
        let mut query = vec![("limit", limit.as_str())];
        query.extend_from_slice(filters);
        if let Some(cursor) = &cursor {
            query.push(("cursor", cursor.as_str()));
        }
        dynamo.reset();
        let response = call(&deps, with_query(case, &query)).await;
        assert_eq!(response.status(), 200);
        assert_eq!(dynamo.count("Query"), 1, "one query per page");
        let searching = filters.iter().any(|(name, _)| *name == "q");
        assert_eq!(dynamo.count("GetItem"), 2, "the caller's membership and the count of administrators");
        assert_eq!(dynamo.total() - dynamo.count("BatchGetItem") - 2, 1, "one query per page");
        assert!(dynamo.count("BatchGetItem") <= usize::from(searching), "a search page reads its members at once");
        let body = json_body(&response);
        let page: Vec<(String, String)> = body["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["name"].as_str().unwrap().to_owned(), m["userId"].as_str().unwrap().to_owned()))
            .collect();
        assert!(page.len() <= limit.parse().unwrap());
        pages.push(page);
        match body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(cognito.total(), 0, "listing never calls Cognito");
    pages
}

/// The test's own reading of the filters: status as shown (expired: unverified and sent a
/// week or more ago), and a search by name, email or phone digits.
fn expected_order(members: &[Member], status: Option<&str>, q: Option<&str>) -> Vec<(String, String)> {
    let week_ago = chrono::Utc::now() - chrono::Duration::days(7);
    let shown = |m: &Member| match m.status {
        MemberStatus::Verified => "verified",
        MemberStatus::Suspended => "suspended",
        MemberStatus::Unverified if m.last_invitation_sent_at.unwrap() <= week_ago => "expired",
        MemberStatus::Unverified => "unverified",
    };
    // The contract's rule, written out for this test's data (its own accent folding for the
    // few accented letters the names hold): each word of q starts a word of the name; the
    // start of the email; 3+ digits starting the national number (+44: 10 digits) or ending
    // the number.
    let fold = |text: &str| -> String {
        text.to_lowercase()
            .chars()
            .map(|c| match c {
                'é' | 'ë' => 'e',
                other => other,
            })
            .collect()
    };
    let found = |m: &Member, q: &str| {
        let name_words: Vec<String> = fold(&m.name).split(' ').map(str::to_owned).collect();
        let by_name = fold(q).split(' ').all(|w| name_words.iter().any(|n| n.starts_with(w)));
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        let phone: String = m.phone.as_deref().unwrap_or_default().chars().filter(char::is_ascii_digit).collect();
        let by_phone = digits.len() >= 3
            && phone.len() > 2
            && q.chars().all(|c| c.is_ascii_digit() || c == ' ')
            && (phone[2..].starts_with(&digits) || phone.ends_with(&digits));
        let by_email = m.email.as_deref().is_some_and(|email| email.starts_with(&q.to_lowercase()));
        by_name || by_email || by_phone
    };
    let mut rows: Vec<(String, String)> = members
        .iter()
        .filter(|m| status.is_none_or(|s| shown(m) == s))
        .filter(|m| q.is_none_or(|q| found(m, q)))
        .map(|m| (m.name.clone(), m.user_id.to_string()))
        .collect();
    rows.sort_by(|a, b| (a.0.to_lowercase(), &a.1).cmp(&(b.0.to_lowercase(), &b.1)));
    rows
}

#[tokio::test]
async fn two_organisations_of_a_thousand_members_page_completely_disjointly_and_in_order() {
    let stack = TestStack::with_callers().await;
    let mut acme = put_members(&stack, ACME, 1000).await;
    let mut globex = put_members(&stack, GLOBEX, 1000).await;
    // The callers' own memberships are listed too.
    acme.extend([
        stack.member(ACME, ACME_ADMIN.user_id).await.unwrap(),
        stack.member(ACME, ACME_VERIFIED.user_id).await.unwrap(),
    ]);
    globex.push(stack.member(GLOBEX, GLOBEX_ADMIN.user_id).await.unwrap());

    for (case, members) in
        [("list-members/admin-lists.json", &acme), ("list-members/other-org-admin-lists.json", &globex)]
    {
        for (limit, status) in [(100, None), (37, None), (50, Some("unverified"))] {
            let filters: Vec<(&str, &str)> = status.map(|s| ("status", s)).into_iter().collect();
            let pages = walk(&stack, case, limit, &filters).await;
            let expected = expected_order(members, status, None);
            if status.is_none() {
                assert_eq!(pages.len(), expected.len().div_ceil(limit), "{case} limit {limit}: page count");
            }
            let rows: Vec<_> = pages.into_iter().flatten().collect();
            assert_eq!(rows, expected, "{case} limit {limit} {status:?}: complete, disjoint, in order");
        }
        // Filtered listings: pages may be short, but together they hold exactly the
        // matching members, in order, one query each.
        for (limit, status, q) in [
            (50, Some("expired"), None),
            (40, None, Some("ann")),
            (25, Some("expired"), Some("ÉMILE")),
            (30, None, Some("00 012")),
            (30, None, Some("7700 900 1")),
        ] {
            let mut filters: Vec<(&str, &str)> = status.map(|s| ("status", s)).into_iter().collect();
            filters.extend(q.map(|q| ("q", q)));
            let pages = walk(&stack, case, limit, &filters).await;
            let expected = expected_order(members, status, q);
            assert!(!expected.is_empty(), "{status:?} {q:?} finds someone");
            let rows: Vec<_> = pages.into_iter().flatten().collect();
            assert_eq!(rows, expected, "{case} limit {limit} {status:?} {q:?}: complete, disjoint, in order");
        }
    }
}

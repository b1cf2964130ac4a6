//! `GET /members` against the emulator, through the real SDK clients.

use lambda_http::{Body, Request, Response};
use list_members::handle;
use members_tests::faults::Calls;
use members_tests::seed::{ACME, ACME_INVITEE, GLOBEX};
use members_tests::{SharedInterceptor, TestStack, fixture, fixture_with, json_body};
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

fn with_query(case: &str, query: &[(&str, &str)]) -> Request {
    fixture_with(case, |e| {
        e["queryStringParameters"] = query.iter().map(|(k, v)| (k.to_string(), Value::from(*v))).collect();
        e["rawQueryString"] = query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&").into();
    })
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
    assert_eq!(carol["actions"], serde_json::json!(["resend-invitation", "cancel-invitation"]));
    let bob = &body["members"][1];
    assert_eq!(bob["status"], "verified");
    assert_eq!(bob["actions"], serde_json::json!([]));
    assert_eq!(body["members"][4]["role"], "admin");
}

#[tokio::test]
async fn the_status_filter_keeps_one_status() {
    let stack = TestStack::seeded().await;

    let unverified = json_body(&call(&stack.deps, fixture("list-members/admin-lists-unverified.json")).await);
    let verified =
        json_body(&call(&stack.deps, with_query("list-members/admin-lists.json", &[("status", "verified")])).await);

    assert_eq!(names(&unverified), ["Carol Invitee", "Dan Invitee", "Erin Invitee"]);
    assert_eq!(names(&verified), ["Ada Admin", "Bob Verified"]);
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

/// Membership records written straight to the table: listing never looks at Cognito.
async fn put_members(stack: &TestStack, org_id: &str, count: usize) -> Vec<Member> {
    let first_names = ["ann", "Ann", "ANN B", "bob", "Émile", "zoë", "Zed", "carol", "Dan", "éva"];
    let members: Vec<Member> = (0..count)
        .map(|i| Member {
            org_id: org_id.to_owned(),
            user_id: UserId::parse(&format!("{org_id}-user-{:04}", (i * 7919) % count)).unwrap(),
            name: format!("{} {}", first_names[i % first_names.len()], i / 37),
            phone: Some(format!("+4477009{:05}", i)),
            email: None,
            role: Role::Member,
            status: if i % 3 == 0 { MemberStatus::Verified } else { MemberStatus::Unverified },
            invited_at: None,
            invited_by: None,
            last_invitation_sent_at: None,
            last_resent_at: None,
            resend_pending: None,
            cancel_pending: None,
            disabled_by: None,
            resend_attempted: None,
            last_resend_id: None,
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
    members
}

/// Walks every page and checks each costs one query and no Cognito call.
async fn walk(stack: &TestStack, case: &str, limit: usize, status: Option<&str>) -> Vec<Vec<(String, String)>> {
    let (cognito, dynamo) = (Calls::new(), Calls::new());
    let deps =
        stack.deps_with(vec![SharedInterceptor::new(cognito.clone())], vec![SharedInterceptor::new(dynamo.clone())]);
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let limit = limit.to_string();
        let mut query = vec![("limit", limit.as_str())];
        if let Some(status) = status {
            query.push(("status", status));
        }
        if let Some(cursor) = &cursor {
            query.push(("cursor", cursor.as_str()));
        }
        dynamo.reset();
        let response = call(&deps, with_query(case, &query)).await;
        assert_eq!(response.status(), 200);
        assert_eq!(dynamo.total(), 1, "one DynamoDB call per page");
        assert_eq!(dynamo.count("Query"), 1);
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

fn expected_order(members: &[Member], status: Option<MemberStatus>) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = members
        .iter()
        .filter(|m| status.is_none_or(|s| m.status == s))
        .map(|m| (m.name.clone(), m.user_id.to_string()))
        .collect();
    rows.sort_by(|a, b| (a.0.to_lowercase(), &a.1).cmp(&(b.0.to_lowercase(), &b.1)));
    rows
}

#[tokio::test]
async fn two_organisations_of_a_thousand_members_page_completely_disjointly_and_in_order() {
    let stack = TestStack::empty().await;
    let acme = put_members(&stack, ACME, 1000).await;
    let globex = put_members(&stack, GLOBEX, 1000).await;

    for (case, members) in
        [("list-members/admin-lists.json", &acme), ("list-members/other-org-admin-lists.json", &globex)]
    {
        for (limit, status) in [(100, None), (37, None), (50, Some(MemberStatus::Unverified))] {
            let pages = walk(&stack, case, limit, status.map(MemberStatus::as_str)).await;
            let expected = expected_order(members, status);
            assert_eq!(pages.len(), expected.len().div_ceil(limit), "{case} limit {limit}: page count");
            let rows: Vec<_> = pages.into_iter().flatten().collect();
            assert_eq!(rows, expected, "{case} limit {limit} {status:?}: complete, disjoint, in order");
        }
    }
}

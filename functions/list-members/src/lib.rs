//! `GET /members?limit=50&cursor=…&status=unverified&q=ann`: the Members page, one page at
//! a time, in name order, optionally one status (`expired` included) and a search. One
//! DynamoDB query per page and no Cognito call: the status shown is the mirror the other
//! functions keep, and expiry is computed from it when read. A search queries the one term
//! that finds its members (shared::search), then reads that page's memberships.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use serde::{Deserialize, Serialize};
use shared::cursor;
use shared::domain::ShownStatus;
use shared::http::{json, parse_limit, query_parameters};
use shared::ports::{MemberFilter, PageKey, Search, Store};
use shared::request::{Access, Admitted, Route, Target};
use shared::view::MemberView;
use shared::{ApiError, Deps};

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 100;
/// The longest search text, in characters.
pub const MAX_QUERY: usize = 100;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MembersPage {
    pub members: Vec<MemberView>,
    pub next_cursor: Option<String>,
}

/// Where the next page starts, and which listing it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Position {
    status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    q: Option<String>,
    user: String,
    key: String,
}

/// The filters a cursor is bound to: the status asked for and the search text as given.
#[derive(Debug, Clone, Copy, Default)]
struct Filters<'a> {
    status: Option<ShownStatus>,
    q: Option<&'a str>,
}

fn encode_cursor(org_id: &str, filters: Filters, next: &PageKey) -> String {
    let position = Position {
        status: filters.status.map(|s| s.as_str().to_owned()),
        q: filters.q.map(str::to_owned),
        user: next.user_id.clone(),
        key: next.sort_key.clone(),
    };
    cursor::encode(org_id, &position)
}

/// A cursor from this organisation's listing with these same filters, whose key is one that
/// listing could have made, or a 400.
fn decode_cursor(raw: &str, org_id: &str, filters: Filters) -> Result<PageKey, ApiError> {
    let position: Position = cursor::decode(raw, org_id)?;
    let after = PageKey { user_id: position.user, sort_key: position.key };
    let same_listing = position.status.as_deref() == filters.status.map(ShownStatus::as_str)
        && position.q.as_deref() == filters.q
        && after.fits(filters.status, filters.q.is_some());
    if !same_listing {
        return Err(cursor::invalid());
    }
    Ok(after)
}

const ROUTE: Route = Route { function: "list-members", outcome: "listed", access: Access::Member };

/// The query string, read once the caller is known.
#[derive(Debug)]
pub struct MembersQuery {
    limit: usize,
    status: Option<ShownStatus>,
    q: Option<String>,
    cursor: Option<String>,
}

impl Target for MembersQuery {
    fn from_request(request: &Request) -> Result<Self, ApiError> {
        let query = query_parameters(request, &["limit", "cursor", "status", "q"])?;
        let limit = parse_limit(query.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)?;
        let status = match query.get("status").map(String::as_str) {
            None | Some("") => None,
            Some(raw) => Some(ShownStatus::parse(raw).ok_or_else(|| {
                ApiError::BadRequest("status must be \"verified\", \"unverified\" or \"expired\".".into())
            })?),
        };
        // An empty q is no search term (the console leaves it out): refused, as the contract's
        // 1 to 100 characters say.
        let q = match query.get("q").map(|raw| raw.trim()) {
            None => None,
            Some(raw) if raw.is_empty() || raw.chars().count() > MAX_QUERY || raw.chars().any(char::is_control) => {
                return Err(ApiError::BadRequest(format!("q must be 1 to {MAX_QUERY} printable characters.")));
            }
            Some(raw) => Some(raw.to_owned()),
        };
        Ok(Self { limit, status, q, cursor: query.get("cursor").cloned() })
    }
}

pub async fn handle<S: Store, D: Send + Sync>(deps: &Deps<D, S>, request: Request) -> Result<Response<Body>, Error> {
    shared::request::read(deps, request, ROUTE, async |request: &Admitted<MembersQuery>| list(deps, request).await)
        .await
}

async fn list<S: Store, D>(deps: &Deps<D, S>, request: &Admitted<MembersQuery>) -> Result<Response<Body>, ApiError> {
    let Admitted { caller, target: MembersQuery { limit, status, q, cursor }, now, .. } = request;
    let (limit, status, now) = (*limit, *status, *now);
    let filters = Filters { status, q: q.as_deref() };
    let after = cursor.as_deref().map(|raw| decode_cursor(raw, &caller.org_id, filters)).transpose()?;
    let is_admin = request.caller_is_admin(&deps.config.admin_group);
    let validity = deps.config.invitation_validity;
    let filter = MemberFilter {
        status,
        lapsed_at: now - validity,
        // A plain member searches by name only: never by a contact they are not shown.
        search: q.as_deref().map(|q| Search::new(q, is_admin)),
    };
    let page = deps.store.list_members(&caller.org_id, &filter, limit, after.as_ref()).await?;
    // Only an administrator's rows have actions, and only they depend on the count.
    let active_admins = if is_admin { deps.store.active_admins(&caller.org_id).await? } else { 0 };
    let viewer = request.viewer(&deps.config.admin_group, active_admins);
    let body = MembersPage {
        members: page.members.iter().map(|member| MemberView::of(member, &viewer, now, validity)).collect(),
        next_cursor: page.next.as_ref().map(|next| encode_cursor(&caller.org_id, filters, next)),
    };
    Ok(json(StatusCode::OK, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(user: &str, sort: &str) -> PageKey {
        PageKey { user_id: user.into(), sort_key: sort.into() }
    }

    #[test]
    fn a_cursor_round_trips_within_its_listing() {
        let next = key("u-7", "ann\u{1}u-7");
        let raw = encode_cursor("org-a", Filters::default(), &next);
        assert_eq!(decode_cursor(&raw, "org-a", Filters::default()).unwrap(), next);
    }

    #[test]
    fn another_organisations_cursor_is_refused() {
        let raw = encode_cursor("org-b", Filters::default(), &key("u-7", "ann\u{1}u-7"));
        assert!(matches!(decode_cursor(&raw, "org-a", Filters::default()), Err(ApiError::BadRequest(_))));
    }

    #[test]
    fn a_cursor_of_another_filter_is_refused() {
        let raw = encode_cursor("org-a", Filters::default(), &key("u-7", "ann\u{1}u-7"));
        let unverified = Filters { status: Some(ShownStatus::Unverified), q: None };
        assert!(decode_cursor(&raw, "org-a", unverified).is_err());
        let searched = encode_cursor("org-a", Filters { status: None, q: Some("ann") }, &key("u-7", "ann\u{1}u-7"));
        assert!(decode_cursor(&searched, "org-a", Filters { status: None, q: Some("bob") }).is_err());
        assert!(decode_cursor(&searched, "org-a", Filters::default()).is_err());
        assert!(decode_cursor(&searched, "org-a", Filters { status: None, q: Some("ann") }).is_ok());
        // An expired listing's cursor is not an unverified one's, though both read one range.
        let expired = Filters { status: Some(ShownStatus::Expired), q: None };
        let raw = encode_cursor("org-a", expired, &key("u-7", "unverified\u{1}ann\u{1}u-7"));
        assert!(decode_cursor(&raw, "org-a", unverified).is_err());
        assert!(decode_cursor(&raw, "org-a", expired).is_ok());
    }

    #[test]
    fn forged_cursors_are_refused() {
        let forged_key = cursor::encode("org-a", &serde_json::json!({"status": null, "user": "u-7", "key": "zzz"}));
        let extra_field =
            cursor::encode("org-a", &serde_json::json!({"status": null, "user": "u-7", "key": "a\u{1}u-7", "x": 1}));
        let bad_user = cursor::encode("org-a", &serde_json::json!({"status": null, "user": "a b", "key": "x\u{1}a b"}));
        for raw in ["", "not base64!", "bm90IGpzb24", &forged_key, &extra_field, &bad_user] {
            assert!(decode_cursor(raw, "org-a", Filters::default()).is_err(), "{raw:?} must be refused");
        }
    }
}

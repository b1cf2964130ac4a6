//! `GET /audit-log?limit=50&cursor=…&action=canceled&targetId=…`: the organisation's Log
//! tab, newest first, for its administrators; optionally one action's entries, one member's
//! history, or both. One DynamoDB query per page (the table, or an index for a filter).

pub mod backfill;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use serde::{Deserialize, Serialize};
use shared::cursor;
use shared::domain::{AuditAction, AuditEntry, UserId};
use shared::http::{json, parse_limit, query_parameters};
use shared::ports::{AuditFilter, Store};
use shared::request::{Access, Admitted, Route, Target};
use shared::{ApiError, Deps};

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 100;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogPage {
    pub entries: Vec<EntryView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    pub id: String,
    pub name: String,
}

/// One line of the Log tab, as the contract shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryView {
    pub id: String,
    pub action: &'static str,
    pub occurred_at: String,
    pub actor: Party,
    pub target: Party,
    pub request_id: String,
    pub source_ip: String,
    pub user_agent: String,
    /// On the entries whose action has them (a role change's `{"role": {"from", "to"}}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<serde_json::Value>,
}

impl From<&AuditEntry> for EntryView {
    fn from(entry: &AuditEntry) -> Self {
        Self {
            id: entry.id.clone(),
            action: entry.action.as_str(),
            occurred_at: shared::time::rfc3339(entry.occurred_at),
            actor: Party { id: entry.actor_id.clone(), name: entry.actor_name.clone() },
            target: Party { id: entry.target_id.clone(), name: entry.target_name.clone() },
            request_id: entry.request_id.clone(),
            source_ip: entry.source_ip.clone(),
            user_agent: entry.user_agent.clone(),
            changes: entry.changes(),
        }
    }
}

/// Where the next page starts (the key of the last entry looked at), and for which filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Position {
    entry: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<String>,
}

impl Position {
    fn new(entry: String, filter: &AuditFilter) -> Self {
        Self {
            entry,
            action: filter.action.map(|action| action.filter_name().to_owned()),
            target: filter.target_id.clone(),
        }
    }
}

/// An entry key this log, with these same filters, could have made.
fn decode_cursor(raw: &str, org_id: &str, filter: &AuditFilter) -> Result<String, ApiError> {
    let position: Position = cursor::decode(raw, org_id)?;
    let well_formed = AuditEntry::is_entry_key(&position.entry);
    let same_filters = position == Position::new(position.entry.clone(), filter);
    if well_formed && same_filters { Ok(position.entry) } else { Err(cursor::invalid()) }
}

fn parse_filter(query: &std::collections::HashMap<String, String>) -> Result<AuditFilter, ApiError> {
    // An empty `action` is no filter name either: the OpenAPI enum refuses it, and so does
    // this (an empty `targetId` is no filter, as its schema allows).
    let action = match query.get("action").map(String::as_str) {
        None => None,
        Some(raw) => Some(AuditAction::from_filter_name(raw).ok_or_else(|| {
            let names: Vec<String> =
                AuditAction::ALL.iter().map(|action| format!("\"{}\"", action.filter_name())).collect();
            ApiError::BadRequest(format!("action must be one of {}.", names.join(", ")))
        })?),
    };
    let target_id = match query.get("targetId").map(String::as_str) {
        None | Some("") => None,
        Some(raw) => Some(
            UserId::parse(raw)
                .map_err(|_| ApiError::BadRequest("targetId is not a member id.".into()))?
                .as_str()
                .to_owned(),
        ),
    };
    Ok(AuditFilter { action, target_id })
}

const ROUTE: Route = Route { function: "list-audit-log", outcome: "listed", access: Access::Administrator };

/// The query string, read once the caller is known to be an administrator.
#[derive(Debug)]
pub struct LogQuery {
    limit: usize,
    filter: AuditFilter,
    cursor: Option<String>,
}

impl Target for LogQuery {
    fn from_request(request: &Request) -> Result<Self, ApiError> {
        let query = query_parameters(request, &["limit", "cursor", "action", "targetId"])?;
        let limit = parse_limit(query.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)?;
        Ok(Self { limit, filter: parse_filter(&query)?, cursor: query.get("cursor").cloned() })
    }
}

pub async fn handle<S: Store, D: Send + Sync>(deps: &Deps<D, S>, request: Request) -> Result<Response<Body>, Error> {
    shared::request::read(deps, request, ROUTE, async |request: &Admitted<LogQuery>| list(deps, request).await).await
}

async fn list<S: Store, D>(deps: &Deps<D, S>, request: &Admitted<LogQuery>) -> Result<Response<Body>, ApiError> {
    let Admitted { caller, target: LogQuery { limit, filter, cursor }, .. } = request;
    let before = cursor.as_deref().map(|raw| decode_cursor(raw, &caller.org_id, filter)).transpose()?;
    let page = deps.store.audit_page(&caller.org_id, filter, *limit, before.as_deref()).await?;
    let body = LogPage {
        entries: page.entries.iter().map(EntryView::from).collect(),
        next_cursor: page.next.map(|entry| cursor::encode(&caller.org_id, &Position::new(entry, filter))),
    };
    Ok(json(StatusCode::OK, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_names_an_entry_key_of_the_callers_log() {
        let key = "2026-11-26T09:00:00.123Z#0b4f5a56-8a6e-4d44-a2a7-2a8e0e1f6c3d".to_owned();
        let none = AuditFilter::default();
        let raw = cursor::encode("org-a", &Position::new(key.clone(), &none));
        assert_eq!(decode_cursor(&raw, "org-a", &none).unwrap(), key);
        assert!(decode_cursor(&raw, "org-b", &none).is_err());
    }

    #[test]
    fn a_cursor_is_bound_to_its_filters() {
        let key = "2026-11-26T09:00:00.123Z#0b4f5a56-8a6e-4d44-a2a7-2a8e0e1f6c3d".to_owned();
        let canceled = AuditFilter { action: Some(AuditAction::CanceledInvite), target_id: None };
        let history = AuditFilter { action: None, target_id: Some("acme-carol".into()) };
        let raw = cursor::encode("org-a", &Position::new(key.clone(), &canceled));
        assert_eq!(decode_cursor(&raw, "org-a", &canceled).unwrap(), key);
        assert!(decode_cursor(&raw, "org-a", &AuditFilter::default()).is_err());
        assert!(decode_cursor(&raw, "org-a", &history).is_err());
    }

    #[test]
    fn an_action_filter_is_a_filter_name_and_never_empty() {
        let query = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        for bad in ["", "Canceled", "canceled ", "Admin canceled user invite"] {
            let refused = parse_filter(&query(&[("action", bad)])).unwrap_err();
            assert!(
                matches!(&refused, ApiError::BadRequest(detail) if detail.starts_with("action must be one of")),
                "{bad:?}"
            );
        }
        assert_eq!(parse_filter(&query(&[("action", "canceled")])).unwrap().action, Some(AuditAction::CanceledInvite));
        assert_eq!(parse_filter(&query(&[])).unwrap(), AuditFilter::default());
        assert_eq!(parse_filter(&query(&[("targetId", "")])).unwrap(), AuditFilter::default());
    }

    #[test]
    fn a_forged_entry_key_is_refused() {
        for entry in ["", "zzz", "2026-11-26T09:00:00Z#", "yesterday#abc", "2026-11-26T09:00:00Z#a b"] {
            let raw = cursor::encode("org-a", &Position::new(entry.into(), &AuditFilter::default()));
            assert!(decode_cursor(&raw, "org-a", &AuditFilter::default()).is_err(), "{entry:?}");
        }
    }
}

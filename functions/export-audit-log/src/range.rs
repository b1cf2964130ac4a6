//! What an export asks for: `POST /audit-log/exports` `{"from", "to", "format"}`, refused
//! whole (400) unless `from` and `to` are RFC 3339 times, `to` after `from`, at most
//! [`MAX_DAYS`] apart, and `format` is `csv` (the default) or `ndjson`.

use lambda_http::Request;
use serde::Deserialize;
use shared::ApiError;
use shared::request::Target;
use shared::time::{self, Timestamp};

/// The longest range one export covers.
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Ndjson => "ndjson",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Csv, Self::Ndjson].into_iter().find(|format| format.as_str() == raw)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8; header=present",
            Self::Ndjson => "application/x-ndjson",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRange {
    pub from: Timestamp,
    pub to: Timestamp,
    pub format: Format,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    from: String,
    to: String,
    #[serde(default)]
    format: Option<String>,
}

impl ExportRange {
    pub fn parse(from: &str, to: &str, format: Option<&str>) -> Result<Self, ApiError> {
        let at = |name: &str, raw: &str| {
            time::parse(raw).ok_or_else(|| {
                ApiError::BadRequest(format!("{name} must be an RFC 3339 time (2026-12-01T00:00:00Z), got {raw:?}."))
            })
        };
        let (from, to) = (at("from", from)?, at("to", to)?);
        if to <= from {
            return Err(ApiError::BadRequest("to must be after from.".into()));
        }
        if to - from > chrono::Duration::days(MAX_DAYS) {
            return Err(ApiError::BadRequest(format!("An export covers at most {MAX_DAYS} days: ask for several.")));
        }
        let format = match format {
            None => Format::Csv,
            Some(raw) => Format::parse(raw)
                .ok_or_else(|| ApiError::BadRequest(format!("format must be \"csv\" or \"ndjson\", got {raw:?}.")))?,
        };
        Ok(Self { from, to, format })
    }
}

impl Target for ExportRange {
    fn from_request(request: &Request) -> Result<Self, ApiError> {
        let body: Body = shared::http::parse_json_body(request)?;
        Self::parse(&body.from, &body.to, body.format.as_deref())
    }
}

/// `GET /audit-log/exports/{exportId}`: the path's id, a UUID (else 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportId(pub String);

impl Target for ExportId {
    fn from_request(request: &Request) -> Result<Self, ApiError> {
        let raw = shared::http::path_parameter(request, "exportId").unwrap_or_default();
        let id = uuid::Uuid::parse_str(&raw)
            .ok()
            .filter(|id| id.hyphenated().to_string() == raw)
            .ok_or_else(|| ApiError::BadRequest("exportId must be an export's id (a UUID).".into()))?;
        Ok(Self(id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_ordered_at_most_a_leap_year_long_and_csv_unless_asked() {
        let range = ExportRange::parse("2026-01-01T00:00:00Z", "2026-12-01T00:00:00+01:00", None).unwrap();
        assert_eq!(range.format, Format::Csv);
        assert_eq!(
            ExportRange::parse("2025-12-01T00:00:00Z", "2026-12-01T00:00:00Z", Some("ndjson")).unwrap().format,
            Format::Ndjson
        );
        for (from, to, format, words) in [
            ("2026-12-01T00:00:00Z", "2026-01-01T00:00:00Z", None, "after from"),
            ("2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z", None, "after from"),
            ("2025-01-01T00:00:00Z", "2026-12-01T00:00:00Z", None, "366 days"),
            ("yesterday", "2026-12-01T00:00:00Z", None, "from must be"),
            ("2026-01-01", "2026-12-01T00:00:00Z", None, "from must be"),
            ("2026-01-01T00:00:00Z", "2026-12-01T00:00:00Z", Some("xlsx"), "format must be"),
        ] {
            let error = ExportRange::parse(from, to, format).unwrap_err();
            assert!(
                error.to_string().contains(words) || format!("{error:?}").contains(words),
                "{from} {to}: {error:?}"
            );
        }
    }
}

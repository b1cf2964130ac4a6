//! An audit entry as a line of the file: CSV (RFC 4180: a header row, fields quoted when they
//! hold a comma, a quote or a line break, CRLF between records) with formula-injection
//! escaping, or NDJSON (one JSON object a line). The columns, in order, are [`COLUMNS`].

use crate::range::Format;
use shared::domain::AuditEntry;

pub const COLUMNS: [&str; 11] = [
    "id",
    "occurredAt",
    "action",
    "actorId",
    "actorName",
    "targetId",
    "targetName",
    "requestId",
    "sourceIp",
    "userAgent",
    "changes",
];

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, and the tab and carriage
/// return OWASP adds) is prefixed with `'`: shown as text, never run.
pub fn defused(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Writes rows of one format into a buffer the caller empties as it goes.
pub struct Rows {
    format: Format,
    csv: csv::Writer<Vec<u8>>,
    lines: Vec<u8>,
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new())
}

impl Rows {
    /// With the CSV header row already written.
    pub fn new(format: Format) -> Self {
        let mut csv = csv_writer();
        if format == Format::Csv {
            csv.write_record(COLUMNS).expect("writing to memory");
        }
        Self { format, csv, lines: Vec::new() }
    }

    pub fn push(&mut self, entry: &AuditEntry) {
        let changes = entry.changes();
        match self.format {
            Format::Csv => {
                let changes = changes.map(|c| c.to_string()).unwrap_or_default();
                let cells = [
                    entry.id.clone(),
                    shared::time::rfc3339(entry.occurred_at),
                    entry.action.as_str().to_owned(),
                    entry.actor_id.clone(),
                    entry.actor_name.clone(),
                    entry.target_id.clone(),
                    entry.target_name.clone(),
                    entry.request_id.clone(),
                    entry.source_ip.clone(),
                    entry.user_agent.clone(),
                    changes,
                ];
                self.csv.write_record(cells.iter().map(|cell| defused(cell).into_owned())).expect("writing to memory");
            }
            Format::Ndjson => {
                let line = serde_json::json!({
                    "id": entry.id,
                    "occurredAt": shared::time::rfc3339(entry.occurred_at),
                    "action": entry.action.as_str(),
                    "actorId": entry.actor_id,
                    "actorName": entry.actor_name,
                    "targetId": entry.target_id,
                    "targetName": entry.target_name,
                    "requestId": entry.request_id,
                    "sourceIp": entry.source_ip,
                    "userAgent": entry.user_agent,
                    "changes": changes,
                });
                serde_json::to_writer(&mut self.lines, &line).expect("writing to memory");
                self.lines.push(b'\n');
            }
        }
    }

    /// How many bytes are waiting.
    pub fn len(&mut self) -> usize {
        self.csv.flush().expect("writing to memory");
        self.csv.get_ref().len() + self.lines.len()
    }

    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }

    /// The bytes waiting, leaving the buffer empty.
    pub fn take(&mut self) -> Vec<u8> {
        match self.format {
            Format::Csv => std::mem::replace(&mut self.csv, csv_writer()).into_inner().expect("writing to memory"),
            Format::Ndjson => std::mem::take(&mut self.lines),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::{AuditAction, Role};

    fn entry(actor_name: &str, user_agent: &str) -> AuditEntry {
        AuditEntry {
            id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718".into(),
            org_id: "org-acme".into(),
            action: AuditAction::ChangedRole,
            occurred_at: shared::time::parse("2026-12-01T09:00:00Z").unwrap(),
            actor_id: "ada".into(),
            actor_name: actor_name.into(),
            target_id: "bob".into(),
            target_name: "Bob, \"the\" Member\r\nNext line".into(),
            request_id: "req-1".into(),
            source_ip: "203.0.113.24".into(),
            user_agent: user_agent.into(),
            role_change: None,
        }
        .changing_role(Role::Member, Role::Admin)
    }

    #[test]
    fn csv_quotes_per_rfc_4180_and_defuses_formulas() {
        let mut rows = Rows::new(Format::Csv);
        rows.push(&entry("=HYPERLINK(\"http://evil\")", "@SUM(1+1)"));
        rows.push(&entry("-2+3", "+cmd|' /C calc'!A0"));
        let text = String::from_utf8(rows.take()).unwrap();
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), COLUMNS);
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 2);
        assert_eq!(&records[0][4], "'=HYPERLINK(\"http://evil\")");
        assert_eq!(&records[0][9], "'@SUM(1+1)");
        assert_eq!(&records[1][4], "'-2+3");
        assert_eq!(&records[1][9], "'+cmd|' /C calc'!A0");
        assert_eq!(&records[0][6], "Bob, \"the\" Member\r\nNext line", "quoted, read back whole");
        assert_eq!(&records[0][10], r#"{"role":{"from":"member","to":"admin"}}"#);
        assert_eq!(&records[0][1], "2026-12-01T09:00:00Z", "as the Log shows it");
        assert!(text.starts_with("id,occurredAt,action,") && text.contains("\r\n"), "{text}");
        assert!(text.contains("\"Bob, \"\"the\"\" Member\r\nNext line\""), "quotes doubled inside quotes: {text}");
        assert!(rows.is_empty());
    }

    #[test]
    fn ndjson_is_one_object_a_line_with_the_same_columns() {
        let mut rows = Rows::new(Format::Ndjson);
        rows.push(&entry("Ada", "=not a formula in JSON"));
        let text = String::from_utf8(rows.take()).unwrap();
        assert_eq!(text.lines().count(), 1);
        let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        let keys: Vec<&str> = COLUMNS.to_vec();
        let mut found: Vec<&str> = line.as_object().unwrap().keys().map(String::as_str).collect();
        let mut wanted = keys.clone();
        found.sort();
        wanted.sort();
        assert_eq!(found, wanted);
        assert_eq!(line["userAgent"], "=not a formula in JSON");
        assert_eq!(line["changes"]["role"]["to"], "admin");
    }
}

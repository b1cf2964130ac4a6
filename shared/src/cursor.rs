//! Opaque paging cursors, bound to the organisation whose listing made them: a cursor from
//! another organisation, or one that was tampered with, is a 400 and never reaches DynamoDB.

use crate::ApiError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

const VERSION: u8 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<T> {
    v: u8,
    org: String,
    at: T,
}

pub fn encode<T: Serialize>(org_id: &str, position: &T) -> String {
    let envelope = Envelope { v: VERSION, org: org_id.to_owned(), at: position };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&envelope).unwrap_or_default())
}

/// The position a cursor holds, if it is one of `org_id`'s.
pub fn decode<T: DeserializeOwned>(raw: &str, org_id: &str) -> Result<T, ApiError> {
    let bytes = URL_SAFE_NO_PAD.decode(raw.trim_end_matches('=')).map_err(|_| invalid())?;
    let envelope: Envelope<T> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if envelope.v != VERSION || envelope.org != org_id {
        return Err(invalid());
    }
    Ok(envelope.at)
}

pub fn invalid() -> ApiError {
    ApiError::BadRequest("cursor is not valid for this listing.".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_for_its_organisation_only() {
        let raw = encode("org-a", &("u-1".to_owned(), 7u32));
        assert_eq!(decode::<(String, u32)>(&raw, "org-a").unwrap(), ("u-1".to_owned(), 7));
        assert!(decode::<(String, u32)>(&raw, "org-b").is_err());
    }

    #[test]
    fn garbage_is_refused() {
        for raw in ["", "!!", "bm90IGpzb24", &URL_SAFE_NO_PAD.encode(r#"{"v":2,"org":"org-a","at":1}"#)] {
            assert!(decode::<u32>(raw, "org-a").is_err(), "{raw:?}");
        }
    }
}

//! API Gateway's JWT authorizer, as HTTP APIs apply it: the token from the identity source
//! (`Bearer ` optional), RS256 signed by a key of the issuer's JWKS, `iss` the configured
//! issuer, `aud` (or `client_id` where there is no `aud`) one of the audiences, `exp` in the
//! future, `nbf` and `iat` not. On success, the claims as API Gateway passes them to the
//! function: every value a string, arrays as `[a b]`.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::RwLock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// For the `www-authenticate` header.
    pub reason: &'static str,
}

fn refuse(reason: &'static str) -> Refusal {
    Refusal { reason }
}

pub struct Authorizer {
    pub issuer: String,
    pub audiences: Vec<String>,
    jwks_url: String,
    http: reqwest::Client,
    keys: RwLock<Option<JwkSet>>,
}

impl Authorizer {
    /// `jwks_url`: where the issuer's keys are (API Gateway reads `<issuer>/.well-known/jwks.json`;
    /// locally the emulator serves them).
    pub fn new(issuer: String, audiences: Vec<String>, jwks_url: String) -> Self {
        Self { issuer, audiences, jwks_url, http: reqwest::Client::new(), keys: RwLock::new(None) }
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, Refusal> {
        for refresh in [false, true] {
            if refresh || self.keys.read().unwrap().is_none() {
                let fetched: JwkSet = async { self.http.get(&self.jwks_url).send().await?.json().await }
                    .await
                    .map_err(|_: reqwest::Error| refuse("the issuer's keys could not be read"))?;
                *self.keys.write().unwrap() = Some(fetched);
            }
            let keys = self.keys.read().unwrap();
            if let Some(jwk) = keys.as_ref().and_then(|set| set.find(kid)) {
                return DecodingKey::from_jwk(jwk).map_err(|_| refuse("the signing key is unusable"));
            }
        }
        Err(refuse("the token was not signed by a key of the issuer"))
    }

    /// The claims of a token API Gateway would let through, flattened as it passes them.
    pub async fn authorize(&self, header: Option<&str>, now: u64) -> Result<HashMap<String, String>, Refusal> {
        let raw = header.map(str::trim).filter(|h| !h.is_empty()).ok_or_else(|| refuse("no token"))?;
        let token = match raw.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            Some(_) => return Err(refuse("the token is malformed")),
            None => raw,
        };
        let header = decode_header(token).map_err(|_| refuse("the token is malformed"))?;
        if header.alg != Algorithm::RS256 {
            return Err(refuse("the token is not signed with RS256"));
        }
        let kid = header.kid.ok_or_else(|| refuse("the token names no key"))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.validate_aud = false; // `aud`, or `client_id`: checked below
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        let data = decode::<serde_json::Map<String, Value>>(token, &key, &validation).map_err(|error| {
            use jsonwebtoken::errors::ErrorKind;
            match error.kind() {
                ErrorKind::ExpiredSignature => refuse("the token has expired"),
                ErrorKind::ImmatureSignature => refuse("the token is not valid yet"),
                ErrorKind::InvalidIssuer => refuse("the token's issuer is not trusted"),
                ErrorKind::InvalidSignature => refuse("the token's signature is invalid"),
                _ => refuse("the token is invalid"),
            }
        })?;
        let claims = data.claims;
        if claims.get("iat").and_then(Value::as_u64).is_some_and(|iat| iat > now) {
            return Err(refuse("the token was issued in the future"));
        }
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => self.audiences.contains(aud),
            Some(Value::Array(auds)) => {
                auds.iter().any(|a| a.as_str().is_some_and(|a| self.audiences.iter().any(|x| x == a)))
            }
            Some(_) => false,
            None => {
                claims.get("client_id").and_then(Value::as_str).is_some_and(|c| self.audiences.iter().any(|x| x == c))
            }
        };
        if !audience_ok {
            return Err(refuse("the token's audience is not allowed"));
        }
        Ok(claims.into_iter().map(|(name, value)| (name, flatten(&value))).collect())
    }
}

/// A claim's value as API Gateway passes it: strings as they are, arrays as `[a b]`,
/// anything else as its JSON text.
pub fn flatten(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(flatten).collect::<Vec<_>>().join(" ")),
        other => other.to_string(),
    }
}

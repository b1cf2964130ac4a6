//! Who is calling, read only from the claims that API Gateway's JWT authorizer verified.
//! Headers, the body and the raw `Authorization` header are never consulted.

use crate::error::ApiError;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub id: String,
    /// `cognito:username`: the caller's username in the pool, their membership's `userId`.
    pub username: Option<String>,
    pub org_id: String,
    /// `name`, else `email`, else the id: what the audit log shows.
    pub display_name: String,
    pub groups: Vec<String>,
}

impl Caller {
    /// The caller, from the claims of an ID token of the pool whose issuer is `issuer`.
    /// The authorizer has verified the token; this refuses one it should not have let
    /// through (another pool's, or an access token), so that a misconfigured template fails
    /// closed.
    pub fn from_request(request: &Request, issuer: &str) -> Result<Self, ApiError> {
        let claims = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => {
                context.authorizer.as_ref().and_then(|authorizer| authorizer.jwt.as_ref()).map(|jwt| &jwt.claims)
            }
            _ => None,
        }
        .ok_or(ApiError::Unauthenticated("no JWT authorizer block"))?;
        Self::from_claims(claims, issuer)
    }

    pub fn from_claims(claims: &HashMap<String, String>, issuer: &str) -> Result<Self, ApiError> {
        let claim = |name: &str| claims.get(name).map(|value| value.trim()).filter(|value| !value.is_empty());
        if claim("token_use") != Some("id") {
            tracing::warn!(token_use = claim("token_use").unwrap_or_default(), "refused: not an ID token");
            return Err(ApiError::Unauthenticated("token_use is not id"));
        }
        if claims.get("iss").map(String::as_str) != Some(issuer) {
            tracing::warn!(
                iss = claim("iss").unwrap_or_default(),
                expected = issuer,
                "refused: the token is not from this function's user pool"
            );
            return Err(ApiError::Unauthenticated("iss is not this pool's issuer"));
        }
        let id = claim("sub").ok_or(ApiError::Unauthenticated("no sub claim"))?;
        let org_id = claim("custom:org_id").ok_or(ApiError::Unauthenticated("no custom:org_id claim"))?;
        let display_name = claim("name").or_else(|| claim("email")).unwrap_or(id);
        Ok(Self {
            id: id.to_owned(),
            username: claim("cognito:username").map(str::to_owned),
            org_id: org_id.to_owned(),
            display_name: display_name.to_owned(),
            groups: claim("cognito:groups").map(parse_groups).unwrap_or_default(),
        })
    }

    /// The caller as the audit log names them.
    pub fn actor(&self) -> crate::domain::Actor {
        crate::domain::Actor { id: self.id.clone(), org_id: self.org_id.clone(), name: self.display_name.clone() }
    }

    pub fn is_admin(&self, admin_group: &str) -> bool {
        self.groups.iter().any(|group| group == admin_group)
    }

    /// The organisation is always the caller's own, so an administrator of the caller's
    /// organisation is a caller in the administrators' group.
    pub fn require_admin(&self, admin_group: &str) -> Result<(), ApiError> {
        if self.is_admin(admin_group) {
            Ok(())
        } else {
            Err(ApiError::Forbidden("caller is not in the administrators' group"))
        }
    }
}

/// `cognito:groups` arrives in one of two shapes: API Gateway HTTP APIs flatten the array to
/// `[org-admin other]`; direct invocations may carry the JSON text `["org-admin"]`. Anything
/// else (a bare name, commas) yields no groups.
fn parse_groups(raw: &str) -> Vec<String> {
    if let Ok(groups) = serde_json::from_str::<Vec<String>>(raw) {
        return groups;
    }
    match raw.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
        Some(inner) if !inner.contains(['"', ',']) => inner.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool";

    /// An ID token's claims of this pool, with `pairs`.
    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut claims: HashMap<String, String> = [("token_use", "id"), ("iss", ISSUER)]
            .iter()
            .chain(pairs)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        claims.retain(|_, v| v != "<absent>");
        claims
    }

    #[test]
    fn only_an_id_token_of_this_pool_is_accepted() {
        let base = [("sub", "u1"), ("custom:org_id", "o")];
        assert!(Caller::from_claims(&claims(&base), ISSUER).is_ok());
        let other_pool = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other";
        for bad in [
            claims(&[base[0], base[1], ("token_use", "access")]),
            claims(&[base[0], base[1], ("token_use", "<absent>")]),
            claims(&[base[0], base[1], ("iss", other_pool)]),
            claims(&[base[0], base[1], ("iss", "<absent>")]),
            claims(&[base[0], base[1], ("iss", &format!("{ISSUER}/"))]),
        ] {
            assert!(
                matches!(Caller::from_claims(&bad, ISSUER), Err(ApiError::Unauthenticated(_))),
                "{bad:?} must be refused"
            );
        }
    }

    fn admin_claims(groups: &str) -> HashMap<String, String> {
        claims(&[("sub", "admin-1"), ("custom:org_id", "org-a"), ("cognito:groups", groups)])
    }

    #[test]
    fn the_flattened_api_gateway_shape_is_read() {
        let caller = Caller::from_claims(&admin_claims("[org-admin other]"), ISSUER).unwrap();
        assert_eq!(caller.groups, ["org-admin", "other"]);
        assert!(caller.is_admin("org-admin"));
    }

    #[test]
    fn the_json_array_shape_is_read() {
        let caller = Caller::from_claims(&admin_claims(r#"["other","org-admin"]"#), ISSUER).unwrap();
        assert!(caller.is_admin("org-admin"));
    }

    #[test]
    fn a_similar_group_name_is_not_the_admin_group() {
        for groups in ["[org-admins]", r#"["org-admins"]"#, "[org-admin-x]", "[Org-Admin]"] {
            let caller = Caller::from_claims(&admin_claims(groups), ISSUER).unwrap();
            assert!(!caller.is_admin("org-admin"), "{groups} must not be admin");
        }
    }

    #[test]
    fn looser_shapes_are_not_accepted() {
        for groups in ["org-admin", "[org-admin,other]", "org-admin other", "[\"org-admin\" other]", ""] {
            let caller = Caller::from_claims(&admin_claims(groups), ISSUER).unwrap();
            assert!(!caller.is_admin("org-admin"), "{groups:?} must not be admin");
        }
    }

    #[test]
    fn a_missing_sub_or_org_is_unauthenticated() {
        let no_sub = claims(&[("custom:org_id", "org-a")]);
        let no_org = claims(&[("sub", "u1")]);
        let blank_org = claims(&[("sub", "u1"), ("custom:org_id", " ")]);
        for claims in [no_sub, no_org, blank_org] {
            assert!(matches!(Caller::from_claims(&claims, ISSUER), Err(ApiError::Unauthenticated(_))));
        }
    }

    #[test]
    fn the_display_name_prefers_name_then_email_then_id() {
        let named = claims(&[("sub", "u1"), ("custom:org_id", "o"), ("name", "Ann"), ("email", "a@x")]);
        let emailed = claims(&[("sub", "u1"), ("custom:org_id", "o"), ("email", "a@x")]);
        let bare = claims(&[("sub", "u1"), ("custom:org_id", "o")]);
        assert_eq!(Caller::from_claims(&named, ISSUER).unwrap().display_name, "Ann");
        assert_eq!(Caller::from_claims(&emailed, ISSUER).unwrap().display_name, "a@x");
        assert_eq!(Caller::from_claims(&bare, ISSUER).unwrap().display_name, "u1");
    }

    #[test]
    fn no_groups_claim_means_no_groups() {
        let caller = Caller::from_claims(&claims(&[("sub", "u1"), ("custom:org_id", "o")]), ISSUER).unwrap();
        assert!(caller.groups.is_empty());
        assert!(matches!(caller.require_admin("org-admin"), Err(ApiError::Forbidden(_))));
    }
}

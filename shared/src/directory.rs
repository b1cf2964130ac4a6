//! The Cognito user pool as the [`Directory`]: the authority on whether a user exists, which
//! organisation they belong to, and whether they have verified.
//!
//! Retries: `AdminCreateUser`, which creates a user or (`RESEND`) sends the invitation again,
//! sends a message each time it succeeds, so it is sent once, with the SDK's retries off
//! ([`once_only`]): after a timeout or a 5xx the SDK would send it again (a second message,
//! whose new temporary password voids the first), and it counts `LimitExceededException` as
//! throttling. An unanswered call is an unknown outcome, which the callers handle as one.
//! Every other call keeps the SDK's standard retries, being safe to repeat: `AdminGetUser`
//! and `ListUsers` read; `AdminDisableUser`, `AdminEnableUser` and `AdminAddUserToGroup` set
//! a state that a repeat sets again; a repeated `AdminDeleteUser` whose first attempt
//! deleted answers `UserNotFoundException`, taken as [`Deletion::AlreadyGone`].

use crate::ports::{
    ContactKind, Creation, Deletion, Directory, DirectoryError, DirectoryUser, NewUser, Resent, UserState,
};
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, DeliveryMediumType, MessageActionType, UserStatusType, UserType,
};

pub const ORG_ATTRIBUTE: &str = "custom:org_id";

#[derive(Debug, Clone)]
pub struct CognitoDirectory {
    client: Client,
    user_pool_id: String,
}

fn failed<E, R>(operation: &'static str, error: SdkError<E, R>) -> DirectoryError
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    // AdminCreateUser answers LimitExceededException when a message cannot go out under a
    // delivery quota: Cognito's own email sender allows about 50 emails a day.
    let delivery_quota = operation.starts_with("AdminCreateUser") && code(&error) == Some("LimitExceededException");
    let outcome_unknown =
        matches!(error, SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_));
    DirectoryError { operation, delivery_quota, outcome_unknown, source: Box::new(error) }
}

fn code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    error.as_service_error().and_then(|e| e.code())
}

fn is_user_not_found<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    code(error) == Some("UserNotFoundException")
}

/// Cognito's refusal of an operation on a disabled user: `NotAuthorizedException`, "User is
/// disabled." (the same code also means other refusals, told apart by the message).
fn is_user_disabled<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    code(error) == Some("NotAuthorizedException")
        && error.as_service_error().and_then(|e| e.message()).is_some_and(|m| m.contains("User is disabled"))
}

fn attribute(attributes: &[AttributeType], name: &str) -> Option<String> {
    attributes.iter().find(|a| a.name() == name).and_then(|a| a.value()).map(str::to_owned)
}

fn user(
    username: &str,
    status: Option<&UserStatusType>,
    enabled: bool,
    attributes: &[AttributeType],
    created: Option<&aws_sdk_cognitoidentityprovider::primitives::DateTime>,
) -> DirectoryUser {
    DirectoryUser {
        created_at: created.and_then(|at| chrono::DateTime::from_timestamp(at.secs(), at.subsec_nanos())),
        username: username.to_owned(),
        status: state(status),
        enabled,
        org_id: attribute(attributes, ORG_ATTRIBUTE),
        name: attribute(attributes, "name"),
        phone: attribute(attributes, "phone_number"),
        email: attribute(attributes, "email"),
    }
}

/// Cognito's user status in the domain's words.
fn state(status: Option<&UserStatusType>) -> UserState {
    match status {
        Some(UserStatusType::ForceChangePassword) => UserState::Invited,
        Some(UserStatusType::Unconfirmed) => UserState::Unconfirmed,
        Some(UserStatusType::Confirmed) => UserState::Confirmed,
        Some(other) => UserState::Other(other.as_str().to_owned()),
        None => UserState::Other(String::new()),
    }
}

/// A user as ListUsers returns them.
fn listed(u: &UserType) -> DirectoryUser {
    user(u.username().unwrap_or_default(), u.user_status(), u.enabled(), u.attributes(), u.user_create_date())
}

/// A per-call configuration with the SDK's retries off: the call is sent once.
fn once_only() -> aws_sdk_cognitoidentityprovider::config::Builder {
    aws_sdk_cognitoidentityprovider::config::Builder::default()
        .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
}

fn attr(name: &str, value: &str) -> AttributeType {
    AttributeType::builder().name(name).value(value).build().expect("name and value are set")
}

impl CognitoDirectory {
    pub fn new(client: Client, user_pool_id: impl Into<String>) -> Self {
        Self { client, user_pool_id: user_pool_id.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn user_pool_id(&self) -> &str {
        &self.user_pool_id
    }

    /// Every user of the pool (tests and tools).
    pub async fn all_users(&self) -> Result<Vec<DirectoryUser>, DirectoryError> {
        self.all_users_paced(std::time::Duration::ZERO).await
    }

    /// Every user of the pool, a page (60) at a time with `pause` between pages, so that a
    /// large pool stays inside `ListUsers`' quota (30 a second, shared by the account).
    pub async fn all_users_paced(&self, pause: std::time::Duration) -> Result<Vec<DirectoryUser>, DirectoryError> {
        let mut users = Vec::new();
        let mut token = None;
        loop {
            if token.is_some() && !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
            let (page, next) = self.users_page(token).await?;
            users.extend(page);
            token = next;
            if token.is_none() {
                return Ok(users);
            }
        }
    }

    /// One page (60) of the pool's users from `token`, and the token of the next page.
    pub async fn users_page(
        &self,
        token: Option<String>,
    ) -> Result<(Vec<DirectoryUser>, Option<String>), DirectoryError> {
        let page = self
            .client
            .list_users()
            .user_pool_id(&self.user_pool_id)
            .limit(60)
            .set_pagination_token(token)
            .send()
            .await
            .map_err(|error| failed("ListUsers", error))?;
        Ok((page.users().iter().map(listed).collect(), page.pagination_token().map(str::to_owned)))
    }

    /// The usernames of every member of `group`, a page (60) at a time with `pause` between
    /// pages (`ListUsersInGroup`'s quota is shared by the account too).
    pub async fn group_members_paced(
        &self,
        group: &str,
        pause: std::time::Duration,
    ) -> Result<Vec<String>, DirectoryError> {
        let mut names = Vec::new();
        let mut token = None;
        loop {
            if token.is_some() && !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
            let page = self
                .client
                .list_users_in_group()
                .user_pool_id(&self.user_pool_id)
                .group_name(group)
                .limit(60)
                .set_next_token(token)
                .send()
                .await
                .map_err(|error| failed("ListUsersInGroup", error))?;
            names.extend(page.users().iter().filter_map(|u| u.username().map(str::to_owned)));
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(names);
            }
        }
    }
}

impl Directory for CognitoDirectory {
    async fn get_user(&self, username: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        let result = self.client.admin_get_user().user_pool_id(&self.user_pool_id).username(username).send().await;
        match result {
            Ok(output) => Ok(Some(user(
                output.username(),
                output.user_status(),
                output.enabled(),
                output.user_attributes(),
                output.user_create_date(),
            ))),
            Err(error) if is_user_not_found(&error) => Ok(None),
            Err(error) => Err(failed("AdminGetUser", error)),
        }
    }

    async fn disable(&self, username: &str) -> Result<bool, DirectoryError> {
        let result = self.client.admin_disable_user().user_pool_id(&self.user_pool_id).username(username).send().await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_user_not_found(&error) => Ok(false),
            Err(error) => Err(failed("AdminDisableUser", error)),
        }
    }

    async fn enable(&self, username: &str) -> Result<bool, DirectoryError> {
        let result = self.client.admin_enable_user().user_pool_id(&self.user_pool_id).username(username).send().await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_user_not_found(&error) => Ok(false),
            Err(error) => Err(failed("AdminEnableUser", error)),
        }
    }

    async fn delete(&self, username: &str) -> Result<Deletion, DirectoryError> {
        let result = self.client.admin_delete_user().user_pool_id(&self.user_pool_id).username(username).send().await;
        match result {
            Ok(_) => Ok(Deletion::Deleted),
            Err(error) if is_user_not_found(&error) => Ok(Deletion::AlreadyGone),
            Err(error) => Err(failed("AdminDeleteUser", error)),
        }
    }

    async fn create_user(&self, new: &NewUser) -> Result<Creation, DirectoryError> {
        // The pool signs in by phone and email as aliases, and Cognito accepts an alias only
        // once it is verified: the invitee's contacts are created verified (the temporary
        // password that reaches them proves them at first sign-in). Without
        // `ForceAliasCreation`, Cognito itself refuses a contact another user holds verified
        // (`AliasExistsException`, answered 409).
        let mut attributes = vec![
            attr("name", &new.name),
            attr("phone_number", new.phone.as_str()),
            attr("phone_number_verified", "true"),
            attr(ORG_ATTRIBUTE, &new.org_id),
        ];
        let mut mediums = vec![DeliveryMediumType::Sms];
        if let Some(email) = &new.email {
            attributes.push(attr("email", email.as_str()));
            attributes.push(attr("email_verified", "true"));
            mediums.push(DeliveryMediumType::Email);
        }
        let result = self
            .client
            .admin_create_user()
            .user_pool_id(&self.user_pool_id)
            .username(new.username.as_str())
            .set_user_attributes(Some(attributes))
            .set_desired_delivery_mediums(Some(mediums))
            .customize()
            .config_override(once_only())
            .send()
            .await;
        match result {
            Ok(_) => Ok(Creation::Created),
            Err(error) if code(&error) == Some("UsernameExistsException") => Ok(Creation::UsernameExists),
            Err(error) if code(&error) == Some("AliasExistsException") => Ok(Creation::ContactInUse),
            Err(error) => Err(failed("AdminCreateUser", error)),
        }
    }

    async fn add_to_group(&self, username: &str, group: &str) -> Result<(), DirectoryError> {
        self.client
            .admin_add_user_to_group()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .group_name(group)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| failed("AdminAddUserToGroup", error))
    }

    async fn remove_from_group(&self, username: &str, group: &str) -> Result<bool, DirectoryError> {
        let result = self
            .client
            .admin_remove_user_from_group()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .group_name(group)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_user_not_found(&error) => Ok(false),
            Err(error) => Err(failed("AdminRemoveUserFromGroup", error)),
        }
    }

    async fn sign_out(&self, username: &str) -> Result<bool, DirectoryError> {
        let result =
            self.client.admin_user_global_sign_out().user_pool_id(&self.user_pool_id).username(username).send().await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_user_not_found(&error) || is_user_disabled(&error) => Ok(false),
            Err(error) => Err(failed("AdminUserGlobalSignOut", error)),
        }
    }

    async fn users_with(&self, kind: ContactKind, value: &str) -> Result<Vec<DirectoryUser>, DirectoryError> {
        // The values reaching here are validated phones and emails, which hold no quote or
        // backslash, so the filter cannot be broken out of.
        let filter = format!("{} = \"{}\"", kind.attribute(), value);
        let output = self
            .client
            .list_users()
            .user_pool_id(&self.user_pool_id)
            .filter(filter)
            .limit(10)
            .send()
            .await
            .map_err(|error| failed("ListUsers", error))?;
        Ok(output.users().iter().map(listed).collect())
    }

    async fn resend_invitation(&self, user: &DirectoryUser) -> Result<Resent, DirectoryError> {
        let mut mediums = vec![DeliveryMediumType::Sms];
        if user.email.is_some() {
            mediums.push(DeliveryMediumType::Email);
        }
        // The user's own attributes go with the request, unchanged: Cognito keeps them on a
        // RESEND, and emulators that rebuild the user from the request keep them too.
        let attributes = [
            ("name", &user.name),
            ("phone_number", &user.phone),
            ("email", &user.email),
            (ORG_ATTRIBUTE, &user.org_id),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|value| attr(name, value)))
        .collect();
        let username = user.username.as_str();
        let result = self
            .client
            .admin_create_user()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .message_action(MessageActionType::Resend)
            .set_user_attributes(Some(attributes))
            .set_desired_delivery_mediums(Some(mediums))
            .customize()
            .config_override(once_only())
            .send()
            .await;
        match result {
            Ok(_) => Ok(Resent::Sent),
            Err(error) if is_user_not_found(&error) => Ok(Resent::NotFound),
            Err(error) if code(&error) == Some("UnsupportedUserStateException") => Ok(Resent::NotInvitable),
            // An answer from Cognito is a refusal: nothing was sent. Anything else (a timeout,
            // a connection lost) leaves it unknown whether the message went out.
            Err(error) if error.as_service_error().is_some() => {
                Ok(Resent::Refused(failed("AdminCreateUser(RESEND)", error)))
            }
            Err(error) => Err(failed("AdminCreateUser(RESEND)", error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cognitos_statuses_become_the_domains_states_and_nothing_unknown_counts_as_unverified() {
        assert_eq!(state(Some(&UserStatusType::ForceChangePassword)), UserState::Invited);
        assert_eq!(state(Some(&UserStatusType::Unconfirmed)), UserState::Unconfirmed);
        assert_eq!(state(Some(&UserStatusType::Confirmed)), UserState::Confirmed);
        assert_eq!(state(Some(&UserStatusType::ResetRequired)), UserState::Other("RESET_REQUIRED".into()));
        let newer = UserStatusType::from("SOMETHING_NEW");
        assert_eq!(state(Some(&newer)), UserState::Other("SOMETHING_NEW".into()));
        assert_eq!(state(None), UserState::Other(String::new()));
        assert_eq!(UserState::Invited.as_str(), "FORCE_CHANGE_PASSWORD");
    }
}

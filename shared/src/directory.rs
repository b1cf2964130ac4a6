//! The Cognito user pool, seen as the directory of people: the authority on whether a
//! user exists, which organisation they belong to, and whether they have verified.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{AttributeType, UserStatusType};

pub const ORG_ATTRIBUTE: &str = "custom:org_id";

#[derive(Debug, thiserror::Error)]
#[error("Cognito {operation} failed")]
pub struct DirectoryError {
    pub operation: &'static str,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl DirectoryError {
    fn new<E, R>(operation: &'static str, error: SdkError<E, R>) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        Self { operation, source: Box::new(error) }
    }
}

impl From<DirectoryError> for crate::ApiError {
    fn from(error: DirectoryError) -> Self {
        crate::ApiError::unavailable(error)
    }
}

/// A user as Cognito holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryUser {
    pub username: String,
    pub status: UserStatusType,
    pub enabled: bool,
    pub org_id: Option<String>,
}

impl DirectoryUser {
    /// Invited but not yet signed in and verified: the only users a cancel may delete.
    pub fn is_unverified(&self) -> bool {
        matches!(self.status, UserStatusType::ForceChangePassword | UserStatusType::Unconfirmed)
    }

    pub fn belongs_to(&self, org_id: &str) -> bool {
        self.org_id.as_deref() == Some(org_id)
    }
}

/// Whether a deletion found the user there to delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    Deleted,
    AlreadyGone,
}

#[derive(Debug, Clone)]
pub struct Directory {
    client: Client,
    user_pool_id: String,
}

impl Directory {
    pub fn new(client: Client, user_pool_id: impl Into<String>) -> Self {
        Self { client, user_pool_id: user_pool_id.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn user_pool_id(&self) -> &str {
        &self.user_pool_id
    }

    pub async fn get_user(&self, username: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        let result = self.client.admin_get_user().user_pool_id(&self.user_pool_id).username(username).send().await;
        match result {
            Ok(output) => Ok(Some(DirectoryUser {
                username: output.username().to_owned(),
                status: output.user_status().cloned().unwrap_or(UserStatusType::UnknownValue),
                enabled: output.enabled(),
                org_id: attribute(output.user_attributes(), ORG_ATTRIBUTE),
            })),
            Err(error) if is_user_not_found(&error) => Ok(None),
            Err(error) => Err(DirectoryError::new("AdminGetUser", error)),
        }
    }

    /// Disabling stops the invitee from signing in, and so from verifying, while a cancel
    /// decides. Returns false when the user no longer exists.
    pub async fn disable(&self, username: &str) -> Result<bool, DirectoryError> {
        let result = self.client.admin_disable_user().user_pool_id(&self.user_pool_id).username(username).send().await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_user_not_found(&error) => Ok(false),
            Err(error) => Err(DirectoryError::new("AdminDisableUser", error)),
        }
    }

    pub async fn enable(&self, username: &str) -> Result<bool, DirectoryError> {
        let result = self.client.admin_enable_user().user_pool_id(&self.user_pool_id).username(username).send().await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_user_not_found(&error) => Ok(false),
            Err(error) => Err(DirectoryError::new("AdminEnableUser", error)),
        }
    }

    pub async fn delete(&self, username: &str) -> Result<Deletion, DirectoryError> {
        let result = self.client.admin_delete_user().user_pool_id(&self.user_pool_id).username(username).send().await;
        match result {
            Ok(_) => Ok(Deletion::Deleted),
            Err(error) if is_user_not_found(&error) => Ok(Deletion::AlreadyGone),
            Err(error) => Err(DirectoryError::new("AdminDeleteUser", error)),
        }
    }
}

fn attribute(attributes: &[AttributeType], name: &str) -> Option<String> {
    attributes.iter().find(|a| a.name() == name).and_then(|a| a.value()).map(str::to_owned)
}

fn is_user_not_found<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error.as_service_error().and_then(|e| e.code()) == Some("UserNotFoundException")
}

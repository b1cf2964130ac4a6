//! A cancel disables the invitee while it decides, so that they cannot verify in between.
//! The membership records which cancel did (`disabledBy`); only such a user is ever enabled
//! again by the functions — never one an operator disabled.

use crate::Deps;
use crate::domain::Member;
use crate::ports::{Directory, DirectoryError, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum EnableError {
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<EnableError> for crate::ApiError {
    fn from(error: EnableError) -> Self {
        crate::ApiError::unavailable(error)
    }
}

/// Enables the user again if a cancel disabled them (`member.disabled_by`), then forgets
/// that it did. A user disabled by anyone else is left as they are.
pub async fn enable_if_a_cancel_disabled<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    member: &Member,
) -> Result<bool, EnableError> {
    let Some(cancel) = &member.disabled_by else { return Ok(false) };
    deps.directory.enable(member.user_id.as_str()).await?;
    deps.store.clear_disabled_by(member, cancel).await?;
    Ok(true)
}

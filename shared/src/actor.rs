//! Who the audit log says acted. A token's `name` and `email` are the user's own to change
//! where the app client lets them, so the log names an actor by their membership record,
//! found by `cognito:username` (the pool's username, which is the membership's `userId`),
//! and only without one (an administrator made outside the invite path) by the token.

use crate::domain::{Actor, UserId};
use crate::identity::Caller;
use crate::ports::Members;

pub async fn actor_of<S: Members>(store: &S, caller: &Caller) -> Actor {
    let mut actor = caller.actor();
    let Some(user_id) = caller.username.as_deref().and_then(|name| UserId::parse(name).ok()) else {
        return actor;
    };
    match store.get_member(&caller.org_id, &user_id).await {
        Ok(Some(member)) => actor.name = member.name,
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(error = %crate::error::error_chain(&error), "the actor's name is the token's: membership unread");
        }
    }
    actor
}

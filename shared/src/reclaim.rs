//! Deleting the Cognito user an invitation left behind (it died between Cognito and its
//! commit, or its reservation was taken over), without ever acting on a read that a
//! concurrent request can have made stale. Used by invite-user, when it takes over a dead
//! invitation's reservation or cleans up after its own, and by the reconciler.
//!
//! The order of calls, and why:
//!
//! 1. **hold** the invitation's reservations: a conditional write, on the version seen (the
//!    reservation's `reservedAt`), that marks them `heldBy` this reclaim. A retry of that
//!    invitation re-reserves (which rewrites the reservation and so breaks the hold), and an
//!    invitation commits only reservations that nobody holds: from here on, it cannot commit
//!    without the hold being broken first;
//! 2. read the user: gone, the reservations go too; disabled by someone else (an operator),
//!    or signed in already: not ours to delete, the hold is let go;
//! 3. **disable** the user, as cancel does: nobody can sign in while it is decided, and an
//!    invitation that finds its user disabled does not commit;
//! 4. check again, now: the hold still stands, no membership (read consistently), and the
//!    user still `FORCE_CHANGE_PASSWORD`. Anything else backs off: the user enabled again, the
//!    hold let go;
//! 5. delete the user, then the held reservations (if a retry re-reserved meanwhile, its
//!    reservation stays, for it to use).
//!
//! A failure after 3 enables the user again where it can; if even that fails, the hold stays
//! on the reservations, which tells the next reclaim that the user was disabled by one.

use crate::Deps;
use crate::domain::UserId;
use crate::error::ApiError;
use crate::ports::{ContactClaim, Deletion, Directory, Outcome, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reclaimed {
    /// The user is deleted (`user_deleted`), or was gone, and the held reservations removed
    /// (how many: one re-reserved meanwhile by its invitation's retry stays).
    Deleted { user_deleted: bool, reservations_removed: usize },
    /// The user is in use (signed in, a member, disabled by someone else): left as it is.
    InUse,
    /// A request is at work on the invitation (it re-reserved or committed under the hold):
    /// left to it.
    Contended,
}

/// Reclaims `user_id` of `org_id`, the user of the invitation that holds `reservations`
/// (none when that invitation's reservations were taken over by another: then no commit can
/// make it a member any more, and only a sign-in can make it in use).
pub async fn reclaim<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    org_id: &str,
    user_id: &UserId,
    reservations: &[ContactClaim],
) -> Result<Reclaimed, ApiError> {
    let hold = uuid::Uuid::new_v4().to_string();
    // A hold left by an earlier reclaim that could not enable the user again: that one
    // disabled them.
    let disabled_by_a_reclaim = reservations.iter().any(|claim| claim.held_by.is_some());
    if !reservations.is_empty() && deps.store.hold_reservations(reservations, &hold).await? == Outcome::ConditionFailed
    {
        return Ok(Reclaimed::Contended);
    }
    let let_go = async |outcome: Reclaimed| -> Result<Reclaimed, ApiError> {
        deps.store.release_hold(reservations, &hold).await?;
        Ok(outcome)
    };
    let Some(user) = deps.directory.get_user(user_id.as_str()).await? else {
        let reservations_removed = deps.store.remove_held_reservations(reservations, &hold).await?;
        return Ok(Reclaimed::Deleted { user_deleted: false, reservations_removed });
    };
    if !user.awaits_first_sign_in() || (!user.enabled && !disabled_by_a_reclaim) {
        return let_go(Reclaimed::InUse).await;
    }
    if !deps.directory.disable(user_id.as_str()).await? {
        let reservations_removed = deps.store.remove_held_reservations(reservations, &hold).await?;
        return Ok(Reclaimed::Deleted { user_deleted: false, reservations_removed });
    }
    let checked = async {
        if !deps.store.holds(reservations, &hold).await? {
            return Ok::<_, ApiError>(Some(Reclaimed::Contended));
        }
        if deps.store.get_member(org_id, user_id).await?.is_some() {
            return Ok(Some(Reclaimed::Contended));
        }
        match deps.directory.get_user(user_id.as_str()).await? {
            None => Ok(None),
            Some(user) if user.awaits_first_sign_in() => Ok(None),
            Some(_) => Ok(Some(Reclaimed::InUse)),
        }
    };
    let back_off = match checked.await {
        Ok(None) => None,
        Ok(Some(outcome)) => Some(Ok(outcome)),
        Err(error) => Some(Err(error)),
    };
    if let Some(outcome) = back_off {
        deps.directory.enable(user_id.as_str()).await?;
        let outcome = outcome?;
        return let_go(outcome).await;
    }
    match deps.directory.delete(user_id.as_str()).await {
        Ok(Deletion::Deleted | Deletion::AlreadyGone) => {}
        Err(error) => {
            deps.directory.enable(user_id.as_str()).await?;
            return Err(error.into());
        }
    }
    let reservations_removed = deps.store.remove_held_reservations(reservations, &hold).await?;
    Ok(Reclaimed::Deleted { user_deleted: true, reservations_removed })
}

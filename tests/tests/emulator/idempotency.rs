//! The idempotency records themselves: a replay within 24 hours, a fresh start after.

use members_tests::TestStack;
use shared::ports::prelude::*;
use shared::ports::{Claim, StoredResponse};

/// The lease of the template's functions: a 10 s timeout plus the margin.
const LEASE: std::time::Duration = std::time::Duration::from_secs(15);

#[tokio::test]
async fn a_finished_key_replays_for_24_hours_and_is_free_again_after() {
    let stack = TestStack::empty().await;
    let store = &stack.deps.store;
    let start = shared::time::parse("2026-11-26T09:00:00Z").unwrap();
    let response = StoredResponse {
        status: 201,
        headers: vec![("content-type".into(), "application/json".into())],
        body: "{}".into(),
    };

    assert_eq!(store.claim_idempotency_key("org#admin#k1", "fp-a", start, LEASE).await.unwrap(), Claim::Claimed);
    // The same request while the first is at work: wait out what is left of the lease.
    let soon = start + chrono::Duration::seconds(10);
    assert_eq!(
        store.claim_idempotency_key("org#admin#k1", "fp-a", soon, LEASE).await.unwrap(),
        Claim::InFlight { retry_after_seconds: LEASE.as_secs() - 10 }
    );
    store.finish_idempotency_key("org#admin#k1", "fp-a", &response, start).await.unwrap();

    let within = start + chrono::Duration::hours(23);
    let after = start + chrono::Duration::hours(25);
    assert_eq!(
        store.claim_idempotency_key("org#admin#k1", "fp-a", within, LEASE).await.unwrap(),
        Claim::Replay(response)
    );
    assert_eq!(store.claim_idempotency_key("org#admin#k1", "fp-b", within, LEASE).await.unwrap(), Claim::Mismatch);
    assert_eq!(store.claim_idempotency_key("org#admin#k1", "fp-b", after, LEASE).await.unwrap(), Claim::Claimed);
}

#[tokio::test]
async fn a_holder_that_died_is_taken_over_after_its_lease_by_the_same_request_only() {
    let stack = TestStack::empty().await;
    let store = &stack.deps.store;
    let start = shared::time::parse("2026-11-26T09:00:00Z").unwrap();
    assert_eq!(store.claim_idempotency_key("org#admin#k2", "fp-a", start, LEASE).await.unwrap(), Claim::Claimed);

    let later = start + chrono::Duration::seconds(31);
    assert_eq!(store.claim_idempotency_key("org#admin#k2", "fp-b", later, LEASE).await.unwrap(), Claim::Mismatch);
    assert_eq!(store.claim_idempotency_key("org#admin#k2", "fp-a", later, LEASE).await.unwrap(), Claim::Claimed);
    store.release_idempotency_key("org#admin#k2").await.unwrap();
    assert_eq!(store.claim_idempotency_key("org#admin#k2", "fp-b", later, LEASE).await.unwrap(), Claim::Claimed);
}

//! The randomised concurrent workload (see `members_tests::workload`), sized for `make
//! test`; `make soak` runs it with 10,000 operations. A failure prints its seed: run again
//! with `WORKLOAD_SEED=<seed>` to replay the same choices (the interleaving is the
//! scheduler's, so a replay makes the same requests, not always in the same order).

use members_tests::TestStack;
use members_tests::workload::{self, Settings};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_invites_cancels_resends_lists_and_sign_ins_with_faults_keep_every_invariant() {
    let stack = TestStack::empty().await;
    let settings = Settings::from_env(1000);

    let report = workload::run(&stack, settings).await;

    println!("{}", report.summary());
    assert!(report.done.iter().any(|d| d.kind == "invite" && d.status == 201), "the workload did invite people");
    assert!(report.done.iter().any(|d| d.kind == "cancel" && d.status == 204), "and cancel some");
    assert!(report.faults > 0 || report.settings.as_ref().unwrap().fault_rate == 0.0, "and faults were injected");
    assert!(report.held(), "an invariant broke; replay with WORKLOAD_SEED:\n{}", report.summary());
}

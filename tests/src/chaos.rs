//! Faults at random AWS calls, for the concurrent workload: each call of a client carrying
//! a [`RandomFaults`] fails with some probability, either before it leaves (nothing changes
//! on the server) or after the server did the work (the answer is lost). Seeded, so that a
//! failing run replays.
//!
//! Calls to the idempotency table are spared: a request that fails answers 503 and gives
//! its key back, and the workload retries it at once with the same key. Were the give-back
//! itself to fail, the retry would have to wait out the key's lease (the function timeout plus a margin) to take over; the
//! idempotency records' own faults are tested on their own (tests/idempotency.rs).

use crate::faults::operation;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
struct LoseAnswer;

impl Storable for LoseAnswer {
    type Storer = StoreReplace<Self>;
}

#[derive(Debug, Clone)]
pub struct RandomFaults {
    rng: Arc<Mutex<StdRng>>,
    /// The chance that a call fails, in [0, 1].
    rate: f64,
    injected: Arc<AtomicUsize>,
}

impl RandomFaults {
    pub fn new(seed: u64, rate: f64) -> Self {
        Self { rng: Arc::new(Mutex::new(StdRng::seed_from_u64(seed))), rate, injected: Arc::default() }
    }

    /// How many faults were injected so far.
    pub fn injected(&self) -> usize {
        self.injected.load(Ordering::SeqCst)
    }
}

impl Intercept for RandomFaults {
    fn name(&self) -> &'static str {
        "RandomFaults"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.request().body().bytes().unwrap_or_default();
        if String::from_utf8_lossy(body).contains("IdempotencyTable") {
            return Ok(());
        }
        let (strike, lose_answer) = {
            let mut rng = self.rng.lock().unwrap();
            (rng.random_bool(self.rate), rng.random_bool(0.5))
        };
        if !strike {
            return Ok(());
        }
        self.injected.fetch_add(1, Ordering::SeqCst);
        if lose_answer {
            cfg.interceptor_state().store_put(LoseAnswer);
            return Ok(());
        }
        Err(format!("injected fault: {} never left", operation(cfg)).into())
    }

    fn read_after_deserialization(
        &self,
        _context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg.load::<LoseAnswer>().is_some() {
            return Err(format!("injected fault: the answer to {} was lost", operation(cfg)).into());
        }
        Ok(())
    }
}

//! What every members function shares: who is calling ([`identity`]), how failures become
//! responses ([`error`]), configuration ([`config`]), the domain values ([`domain`]), and the
//! adapters over Cognito ([`directory`]) and DynamoDB ([`store`]).

pub mod backfill;
pub mod config;
pub mod cursor;
pub mod deps;
pub mod directory;
pub mod disabling;
pub mod domain;
pub mod error;
// The ports in memory, for the rules' fast tests. Compiled in every build rather than behind a
// feature that only the tests' dev-dependencies turned on: such a feature made the test build
// and every other build of the workspace two builds of `shared` and all that depends on it
// (docs/builds.md). No function names it (tests/infra/test_layout.py); link-time optimisation
// leaves it out of the deployed binaries.
pub mod fakes;
pub mod http;
pub mod https;
pub mod idempotency;
pub mod identity;
pub mod lifecycle;
pub mod ports;
pub mod pow;
pub mod quota;
pub mod reclaim;
pub mod redact;
pub mod request;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod trust;
pub mod view;

pub use config::Config;
pub use deps::{Deps, start};
pub use error::ApiError;

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
#[cfg(any(test, feature = "fakes"))]
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

//! The tests that run the functions against the emulator (moto, started by `make test`), through
//! the real SDK clients: one test binary, a module per story, so that the workspace and both
//! SDKs are linked once instead of once per story (docs/builds.md).

mod abuse_limits;
mod audit_events;
mod bootstrap_admin;
mod cancel_invitation;
mod drift_audit;
mod export_audit_log;
mod hostile;
mod idempotency;
mod invite_user;
mod list_audit_log;
mod list_members;
mod local_api;
mod member_lifecycle;
mod member_verified;
mod process_death;
mod provision;
mod reconciler;
mod resend_invitation;
mod smoke;
mod story;
mod tls;
mod workload;

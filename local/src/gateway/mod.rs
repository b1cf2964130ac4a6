//! What a deployed stack gives the console, on the loopback: the HTTP API as API Gateway
//! serves it (routes, JWT authorizer and CORS from `infra/template.yaml`) and the
//! reference console's origin, with the user pool's triggers the emulator does not call.

pub mod api;
pub mod authorizer;
pub mod console;
pub mod lambda_api;
pub mod routes;

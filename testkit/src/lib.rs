//! Shared pieces of the greenlight test kit: `gl-testapp` (the app under
//! deployment) and `gl-load` (the load client that watches for dropped
//! requests). Standard library only, so the binaries link fully static.

pub mod cli;
pub mod client;
pub mod http;
pub mod json;
pub mod lanes;
pub mod poll;
pub mod report;
pub mod server;
pub mod signals;

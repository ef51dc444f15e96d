//! Spec → [`Plan`]: fills every default the language names and checks what
//! needs the whole spec at once (names, hosts, ports, routes).
//!
//! [`build()`] is the entry: it places the hosts first (`hosts.rs`), then
//! the apps (`apps.rs`, with `colors.rs`, `health.rs` and `sidecars.rs`)
//! and accessories (`accessories.rs`) on them, then the proxy (`proxy.rs`,
//! `routes.rs`) and the webhook (`webhook.rs`). Every default an unwritten
//! keyword takes is in `defaults.rs`.

mod accessories;
mod app_checks;
mod apps;
mod bind;
mod build;
mod colors;
mod context;
mod defaults;
mod diagram;
mod durations;
mod files;
mod health;
mod hooks;
mod hosts;
mod model;
mod names;
mod parts;
mod ports;
mod proxy;
mod routes;
mod secrets;
mod service_names;
mod sidecars;
mod swarm;
mod tls;
mod verify;
mod volumes;
mod webhook;

pub use build::build;
pub use diagram::flowchart;
pub use files::KitFiles;
pub use model::*;
pub use parts::{KitPart, KitParts};

//! Spec → [`Plan`]: fills every default the language names and checks what
//! needs the whole spec at once (names, hosts, ports, routes).

mod bind;
mod build;
mod files;
mod model;
mod names;
mod ports;
mod secrets;
mod tls;
mod verify;

pub use build::build;
pub use files::KitFiles;
pub use model::*;

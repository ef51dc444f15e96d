//! Spec → [`Plan`]: fills every default the language names and checks what
//! needs the whole spec at once (names, hosts, ports, routes).

mod bind;
mod build;
mod diagram;
mod durations;
mod model;
mod names;
mod ports;
mod secrets;
mod tls;
mod verify;

pub use build::build;
pub use diagram::flowchart;
pub use model::*;

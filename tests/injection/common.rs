//! Helpers shared by the injection corpus and the property test.

#![allow(dead_code)]

use std::path::Path;

/// A KDL v2 quoted string holding exactly `value`.
pub fn kdl(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202E}') => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `nginx -t`, inside Debian's stock nginx.conf, of the conf deploy.sh
/// installs when switching by reload with every app on blue.
pub fn nginx_t(kit_dir: &Path, plan: &greenlight::plan::Plan, context: &str) {
    let apps: Vec<String> = plan.apps.iter().map(|a| a.name.clone()).collect();
    let conf = crate::support::assembled_conf(kit_dir, &apps, "blue");
    crate::support::StockNginx::new().assert_accepts(conf, plan, context);
}

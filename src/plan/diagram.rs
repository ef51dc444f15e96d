//! The Mermaid flowchart at the top of PLAN.md: what a reviewer takes in at a
//! glance, drawn from the plan. Each host is a subgraph holding what runs
//! there (nginx, each app's two colors with their ports and sidecars, the
//! accessories); the clients reach nginx, and nginx each route's app.
//!
//! Node ids are generated from positions in the plan (`host_0`,
//! `app_1_host_0_blue`), never from spec text; every label is quoted and
//! escaped, since names, paths and server names are user input.

use std::fmt::Write;

use super::model::{App, Color, Plan, ProxyMode};

/// The flowchart, without the ```mermaid fence; deterministic, in the
/// plan's order.
pub fn flowchart(plan: &Plan) -> String {
    let mut out = String::from("flowchart LR\n");
    let listen: Vec<String> = plan
        .proxy
        .listen
        .iter()
        .map(|l| format!("{}{}", l.value, if l.ssl { " TLS" } else { "" }))
        .collect();
    let mut clients = format!("clients → {}", listen.join(", "));
    if !plan.proxy.server_names.is_empty() {
        clients.push_str(&format!(" · {}", plan.proxy.server_names.join(" ")));
    }
    node(&mut out, 1, "clients", &clients);
    let (mut blue, mut green) = (Vec::new(), Vec::new());
    let mut accessories = Vec::new();
    let mut routes = String::new();
    let mut nginx_placed = false;
    for (h, host) in plan.hosts.iter().enumerate() {
        let mut inside = String::new();
        if plan.proxy.host.name == host.name {
            let nginx = match plan.proxy.mode {
                ProxyMode::Compose if plan.swarm => {
                    format!("nginx · service {} on the manager", plan.proxy.image)
                }
                ProxyMode::Compose => format!("nginx · container {}", plan.proxy.image),
                ProxyMode::Host | ProxyMode::Remote => "nginx".to_string(),
            };
            node(&mut inside, 2, "nginx", &nginx);
            nginx_placed = true;
        }
        for (a, app) in plan.apps.iter().enumerate() {
            if !app.hosts.contains(&host.name) {
                continue;
            }
            for color in &app.colors {
                let id = format!("app_{a}_host_{h}_{}", color.name);
                node(&mut inside, 2, &id, &color_label(app, color));
                match color.name {
                    "blue" => blue.push(id.clone()),
                    _ => green.push(id.clone()),
                }
                for route in plan.proxy.routes.iter().filter(|r| r.app == app.name) {
                    let _ = writeln!(routes, "    nginx -->|\"{}\"| {id}", label(&route.path));
                }
            }
        }
        for (c, acc) in plan.accessories.iter().enumerate() {
            if acc.host == host.name {
                let id = format!("accessory_{c}");
                let port = acc.port.map(|p| format!(" :{p}")).unwrap_or_default();
                node(
                    &mut inside,
                    2,
                    &id,
                    &format!("{}{port} · accessory", acc.name),
                );
                accessories.push(id);
            }
        }
        if inside.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "    subgraph host_{h}[\"{}\"]",
            label(&host_label(plan, h))
        );
        out.push_str(&inside);
        out.push_str("    end\n");
    }
    if !nginx_placed {
        node(&mut out, 1, "nginx", "nginx");
    }
    out.push_str("    clients --> nginx\n");
    out.push_str(&routes);
    out.push_str("    classDef blue fill:#dbeafe,stroke:#1d4ed8,color:#1e3a8a\n");
    out.push_str("    classDef green fill:#dcfce7,stroke:#15803d,color:#14532d\n");
    out.push_str("    classDef accessory fill:#f3f4f6,stroke:#6b7280,color:#111827\n");
    for (ids, class) in [(blue, "blue"), (green, "green"), (accessories, "accessory")] {
        if !ids.is_empty() {
            let _ = writeln!(out, "    class {} {class}", ids.join(","));
        }
    }
    out
}

/// The subgraph title of host `h`: its name, and how deploy.sh reaches it.
fn host_label(plan: &Plan, h: usize) -> String {
    let host = &plan.hosts[h];
    if plan.swarm {
        let manager = match (&plan.docker_host, host.local) {
            (Some(engine), _) => engine.clone(),
            (None, true) => "this machine's engine".to_string(),
            (None, false) => format!("{} · {}", host.name, host.ssh),
        };
        return format!("swarm · manager {manager}");
    }
    match (&plan.docker_host, host.local) {
        (Some(engine), true) => format!("{} · docker engine {engine}", host.name),
        (None, true) => format!("{} · the machine that runs deploy.sh", host.name),
        _ => format!("{} · {}", host.name, host.ssh),
    }
}

/// One color of an app: its name, color, where nginx reaches it (its host
/// port, or its name on the stack network) and its sidecars.
fn color_label(app: &App, color: &Color) -> String {
    let reached = match color.host_port {
        Some(port) => format!(":{port}"),
        None => format!("· {}:{}", color.alias, app.entry_port),
    };
    let mut text = format!("{} {} {reached}", app.name, color.name);
    if app.replicas > 1 {
        text.push_str(&format!(" · {} tasks", app.replicas));
    }
    if !app.sidecars.is_empty() {
        let names: Vec<&str> = app.sidecars.iter().map(|s| s.name.as_str()).collect();
        text.push_str(&format!(" · sidecars {}", names.join(" ")));
    }
    text
}

/// Writes `id["label"]` at `depth` levels of indentation.
fn node(out: &mut String, depth: usize, id: &str, text: &str) {
    let _ = writeln!(out, "{}{id}[\"{}\"]", "    ".repeat(depth), label(text));
}

/// Text made safe inside a quoted Mermaid label: `#` (which starts an
/// entity), quotes, `<` `>` `&` (HTML labels), backticks (Markdown
/// strings) and `|` (which ends an edge label) as entity codes, control
/// characters as spaces.
fn label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '|' => out.push_str("#124;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn labels_escape_what_mermaid_would_read_as_syntax() {
        assert_eq!(
            label("a\"b#c<d>e&f`g\nh|i]j"),
            "a#quot;b#35;c#lt;d#gt;e#amp;f#96;g h#124;i]j"
        );
    }
}

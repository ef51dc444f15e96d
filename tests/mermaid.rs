//! The Mermaid flowchart at the top of PLAN.md, checked against a strict
//! grammar of the subset greenlight emits: `flowchart LR`/`TD`, balanced
//! `subgraph id["label"]` … `end`, nodes `id["label"]`, edges `a --> b`,
//! `a -->|"label"| b` and `a -.-> b`, `classDef` and `class` lines. Ids are
//! `[A-Za-z0-9_]+` and no Mermaid keyword, each defined once; every edge
//! endpoint and class member is defined; labels carry no quote, `<`, `>`,
//! `&`, backtick, `|` or control character, and `#` only as an entity code.
//! Applied to every example spec, to a spec with every odd character the
//! spec grammar allows in what the diagram shows, and to a plan whose names
//! are hostile (values no spec could give, so the escaping is proven alone).

use std::collections::BTreeSet;
use std::path::Path;

/// Words Mermaid reads as syntax: never an id.
const KEYWORDS: &[&str] = &[
    "end",
    "subgraph",
    "graph",
    "flowchart",
    "class",
    "classDef",
    "style",
    "click",
    "linkStyle",
    "direction",
];

fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&text)
}

/// A quoted label's inside: `"…"` with nothing Mermaid reads as syntax.
fn check_label(quoted: &str, line: &str) -> Result<(), String> {
    let inner = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .ok_or_else(|| format!("label not quoted: {line}"))?;
    if let Some(c) = inner
        .chars()
        .find(|c| matches!(c, '"' | '<' | '>' | '&' | '`' | '|') || c.is_control())
    {
        return Err(format!("label holds {c:?}: {line}"));
    }
    let mut rest = inner;
    while let Some(i) = rest.find('#') {
        let after = &rest[i + 1..];
        let end = after
            .find(';')
            .ok_or_else(|| format!("`#` without `;`: {line}"))?;
        let code = &after[..end];
        let entity = !code.is_empty()
            && (code.chars().all(|c| c.is_ascii_lowercase())
                || code.chars().all(|c| c.is_ascii_digit()));
        if !entity {
            return Err(format!("`#{code};` is no entity code: {line}"));
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

/// `id["label"]`: the id.
fn node(text: &str, line: &str) -> Result<String, String> {
    let open = text
        .find('[')
        .ok_or_else(|| format!("not a node: {line}"))?;
    let (id, rest) = text.split_at(open);
    let label = rest
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .ok_or_else(|| format!("node without [\"…\"]: {line}"))?;
    if !is_id(id) {
        return Err(format!("bad id {id:?}: {line}"));
    }
    check_label(label, line)?;
    Ok(id.to_string())
}

/// `a --> b`, `a -.-> b` or `a -->|"label"| b`: the two ends; None when
/// the line is no edge.
fn edge(text: &str, line: &str) -> Result<Option<(String, String)>, String> {
    let Some((from, rest)) = text.split_once(' ') else {
        return Ok(None);
    };
    let to = if let Some(to) = rest
        .strip_prefix("--> ")
        .or_else(|| rest.strip_prefix("-.-> "))
    {
        to
    } else if let Some(labelled) = rest.strip_prefix("-->|") {
        let (label, to) = labelled
            .split_once("| ")
            .ok_or_else(|| format!("edge label not closed: {line}"))?;
        check_label(label, line)?;
        to
    } else {
        return Ok(None);
    };
    if !is_id(from) || !is_id(to) {
        return Err(format!("bad edge end: {line}"));
    }
    Ok(Some((from.to_string(), to.to_string())))
}

/// Checks one flowchart; Err says which line breaks the grammar.
fn check(chart: &str) -> Result<(), String> {
    let mut lines = chart.lines();
    match lines.next() {
        Some("flowchart LR" | "flowchart TD") => {}
        other => return Err(format!("bad header {other:?}")),
    }
    let mut defined = BTreeSet::new();
    let mut classes = BTreeSet::new();
    let mut used = Vec::new();
    let mut depth = 0usize;
    for line in lines {
        let text = line.trim();
        if let Some(rest) = text.strip_prefix("subgraph ") {
            let id = node(rest, line)?;
            if !defined.insert(id) {
                return Err(format!("id defined twice: {line}"));
            }
            depth += 1;
        } else if text == "end" {
            depth = depth
                .checked_sub(1)
                .ok_or_else(|| format!("`end` without subgraph: {line}"))?;
        } else if let Some(rest) = text.strip_prefix("classDef ") {
            let (name, style) = rest
                .split_once(' ')
                .ok_or_else(|| format!("bad classDef: {line}"))?;
            let style_ok = style.split(',').all(|pair| {
                pair.split_once(':').is_some_and(|(k, v)| {
                    !k.is_empty()
                        && k.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                        && !v.is_empty()
                        && v.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "#.".contains(c))
                })
            });
            if !is_id(name) || !style_ok {
                return Err(format!("bad classDef: {line}"));
            }
            classes.insert(name.to_string());
        } else if let Some(rest) = text.strip_prefix("class ") {
            let (ids, name) = rest
                .split_once(' ')
                .ok_or_else(|| format!("bad class line: {line}"))?;
            if !classes.contains(name) {
                return Err(format!("class {name} not defined: {line}"));
            }
            used.extend(ids.split(',').map(str::to_string));
        } else if let Some((from, to)) = edge(text, line)? {
            used.push(from);
            used.push(to);
        } else {
            let id = node(text, line)?;
            if !defined.insert(id) {
                return Err(format!("id defined twice: {line}"));
            }
        }
    }
    if depth != 0 {
        return Err(format!("{depth} subgraph(s) not closed"));
    }
    if let Some(id) = used.iter().find(|id| !defined.contains(*id)) {
        return Err(format!("{id} is used but never defined"));
    }
    Ok(())
}

/// The one ```mermaid block of a PLAN.md.
fn mermaid_block(plan_md: &str) -> &str {
    let start = plan_md
        .find("```mermaid\n")
        .expect("PLAN.md has a mermaid block")
        + "```mermaid\n".len();
    let len = plan_md[start..].find("```").expect("the block is closed");
    assert_eq!(
        plan_md.matches("```mermaid").count(),
        1,
        "one mermaid block"
    );
    &plan_md[start..start + len]
}

fn plan_md(name: &str, text: String) -> String {
    let (plan, _) = greenlight::load_text(name, text).unwrap_or_else(|r| {
        panic!("{name}: {}", greenlight::diagnostic::render_plain(&r));
    });
    let kit = greenlight::kit(&plan, greenlight::render::TemplateSource::default()).unwrap();
    kit[camino::Utf8Path::new("PLAN.md")].clone()
}

#[test]
fn the_grammar_check_refuses_what_mermaid_would_misread() {
    for bad in [
        "graph LR\n",
        "flowchart LR\n    a[\"x\"]\n    a --> b\n",
        "flowchart LR\n    subgraph s[\"x\"]\n",
        "flowchart LR\n    end\n",
        "flowchart LR\n    a[\"x\"y\"]\n",
        "flowchart LR\n    a[\"<b>x</b>\"]\n",
        "flowchart LR\n    a[\"#x\"]\n",
        "flowchart LR\n    a-b[\"x\"]\n",
        "flowchart LR\n    end[\"x\"]\n",
        "flowchart LR\n    a[\"x\"]\n    a[\"y\"]\n",
        "flowchart LR\n    a[\"x\"]\n    class a nope\n",
        "flowchart LR\n    a[x]\n",
        "flowchart LR\n    a[\"x|y\"]\n",
        "flowchart LR\n    a[\"x\"]\n    a -->|\"p\" a\n",
        "flowchart LR\n    a[\"x\"]\n    a --> a-b\n",
    ] {
        assert!(check(bad).is_err(), "accepted:\n{bad}");
    }
    let good = "flowchart TD\n    subgraph s[\"#quot;h#35;\"]\n        a[\"x #124; y ] z\"]\n    end\n    b[\"b\"]\n    a -->|\"/p\"| b\n    b -.-> s\n    classDef c fill:#fff,stroke:#000\n    class a,b c\n";
    check(good).unwrap();
}

#[test]
fn every_example_spec_has_a_valid_flowchart() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs");
    let mut specs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .collect();
    specs.sort();
    assert!(specs.len() >= 5, "the example specs are there");
    for spec in specs {
        let name = spec.file_name().unwrap().to_str().unwrap().to_string();
        let md = plan_md(&name, std::fs::read_to_string(&spec).unwrap());
        let chart = mermaid_block(&md);
        check(chart).unwrap_or_else(|e| panic!("{name}: {e}\n{chart}"));
        // The committed kit holds the same chart.
        let kit = root
            .join("deploy")
            .join(name.trim_end_matches(".kdl"))
            .join("PLAN.md");
        let committed = std::fs::read_to_string(kit).unwrap();
        assert_eq!(mermaid_block(&committed), chart, "{name}: kit is stale");
    }
}

/// Every character the spec grammar lets through to what the diagram shows:
/// `%` `~` `.` `_` `-` in route paths, `*.` and `_` server names, an IPv6
/// listen, several hosts, apps, sidecars and accessories.
const ODD: &str = r#"greenlight 1
project "odd-1"
host "h-1" address="deploy@10.0.0.11"
host "h-2" address="deploy@[fd00::2]"
host "edge" address="deploy@10.0.0.10"
app "api-2" {
    image "ghcr.io/acme/api"
    port 8080
    host-ports blue=8081 green=8082
    hosts "h-1" "h-2"
    health "/healthz?full=1&x=%22"
    sidecar "end" entry=#true {
        image "ghcr.io/acme/edge"
        port 80
    }
}
app "web" {
    image "ghcr.io/acme/web"
    port 3000
    host-ports blue=3001 green=3002
    hosts "h-2"
    health "/"
}
accessory "subgraph" {
    image "redis:7.2"
    port 6379
    on "h-1"
}
proxy {
    mode "remote"
    on "edge"
    listen "[::1]:8080"
    listen 80
    server-name "*.example.com" "_"
    route "/a%22b~c._-/x" app="api-2"
    route "/" app="web"
}
"#;

#[test]
fn odd_but_valid_values_make_a_valid_flowchart() {
    let md = plan_md("odd.kdl", ODD.to_string());
    let chart = mermaid_block(&md);
    check(chart).unwrap_or_else(|e| panic!("{e}\n{chart}"));
    for shown in [
        "/a%22b~c._-/x",
        "*.example.com _",
        "[::1]:8080",
        "sidecars end",
        "subgraph :6379 · accessory",
    ] {
        assert!(chart.contains(shown), "{shown:?} is not shown:\n{chart}");
    }
}

#[test]
fn hostile_names_are_escaped_even_where_no_spec_could_put_them() {
    let (mut plan, _) = greenlight::load_text("odd.kdl", ODD.to_string()).unwrap();
    let hostile = "x\"] --> y[\"z\nend\n#quot; <b>&amp;</b> `md` |p| ]";
    plan.hosts[0].name = hostile.to_string();
    plan.apps[0].hosts[0] = hostile.to_string();
    plan.accessories[0].host = hostile.to_string();
    plan.apps[0].name = hostile.to_string();
    plan.apps[0].sidecars[0].name = hostile.to_string();
    plan.accessories[0].name = hostile.to_string();
    plan.proxy.routes[0].path = hostile.to_string();
    plan.proxy.routes[0].app = hostile.to_string();
    plan.proxy.server_names = vec![hostile.to_string()];
    let chart = greenlight::plan::flowchart(&plan);
    check(&chart).unwrap_or_else(|e| panic!("{e}\n{chart}"));
    assert_eq!(
        chart.matches("-->|").count(),
        6,
        "every route edge is drawn:\n{chart}"
    );
    assert!(
        chart.contains("x#quot;] --#gt; y[#quot;z end #35;quot;"),
        "{chart}"
    );
}

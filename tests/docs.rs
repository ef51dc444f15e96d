//! Every ```kdl block in docs/spec.md and README.md is checked: a block that
//! starts with `greenlight 1` must load as a whole spec without an error;
//! every other block (a fragment) must at least be valid KDL v2.

use std::path::Path;

/// One fenced ```kdl block: the line its text starts on (1-based) and the text.
struct Block {
    line: usize,
    text: String,
}

/// The ```kdl blocks of a markdown text. The fence must open a line (after
/// optional indentation), so an inline mention of ```kdl is not a block.
fn kdl_blocks(markdown: &str, file: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None if trimmed.starts_with("```") => {
                let info = trimmed.trim_start_matches('`').trim();
                // Any other fenced block is skipped; its closing fence must not
                // be taken for an opening one.
                open = Some(Block {
                    line: if info == "kdl" { i + 2 } else { 0 },
                    text: String::new(),
                });
            }
            None => {}
            // A closing fence is backticks only (```kdl inside a block is text).
            Some(block)
                if trimmed.starts_with("```") && trimmed.trim_end().chars().all(|c| c == '`') =>
            {
                if block.line != 0 {
                    blocks.push(std::mem::replace(
                        block,
                        Block {
                            line: 0,
                            text: String::new(),
                        },
                    ));
                }
                open = None;
            }
            Some(block) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
        }
    }
    assert!(
        open.is_none(),
        "{file}: a fenced block is not closed at the end of the file"
    );
    blocks
}

/// Checks every block of `file` (relative to the crate); returns how many there were.
fn check_file(file: &str, required: bool) -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let markdown = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(_) if !required => return 0,
        Err(e) => panic!("{file}: cannot read it: {e}"),
    };
    let blocks = kdl_blocks(&markdown, file);
    let mut failures = Vec::new();
    for block in &blocks {
        let first = block
            .text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("//"));
        let whole_spec = first.is_some_and(|l| l.starts_with("greenlight 1"));
        // Blank lines in front keep the block at its place, so a report's
        // file:line:column points into the markdown file itself.
        let text = "\n".repeat(block.line - 1) + &block.text;
        if whole_spec {
            if let Err(report) = greenlight::load_text(file, text) {
                failures.push(format!(
                    "{file}: the spec block at line {} does not load:\n{}",
                    block.line,
                    greenlight::diagnostic::render_plain(&report)
                ));
            }
        } else if let Err(error) = kdl::KdlDocument::parse_v2(&text) {
            failures.push(format!(
                "{file}: the kdl block at line {} is not valid KDL v2 (lines below are lines of {file}):\n{}",
                block.line,
                greenlight::diagnostic::render_plain(&error)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    blocks.len()
}

#[test]
fn spec_reference_examples_are_valid() {
    let n = check_file("docs/spec.md", true);
    assert!(
        n >= 10,
        "docs/spec.md has {n} ```kdl blocks; it should show at least 10 examples"
    );
}

#[test]
fn readme_examples_are_valid() {
    // The README may not exist yet, or have no kdl blocks: both are fine.
    check_file("README.md", false);
}

#[test]
fn the_block_extractor_finds_blocks_and_their_lines() {
    let md = "# t\n\nsee ```kdl inline\n\n```kdl\na 1\n```\n\n```text\n```kdl\n```\n\n  ```kdl\nb 2\n  ```\n";
    let blocks = kdl_blocks(md, "t.md");
    let found: Vec<(usize, &str)> = blocks.iter().map(|b| (b.line, b.text.as_str())).collect();
    assert_eq!(found, vec![(6, "a 1\n"), (14, "b 2\n")]);
}

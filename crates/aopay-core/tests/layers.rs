//! The core's modules stand in layers, bottom to top, and no module imports
//! one above it (CONTRIBUTING.md, "Layers"): values, then the wire, then the
//! endpoint table, the journal, the client, and batches and options on top.
//! This reads the sources, so a back-edge (or a cycle inside a layer) fails
//! here, in CI, before review.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Bottom to top. Every top-level module of `src/` is in exactly one.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "values",
        &[
            "error",
            "money",
            "validate",
            "reference",
            "naming",
            "process",
            "tls",
            "diagnostics",
        ],
    ),
    ("wire", &["wire"]),
    ("endpoints", &["models", "endpoints"]),
    ("journal", &["journal"]),
    ("client", &["client", "jwt"]),
    ("batches and options", &["options", "batch"]),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`client/call.rs` → `client`).
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_str()
        .unwrap();
    first.trim_end_matches(".rs").to_owned()
}

/// The code without comments and without its `#[cfg(test)]` items (tests
/// may reach any layer).
fn production_code(text: &str) -> String {
    let code: String = text
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = String::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        // Skip the item: to its `;` or to the brace closing its body.
        let mut depth = 0usize;
        let mut end = rest.len();
        for (j, c) in rest.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = j + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = j + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The crate root's re-exports: a name (`Client`) to the module it comes
/// from, so `crate::Client` counts as an import of `client`.
fn root_names(modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let lib = production_code(&fs::read_to_string(src().join("lib.rs")).unwrap());
    let mut names = BTreeMap::new();
    for stmt in lib.split(';') {
        let Some(i) = stmt.find("pub use ") else {
            continue;
        };
        let path = &stmt[i + "pub use ".len()..];
        let Some(module) = path.split("::").next().map(str::trim) else {
            continue;
        };
        if !modules.contains(module) {
            continue;
        }
        for name in idents(&path[module.len()..]) {
            names.insert(name, module.to_owned());
        }
    }
    names
}

fn idents(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Every module (or root re-export) a file's code names through `crate::`
/// (`$crate::` in macros too), grouped imports included.
fn imports(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if rest.starts_with('{') {
            let end = matching_brace(rest);
            // Each path of the group starts after `{` or `,` at depth 1.
            let mut depth = 0;
            let mut at_start = true;
            let mut word = String::new();
            for c in rest[..end].chars() {
                match c {
                    '{' => {
                        depth += 1;
                        at_start = depth == 1;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 1 => at_start = true,
                    c if c.is_whitespace() => {}
                    c if c.is_alphanumeric() || c == '_' => {
                        if at_start {
                            word.push(c);
                        }
                    }
                    _ => {
                        if !word.is_empty() {
                            out.push(std::mem::take(&mut word));
                        }
                        at_start = false;
                    }
                }
            }
            rest = &rest[end..];
        } else {
            let word: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(word);
        }
    }
    out
}

fn matching_brace(text: &str) -> usize {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// Module → the modules it imports, with the files that do.
fn graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(f))
        .filter(|m| m != "lib")
        .collect();
    let names = root_names(&modules);
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in &files {
        let from = module_of(file);
        if from == "lib" || file.ends_with("tests.rs") {
            continue;
        }
        let entry = graph.entry(from.clone()).or_default();
        let code = production_code(&fs::read_to_string(file).unwrap());
        for name in imports(&code) {
            let to = if modules.contains(&name) {
                name
            } else if let Some(m) = names.get(&name) {
                m.clone()
            } else {
                continue;
            };
            if to != from {
                let rel = file.strip_prefix(src()).unwrap().display().to_string();
                entry.entry(to).or_default().insert(rel);
            }
        }
    }
    graph
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&module))
}

#[test]
fn every_module_is_in_one_layer() {
    let g = graph();
    let unplaced: Vec<_> = g.keys().filter(|m| layer_of(m).is_none()).collect();
    assert!(
        unplaced.is_empty(),
        "modules in no layer (add each to LAYERS): {unplaced:?}"
    );
    let listed: Vec<_> = LAYERS.iter().flat_map(|(_, ms)| ms.iter()).collect();
    let unique: BTreeSet<_> = listed.iter().collect();
    assert_eq!(listed.len(), unique.len(), "a module is in two layers");
    for m in listed {
        assert!(
            g.contains_key(*m),
            "LAYERS names {m}, which is not a module"
        );
    }
}

#[test]
fn no_module_imports_one_above_it() {
    let g = graph();
    let mut back_edges = Vec::new();
    for (from, tos) in &g {
        let Some(lf) = layer_of(from) else { continue };
        for (to, files) in tos {
            let Some(lt) = layer_of(to) else { continue };
            if lt > lf {
                back_edges.push(format!(
                    "{from} ({}) imports {to} ({}) in {files:?}",
                    LAYERS[lf].0, LAYERS[lt].0
                ));
            }
        }
    }
    // The graph, for the record (`cargo test --test layers -- --nocapture`).
    for (from, tos) in &g {
        let tos: Vec<_> = tos.keys().map(String::as_str).collect();
        println!("{from} -> {}", tos.join(", "));
    }
    assert!(
        back_edges.is_empty(),
        "back-edges:\n{}",
        back_edges.join("\n")
    );
}

#[test]
fn no_import_cycle() {
    let g = graph();
    // A module in a cycle reaches itself.
    for start in g.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = g[start].keys().collect();
        while let Some(m) = stack.pop() {
            assert!(m != start, "{start} is in an import cycle");
            if seen.insert(m) {
                stack.extend(g.get(m).into_iter().flat_map(|t| t.keys()));
            }
        }
    }
}

/// The checks can fail: a back-edge and a cycle written here are found.
#[test]
fn the_reader_finds_imports_of_every_form() {
    let code = production_code(
        "use crate::client::Client;\n\
         use crate::{error::Error, wire::{Answered, json::lookup}};\n\
         fn f() { $crate::journal::x(); } // crate::batch in a comment\n\
         #[cfg(test)]\nmod tests { use crate::options::X; }\n",
    );
    let mut found = imports(&code);
    found.sort();
    assert_eq!(found, ["client", "error", "journal", "wire"]);
}

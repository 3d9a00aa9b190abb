//! The layers of ARCHITECTURE.md, checked on the source: arrows point down only, the use cases
//! know nothing of HTTP, the domain nothing of the database.

use std::path::{Path, PathBuf};

/// What each layer may name of the crate (besides itself).
const MAY_USE: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("models", &["domain", "schema"]),
    ("app", &["domain", "models", "error", "schema"]),
    (
        "http",
        &[
            "app", "domain", "models", "error", "config", "db", "clock", "openapi", "mail",
            "metrics",
        ],
    ),
    // `db` for the readiness probe only.
    ("api", &["app", "domain", "models", "error", "http", "db"]),
    (
        "worker",
        &["app", "domain", "error", "db", "clock", "mail", "webhook"],
    ),
    ("mail", &["domain"]),
    ("webhook", &["domain"]),
    ("metrics", &["db", "models"]),
];

/// Crates a layer must not use at all.
const MUST_NOT_USE: &[(&str, &[&str])] = &[
    ("domain", &["diesel", "diesel_async", "actix_web"]),
    ("models", &["actix_web", "utoipa"]),
    ("app", &["actix_web", "utoipa"]),
    ("worker", &["actix_web", "utoipa"]),
    ("mail", &["diesel", "actix_web"]),
    ("webhook", &["diesel", "actix_web"]),
    ("metrics", &["actix_web"]),
];

fn files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The crate's modules a file names (`crate::x::…`), outside comments.
fn named_modules(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in source.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
            rest = after;
        }
    }
    names
}

#[test]
fn every_layer_names_only_the_layers_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for (layer, allowed) in MAY_USE {
        let mut found = Vec::new();
        match root.join(layer) {
            dir if dir.is_dir() => files(&dir, &mut found),
            // A layer of one file (`metrics.rs`).
            _ => found.push(root.join(format!("{layer}.rs"))),
        }
        assert!(found.iter().all(|f| f.exists()), "{layer} has files");
        for file in found {
            let source = std::fs::read_to_string(&file).unwrap();
            for name in named_modules(&source) {
                if name != *layer && !allowed.contains(&name.as_str()) {
                    broken.push(format!("{} names crate::{name}", file.display()));
                }
            }
            let forbidden = MUST_NOT_USE
                .iter()
                .find(|(l, _)| l == layer)
                .map_or(&[][..], |(_, crates)| crates);
            for krate in forbidden {
                if source.contains(&format!("{krate}::")) {
                    broken.push(format!("{} uses {krate}", file.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn no_source_file_is_over_five_hundred_lines() {
    let mut found = Vec::new();
    files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    let long: Vec<String> = found
        .iter()
        // diesel's table list mirrors the migrations, one `table!` per table: not split.
        .filter(|file| !file.ends_with("src/schema.rs"))
        .filter_map(|file| {
            let lines = std::fs::read_to_string(file).unwrap().lines().count();
            (lines > 500).then(|| format!("{}: {lines}", file.display()))
        })
        .collect();
    assert!(long.is_empty(), "{long:?}");
}

//! The layering rules of `docs/ARCHITECTURE.md`, checked over the source files under `src/`:
//! dependencies point downwards only (`http` → `services` → `domain` and `repo`), and only
//! `repo` touches the `entity` crate; services take the narrow pieces they use, not the app's
//! state. A violation is reported with its file and line.
//!
//! The check reads the text, it does not compile it: comment lines (`//`, `///`, `//!`),
//! trailing `//` comments and the contents of string literals are ignored; anything else that
//! names a forbidden path counts, whether in a `use` or inline.

use std::fmt;
use std::path::{Path, PathBuf};

/// One layering rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Handlers call services only: nothing under `src/http/` names `repo` or `entity`.
    HttpUsesRepoOrEntity,
    /// The domain is pure: nothing under `src/domain/` names `axum` or `sea_orm`.
    DomainUsesFramework,
    /// Nothing under `src/jobs/` or `src/services/` names `crate::http`.
    LowerUsesHttp,
    /// Nothing under `src/repo/` names `crate::services` or `crate::http`.
    RepoUsesUpper,
    /// Only `src/repo/` names the `entity` crate.
    EntityOutsideRepo,
    /// Nothing under `src/services/`, `src/repo/` or `src/domain/` names `crate::app` or
    /// `crate::state`: they take the pieces they use (connection, directory, settings...), so
    /// that they can be called without building the whole app.
    LowerUsesState,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rule::HttpUsesRepoOrEntity => {
                "src/http/ may not use repo:: or entity:: (call a service)"
            }
            Rule::DomainUsesFramework => "src/domain/ may not use axum or sea_orm",
            Rule::LowerUsesHttp => "src/jobs/ and src/services/ may not use crate::http",
            Rule::RepoUsesUpper => "src/repo/ may not use crate::services or crate::http",
            Rule::EntityOutsideRepo => "only src/repo/ may use the entity crate",
            Rule::LowerUsesState => {
                "src/services/, src/repo/ and src/domain/ may not use crate::app or crate::state (take the pieces used)"
            }
        })
    }
}

/// Files that still break a rule while they are being converted; the lead empties this list.
/// An entry that is no longer needed fails the check too, so the list only shrinks.
const ALLOWLIST: &[(&str, Rule)] = &[];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Violation {
    path: String,
    line: usize,
    rule: Rule,
    text: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}\n    {}",
            self.path,
            self.line,
            self.rule,
            self.text.trim()
        )
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The code of each line with comments and string contents blanked (`"..."` becomes `""`).
/// Block comments and raw strings spanning lines are followed across lines.
fn code_lines(source: &str) -> Vec<String> {
    #[derive(PartialEq)]
    enum State {
        Code,
        Str,
        RawStr(usize),
        Block(usize),
    }
    let mut state = State::Code;
    let mut out = Vec::new();
    for line in source.lines() {
        if state == State::Code && line.trim_start().starts_with("//") {
            out.push(String::new());
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let mut code = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            match state {
                State::Code => {
                    if c == '/' && next == Some('/') {
                        break;
                    } else if c == '/' && next == Some('*') {
                        state = State::Block(1);
                        i += 2;
                        continue;
                    } else if c == '"' {
                        // A raw string: r"...", r#"..."#, br#"..."# (the `r` is already copied).
                        let hashes = code.chars().rev().take_while(|&h| h == '#').count();
                        let before = code.chars().rev().nth(hashes);
                        if before == Some('r') {
                            state = State::RawStr(hashes);
                        } else {
                            state = State::Str;
                        }
                        code.push('"');
                    } else if c == '\'' {
                        // A char literal ('"', '\'', '\\'...) or a lifetime.
                        if next == Some('\\') {
                            let end = chars[i + 2..].iter().position(|&x| x == '\'');
                            code.push_str("' '");
                            i += end.map_or(chars.len(), |e| e + 3);
                            continue;
                        } else if chars.get(i + 2) == Some(&'\'') {
                            code.push_str("' '");
                            i += 3;
                            continue;
                        }
                        code.push(c);
                    } else {
                        code.push(c);
                    }
                }
                State::Str => {
                    if c == '\\' {
                        i += 2;
                        continue;
                    }
                    if c == '"' {
                        code.push('"');
                        state = State::Code;
                    }
                }
                State::RawStr(hashes) => {
                    if c == '"'
                        && chars[i + 1..]
                            .iter()
                            .take(hashes)
                            .filter(|&&h| h == '#')
                            .count()
                            == hashes
                    {
                        code.push('"');
                        i += 1 + hashes;
                        state = State::Code;
                        continue;
                    }
                }
                State::Block(depth) => {
                    if c == '*' && next == Some('/') {
                        state = if depth == 1 {
                            State::Code
                        } else {
                            State::Block(depth - 1)
                        };
                        i += 2;
                        continue;
                    } else if c == '/' && next == Some('*') {
                        state = State::Block(depth + 1);
                        i += 2;
                        continue;
                    }
                }
            }
            i += 1;
        }
        out.push(code);
    }
    out
}

/// Positions where the identifier `word` begins in `code` (not inside a longer identifier).
fn word_at(code: &str, word: &str) -> Vec<usize> {
    code.match_indices(word)
        .filter(|&(i, _)| {
            let before = code[..i].chars().next_back();
            let after = code[i + word.len()..].chars().next();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
        .map(|(i, _)| i)
        .collect()
}

/// What one line of code names, as far as the rules care.
#[derive(Default)]
struct Names {
    /// Modules of this crate named from its root: `crate::repo`, `crate::{http, ...}`,
    /// and (for a handler) a bare `repo::` path.
    crate_modules: Vec<String>,
    /// The `entity` crate: `entity::...`, `use entity`.
    entity: bool,
    /// `axum` or `sea_orm`.
    framework: bool,
}

/// Reads the names in a file's lines; follows `use crate::{` groups over several lines.
#[derive(Default)]
struct Reader {
    /// Inside a `use crate::{` group: how deeply nested below its top level.
    group: Option<usize>,
}

impl Reader {
    fn names(&mut self, code: &str) -> Names {
        let mut n = Names::default();
        let mut group_text: Option<&str> = self.group.map(|_| code);
        for i in word_at(code, "crate") {
            let rest = &code[i + "crate".len()..];
            let Some(rest) = rest.trim_start().strip_prefix("::") else {
                continue;
            };
            let rest = rest.trim_start();
            if let Some(group) = rest.strip_prefix('{') {
                group_text = Some(group);
                self.group = Some(0);
            } else {
                let m: String = rest.chars().take_while(|&c| is_ident(c)).collect();
                n.crate_modules.push(m);
            }
        }
        if let (Some(text), Some(mut depth)) = (group_text, self.group) {
            // The top-level names of the group, up to its closing brace.
            let mut item = String::new();
            let mut expect_name = true;
            for c in text.chars() {
                if is_ident(c) {
                    if depth == 0 && expect_name {
                        item.push(c);
                    }
                    continue;
                }
                if !item.is_empty() {
                    n.crate_modules.push(std::mem::take(&mut item));
                    expect_name = false;
                }
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        self.group = None;
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => expect_name = true,
                    _ => {}
                }
            }
            if !item.is_empty() {
                n.crate_modules.push(item);
            }
            if self.group.is_some() {
                self.group = Some(depth);
            }
        }
        // A path that begins with `repo::` (after `use crate::repo;` or in `crate::{repo}`).
        for i in word_at(code, "repo") {
            let before = code[..i].trim_end();
            if code[i + 4..].starts_with("::") && !before.ends_with("::") {
                n.crate_modules.push("repo".into());
            }
        }
        // The entity crate, named at the start of a path (`sea_orm::entity::prelude` is not it).
        for i in word_at(code, "entity") {
            let before = code[..i].trim_end();
            let starts_path = code[i + "entity".len()..].trim_start().starts_with("::");
            let used = before == "use" || before.ends_with(" use");
            if (starts_path && !before.ends_with("::")) || used {
                n.entity = true;
            }
        }
        n.framework = !word_at(code, "axum").is_empty() || !word_at(code, "sea_orm").is_empty();
        n
    }
}

/// The violations in one file; `path` is relative to the crate (`src/http/units.rs`).
fn check(path: &str, source: &str) -> Vec<Violation> {
    let under = |dir: &str| path.starts_with(dir);
    let mut out = Vec::new();
    let mut reader = Reader::default();
    for (n, (code, text)) in code_lines(source).iter().zip(source.lines()).enumerate() {
        let names = reader.names(code);
        let names_module = |m: &str| names.crate_modules.iter().any(|c| c == m);
        let mut broken = Vec::new();
        if under("src/http/") && (names_module("repo") || names.entity) {
            broken.push(Rule::HttpUsesRepoOrEntity);
        }
        if under("src/domain/") && names.framework {
            broken.push(Rule::DomainUsesFramework);
        }
        if (under("src/jobs/") || under("src/services/")) && names_module("http") {
            broken.push(Rule::LowerUsesHttp);
        }
        if under("src/repo/") && (names_module("services") || names_module("http")) {
            broken.push(Rule::RepoUsesUpper);
        }
        if !under("src/repo/") && names.entity {
            broken.push(Rule::EntityOutsideRepo);
        }
        if (under("src/services/") || under("src/repo/") || under("src/domain/"))
            && (names_module("app") || names_module("state"))
        {
            broken.push(Rule::LowerUsesState);
        }
        for rule in broken {
            out.push(Violation {
                path: path.to_string(),
                line: n + 1,
                rule,
                text: text.to_string(),
            });
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn layers_are_respected() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(
        files.len() > 50,
        "the sources were not found under {}",
        root.display()
    );
    let mut found = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(root)
            .expect("under the crate")
            .to_string_lossy()
            .replace('\\', "/");
        let source = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("reading {rel}: {e}"));
        found.extend(check(&rel, &source));
    }
    let allowed = |v: &Violation| ALLOWLIST.iter().any(|&(p, r)| p == v.path && r == v.rule);
    let mut report = String::new();
    for v in found.iter().filter(|v| !allowed(v)) {
        report.push_str(&format!("{v}\n"));
    }
    for (p, r) in ALLOWLIST {
        if !found.iter().any(|v| v.path == *p && v.rule == *r) {
            report.push_str(&format!(
                "{p}: allowed to break \"{r}\" but no longer does: remove it from ALLOWLIST in tests/layers.rs\n"
            ));
        }
    }
    assert!(report.is_empty(), "layering check failed:\n{report}");
}

#[test]
fn a_handler_using_repo_is_reported() {
    let v = check(
        "src/http/x.rs",
        "use axum::Router;\nuse crate::repo::cases;\n",
    );
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].line, 2);
    assert_eq!(v[0].rule, Rule::HttpUsesRepoOrEntity);
    assert!(
        v[0].to_string().starts_with("src/http/x.rs:2: "),
        "{}",
        v[0]
    );
}

#[test]
fn every_rule_can_fail() {
    let cases: &[(&str, &str, Rule)] = &[
        (
            "src/http/x.rs",
            "use crate::repo;",
            Rule::HttpUsesRepoOrEntity,
        ),
        (
            "src/http/x.rs",
            "    let r = repo::units::find(db, c).await?;",
            Rule::HttpUsesRepoOrEntity,
        ),
        (
            "src/http/x.rs",
            "use crate::{error::ApiError, repo};",
            Rule::HttpUsesRepoOrEntity,
        ),
        (
            "src/http/x.rs",
            "fn f(m: entity::units::Model) {}",
            Rule::HttpUsesRepoOrEntity,
        ),
        (
            "src/domain/x.rs",
            "use sea_orm::DbErr;",
            Rule::DomainUsesFramework,
        ),
        (
            "src/domain/x.rs",
            "impl axum::response::IntoResponse for X {}",
            Rule::DomainUsesFramework,
        ),
        (
            "src/jobs/x.rs",
            "crate::http::metrics::record_sweep(&r);",
            Rule::LowerUsesHttp,
        ),
        (
            "src/services/x.rs",
            "use crate::http::Page;",
            Rule::LowerUsesHttp,
        ),
        (
            "src/repo/x.rs",
            "use crate::services::auth;",
            Rule::RepoUsesUpper,
        ),
        ("src/repo/x.rs", "use crate::http;", Rule::RepoUsesUpper),
        (
            "src/services/x.rs",
            "use entity::cases;",
            Rule::EntityOutsideRepo,
        ),
        (
            "src/app.rs",
            "    entity::accounts::Entity::find()",
            Rule::EntityOutsideRepo,
        ),
        (
            "src/services/x.rs",
            "use crate::app::AppState;",
            Rule::LowerUsesState,
        ),
        (
            "src/repo/x.rs",
            "pub async fn f(state: &crate::state::AppState) {}",
            Rule::LowerUsesState,
        ),
        (
            "src/domain/x.rs",
            "use crate::{error::ApiError, state};",
            Rule::LowerUsesState,
        ),
    ];
    for (path, line, rule) in cases {
        let v = check(path, line);
        assert!(
            v.iter().any(|v| v.rule == *rule),
            "{path}: {line:?} should break {rule:?}, found {v:?}"
        );
    }
}

#[test]
fn a_grouped_use_over_several_lines_is_read() {
    let src = "use crate::{\n    domain::{\n        a, http,\n    },\n    repo::units,\n};\nfn http() {}\n";
    let v = check("src/http/x.rs", src);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].line, 5);
    // `http` nested under `domain`, and after the group, is not `crate::http`.
    assert!(check("src/services/x.rs", src).is_empty());
}

#[test]
fn comments_strings_and_lookalikes_are_not_violations() {
    let src = r##"//! Calls `repo::cases::find` through `services::cases`.
/// See crate::repo::cases.
use sea_orm::entity::prelude::*;
use crate::domain::repo_like;
let s = "crate::repo::x and entity::units";
let r = r#"use crate::http;"#;
let c = '"'; let d = repo_like::x(); // crate::repo::y
/* entity::units
   crate::repo */ let e = 1;
"##;
    for path in ["src/http/x.rs", "src/services/x.rs", "src/repo/x.rs"] {
        let v = check(path, src);
        assert!(v.is_empty(), "{path}: {v:?}");
    }
    // The domain may not name sea_orm even there, but only the `use` line does.
    let v = check("src/domain/x.rs", src);
    assert_eq!(v.iter().map(|v| v.line).collect::<Vec<_>>(), vec![3]);
}

#[test]
fn the_state_is_for_the_layers_above_services() {
    let src = "use crate::state::AppState;\nfn f(s: &AppState) { let sla_state = s.db(); }\n";
    // Handlers, jobs and the command line hold the state and hand out its pieces.
    for path in ["src/http/x.rs", "src/jobs/x.rs", "src/cli.rs"] {
        assert!(check(path, src).is_empty(), "{path}");
    }
    let v = check("src/services/x.rs", src);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!((v[0].line, v[0].rule), (1, Rule::LowerUsesState));
}

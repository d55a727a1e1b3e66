//! Layers only look down: no two modules of a crate use each other, directly or through others.
//!
//! Reads the sources of every crate of the workspace, collects each module's `crate::…`,
//! `super::…` and `self::…` paths (in `use` trees and in code, test code left out), and fails
//! on any cycle between modules where neither contains the other (a module and its own
//! submodules may see each other: a folder is one unit).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

type Module = Vec<String>;

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|name| name != "bin") {
                rust_files(&path, found);
            }
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` → `[a, b]`; `src/lib.rs` → `[]`.
fn module_of(src: &Path, file: &Path) -> Option<Module> {
    let relative = file.strip_prefix(src).ok()?.with_extension("");
    let mut parts: Module = relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.last().map(String::as_str) {
        Some("lib") if parts.len() == 1 => parts.clear(),
        Some("main") if parts.len() == 1 => return None,
        Some("mod") => {
            parts.pop();
        }
        _ => {}
    }
    Some(parts)
}

/// The code of a file without comments, string contents and its test module.
fn code_of(text: &str) -> String {
    let text = match text.find("\n#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut code = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        code.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    match c {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                }
                code.push_str("\"\"");
            }
            _ => code.push(c),
        }
    }
    code
}

/// Every path of a `use` tree (`a::{b, c::{d}}` → `a::b`, `a::c::d`).
fn expand_use(tree: &str, prefix: &str, paths: &mut Vec<String>) {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        paths.push(format!("{prefix}{path}"));
        return;
    };
    let head = format!("{prefix}{}", &tree[..open]);
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut depth = 0;
    let mut start = 0;
    for (at, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                expand_use(&inner[start..at], &head, paths);
                start = at + 1;
            }
            _ => {}
        }
    }
    if !inner[start..].trim().is_empty() {
        expand_use(&inner[start..], &head, paths);
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// The `crate`/`super`/`self` paths a file's code names.
fn paths_of(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before_ok = at == 0 || !is_ident(rest[..at].chars().last().unwrap_or(' '));
        let Some(end) = rest[at..].find(';') else {
            break;
        };
        if before_ok {
            let tree: String = rest[at + 4..at + end].split_whitespace().collect();
            expand_use(&tree, "", &mut paths);
        }
        rest = &rest[at + end..];
    }
    for root in ["crate::", "super::", "self::"] {
        let mut rest = code;
        while let Some(at) = rest.find(root) {
            let before_ok = at == 0 || !is_ident(rest[..at].chars().last().unwrap_or(' '));
            let path: String = rest[at..].chars().take_while(|c| is_ident(*c)).collect();
            if before_ok {
                paths.push(path.trim_end_matches(':').to_owned());
            }
            rest = &rest[at + root.len()..];
        }
    }
    paths
}

/// The module a path names, resolved from `from`: its longest prefix that is a module.
fn target(from: &Module, path: &str, modules: &BTreeSet<Module>) -> Option<Module> {
    let mut segments = path.split("::").filter(|s| !s.is_empty());
    let mut resolved: Module = match segments.next()? {
        "crate" => Vec::new(),
        "super" => {
            let mut parent = from.clone();
            parent.pop();
            parent
        }
        "self" => from.clone(),
        _ => return None,
    };
    for segment in segments {
        match segment {
            "super" => {
                resolved.pop();
            }
            _ => {
                let mut deeper = resolved.clone();
                deeper.push(segment.to_owned());
                if !modules.contains(&deeper) {
                    break;
                }
                resolved = deeper;
            }
        }
    }
    Some(resolved)
}

fn contains(outer: &Module, inner: &Module) -> bool {
    inner.starts_with(outer)
}

/// Strongly connected components of more than one module (Tarjan).
fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct State<'a> {
        graph: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on_stack: BTreeSet<&'a Module>,
        found: Vec<Vec<Module>>,
    }
    fn visit<'a>(state: &mut State<'a>, node: &'a Module) {
        let n = state.index.len();
        state.index.insert(node, n);
        state.low.insert(node, n);
        state.stack.push(node);
        state.on_stack.insert(node);
        let graph = state.graph;
        for next in graph.get(node).into_iter().flatten() {
            let Some((next, _)) = graph.get_key_value(next) else {
                continue;
            };
            if !state.index.contains_key(next) {
                visit(state, next);
                let low = state.low[node].min(state.low[next]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(next) {
                let low = state.low[node].min(state.index[next]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = Vec::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(member);
                component.push(member.clone());
                if member == node {
                    break;
                }
            }
            if component.len() > 1 {
                state.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node) {
            visit(&mut state, node);
        }
    }
    state.found
}

fn module_graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let sources: Vec<(Module, String)> = files
        .iter()
        .filter(|file| file.file_name().is_some_and(|name| name != "tests.rs"))
        .filter_map(|file| {
            let module = module_of(src, file)?;
            Some((module, std::fs::read_to_string(file).ok()?))
        })
        .collect();
    let modules: BTreeSet<Module> = sources.iter().map(|(module, _)| module.clone()).collect();
    let mut graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, text) in &sources {
        let edges = graph.entry(module.clone()).or_default();
        for path in paths_of(&code_of(text)) {
            if let Some(target) = target(module, &path, &modules)
                && !contains(&target, module)
                && !contains(module, &target)
            {
                edges.insert(target);
            }
        }
    }
    graph
}

#[test]
fn no_module_uses_one_that_uses_it() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut failures = Vec::new();
    for crate_dir in ["config", "homeserver-bridge", "e2ee", "appservice"] {
        let src = workspace.join(crate_dir).join("src");
        let graph = module_graph(&src);
        assert!(graph.len() > 1, "no modules read in {}", src.display());
        for cycle in cycles(&graph) {
            let names: Vec<String> = cycle.iter().map(|module| module.join("::")).collect();
            failures.push(format!("{crate_dir}: {}", names.join(" ↔ ")));
        }
    }
    assert!(
        failures.is_empty(),
        "module cycles:\n{}",
        failures.join("\n")
    );
}

/// The pure domain modules of `parvis`: what they reach, directly or not, is pure too.
const DOMAIN: &[&str] = &[
    "events",
    "role",
    "command",
    "community",
    "limits",
    "projection",
    "tools",
    "tools::likes",
    "tools::tasks",
    "publishing::kind",
    "publishing::publication",
    "publishing::render",
    "publishing::diff",
];

/// The drivers: HTTP, the bot, the index store, delivery, the command line.
const DRIVERS: &[&str] = &[
    "api",
    "bot",
    "server",
    "store",
    "ingest",
    "indexer",
    "rebuild",
    "web",
    "cli",
    "doctor",
    "permission",
    "encrypted_state",
    "publishing::api",
    "publishing::index",
    "tools::likes::api",
];

#[test]
fn domain_code_never_reaches_a_driver() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = module_graph(&src);
    let module = |name: &str| -> Module { name.split("::").map(str::to_owned).collect() };
    let drivers: Vec<Module> = DRIVERS.iter().map(|name| module(name)).collect();
    let mut failures = Vec::new();
    for domain in DOMAIN {
        let start = module(domain);
        assert!(graph.contains_key(&start), "no module {domain}");
        let mut seen = BTreeSet::from([start.clone()]);
        let mut queue = vec![(start, vec![domain.to_string()])];
        while let Some((at, route)) = queue.pop() {
            for next in graph.get(&at).into_iter().flatten() {
                if !seen.insert(next.clone()) {
                    continue;
                }
                let mut route = route.clone();
                route.push(next.join("::"));
                if drivers.iter().any(|driver| contains(driver, next)) {
                    failures.push(route.join(" → "));
                } else {
                    queue.push((next.clone(), route));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "domain code reaching a driver:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_check_sees_a_cycle() {
    let modules: BTreeSet<Module> = [vec!["a".to_owned()], vec!["b".to_owned()]].into();
    let a = vec!["a".to_owned()];
    let b = vec!["b".to_owned()];
    let mut paths = Vec::new();
    expand_use("crate::{b::{X, Y as Z}, c}", "", &mut paths);
    assert_eq!(paths, ["crate::b::X", "crate::b::Y", "crate::c"]);
    assert_eq!(target(&a, "crate::b::X", &modules), Some(b.clone()));
    assert_eq!(target(&b, "super::a", &modules), Some(a.clone()));
    let graph: BTreeMap<Module, BTreeSet<Module>> = [
        (a.clone(), [b.clone()].into()),
        (b.clone(), [a.clone()].into()),
    ]
    .into();
    assert_eq!(cycles(&graph).len(), 1);
    assert!(code_of("use crate::a; // crate::b\nlet s = \"crate::c\";").contains("crate::a"));
    assert!(!code_of("// crate::b\nlet s = \"crate::c\";").contains("crate::"));
}

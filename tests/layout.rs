//! The runtime's layout (issue 19): the parts of `telemetry-runtime/src` import each other
//! without circles, between files and between parts, and no file holds more than
//! [`MAX_LINES`] lines before its tests.
//!
//! An import is any path to another module of the crate: `use` declarations (with their
//! `{…}` groups) and paths in code (`crate::…`, `super::…`, `self::…`, a child module's
//! name), comments and string literals left out. A path resolves to the deepest module it
//! names, so `crate::config::Env` is an import of `config/mod.rs` (the part's doorway) and
//! `super::env::Env` one of `config/env.rs`. A part is a folder under `src/` (`config/`,
//! `deliver/`, …); each loose file beside `lib.rs` is a part of its own. `mod` declarations
//! and `lib.rs` (the crate's doorway, which declares and re-exports everything) are not
//! imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The most lines a runtime file may hold before its `#[cfg(test)]` module.
const MAX_LINES: usize = 500;

/// One source file: its module path (`["deliver", "sender"]`) and its text.
struct Source {
    module: Vec<String>,
    file: String,
    text: String,
}

fn runtime_sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("telemetry-runtime/src");
    let mut files = Vec::new();
    collect(&root, &mut files);
    let mut sources: Vec<Source> = files
        .into_iter()
        .map(|path| {
            let rel = path.strip_prefix(&root).unwrap();
            let file = rel.to_string_lossy().replace('\\', "/");
            Source {
                module: module_of(&file),
                text: std::fs::read_to_string(&path).unwrap(),
                file,
            }
        })
        .collect();
    // `#[path = "x.rs"] mod name;` gives x.rs the module name.
    let renames: Vec<(String, Vec<String>)> = sources.iter().flat_map(path_attributes).collect();
    for (file, module) in renames {
        if let Some(s) = sources.iter_mut().find(|s| s.file == file) {
            s.module = module;
        }
    }
    sources
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `lib.rs` → `[]`, `a.rs` → `[a]`, `a/mod.rs` → `[a]`, `a/b.rs` → `[a, b]`.
fn module_of(file: &str) -> Vec<String> {
    let stem = file.trim_end_matches(".rs");
    let mut parts: Vec<String> = stem.split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// `(file, module)` for every `#[path = "file"] … mod name;` in `s`.
fn path_attributes(s: &Source) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = s.text.as_str();
    while let Some(pos) = rest.find("#[path = \"") {
        rest = &rest[pos + 10..];
        let Some(end) = rest.find('"') else { break };
        let target = &rest[..end];
        let after = &rest[end..];
        let Some(mod_pos) = after.find("mod ") else {
            break;
        };
        let name: String = after[mod_pos + 4..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let dir = s.file.rsplit_once('/').map_or("", |(d, _)| d);
        let file = if dir.is_empty() {
            target.to_owned()
        } else {
            format!("{dir}/{target}")
        };
        let mut module = s.module.clone();
        module.push(name);
        out.push((file, module));
    }
    out
}

/// The text without comments, string and character literals (each replaced by a space).
fn code_only(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&b, i) {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
            out.push(' ');
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push(' ');
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}'); a lifetime ('a) is kept.
            let close = if next == Some('\\') {
                (i + 2..b.len().min(i + 12)).find(|&j| b[j] == '\'')
            } else if b.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match close {
                Some(j) => {
                    i = j + 1;
                    out.push(' ');
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_')
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ident(String),
    Sep, // ::
    Open,
    Close,
    Comma,
    Semi,
    Star,
    Other,
}

fn tokens(code: &str) -> Vec<Token> {
    let b: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push(Token::Ident(b[start..i].iter().collect()));
            continue;
        }
        i += 1;
        match c {
            ':' if b.get(i) == Some(&':') => {
                i += 1;
                out.push(Token::Sep);
            }
            '{' => out.push(Token::Open),
            '}' => out.push(Token::Close),
            ',' => out.push(Token::Comma),
            ';' => out.push(Token::Semi),
            '*' => out.push(Token::Star),
            c if c.is_whitespace() => {}
            _ => out.push(Token::Other),
        }
    }
    out
}

/// Every path in `toks` that names a module of the crate, as written (`["super", "env",
/// "Env"]`), with the inline modules (`mod tests { … }`) it is written in;
/// `children`: the modules declared inside this file's (2018 paths may start with them).
fn paths(toks: &[Token], children: &BTreeSet<String>) -> Vec<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    let mut i = 0;
    let starts = |name: &str| matches!(name, "crate" | "super" | "self") || children.contains(name);
    let mut depth = 0usize;
    let mut inline: Vec<(String, usize)> = Vec::new();
    let scope =
        |inline: &[(String, usize)]| inline.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    while i < toks.len() {
        match &toks[i] {
            Token::Ident(kw) if kw == "mod" => {
                if let (Some(Token::Ident(name)), Some(Token::Open)) =
                    (toks.get(i + 1), toks.get(i + 2))
                {
                    depth += 1;
                    inline.push((name.clone(), depth));
                    i += 3;
                } else {
                    i += 1;
                }
            }
            Token::Open => {
                depth += 1;
                i += 1;
            }
            Token::Close => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            Token::Ident(kw) if kw == "use" => {
                let mut trees = Vec::new();
                i = use_tree(toks, i + 1, Vec::new(), &mut trees);
                for p in trees
                    .into_iter()
                    .filter(|p| p.first().is_some_and(|f| starts(f)))
                {
                    out.push((scope(&inline), p));
                }
            }
            Token::Ident(name)
                if starts(name)
                    && toks.get(i + 1) == Some(&Token::Sep)
                    && !matches!(i.checked_sub(1).map(|p| &toks[p]), Some(Token::Sep)) =>
            {
                let mut path = vec![name.clone()];
                let mut j = i + 1;
                while toks.get(j) == Some(&Token::Sep) {
                    match toks.get(j + 1) {
                        Some(Token::Ident(seg)) => {
                            path.push(seg.clone());
                            j += 2;
                        }
                        _ => break,
                    }
                }
                out.push((scope(&inline), path));
                i = j;
            }
            _ => i += 1,
        }
    }
    out
}

/// Parses one use tree at `i`; pushes its leaf paths; returns the index after it.
fn use_tree(
    toks: &[Token],
    mut i: usize,
    mut prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    loop {
        match toks.get(i) {
            Some(Token::Ident(seg)) if seg == "as" => {
                // `as name`: the alias is not a path.
                i += 2;
                out.push(prefix);
                return i;
            }
            Some(Token::Ident(seg)) => {
                if seg == "self" && !prefix.is_empty() {
                    // `a::{self, …}`: the prefix itself.
                } else {
                    prefix.push(seg.clone());
                }
                i += 1;
                if toks.get(i) == Some(&Token::Sep) {
                    i += 1;
                    continue;
                }
                out.push(prefix);
                return i;
            }
            Some(Token::Star) => {
                out.push(prefix);
                return i + 1;
            }
            Some(Token::Open) => {
                i += 1;
                loop {
                    match toks.get(i) {
                        Some(Token::Close) => return i + 1,
                        Some(Token::Comma) => i += 1,
                        None => return i,
                        _ => i = use_tree(toks, i, prefix.clone(), out),
                    }
                }
            }
            _ => {
                if !prefix.is_empty() {
                    out.push(prefix);
                }
                return i;
            }
        }
    }
}

/// The module `path` (as written in module `from`) names: the deepest known one.
fn resolve(
    from: &[String],
    path: &[String],
    modules: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let mut abs: Vec<String> = from.to_vec();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            abs.clear();
            rest = &path[1..];
        }
        Some("self") => rest = &path[1..],
        Some("super") => {
            while rest.first().is_some_and(|s| s == "super") {
                abs.pop()?;
                rest = &rest[1..];
            }
        }
        _ => {}
    }
    let mut best = None;
    let mut candidate = abs.clone();
    if modules.contains(&candidate) {
        best = Some(candidate.clone());
    }
    for seg in rest {
        candidate.push(seg.clone());
        if modules.contains(&candidate) {
            best = Some(candidate.clone());
        } else {
            break;
        }
    }
    best
}

/// The import graph between files: file → files it imports.
fn file_graph(sources: &[Source]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeMap<Vec<String>, String> = sources
        .iter()
        .map(|s| (s.module.clone(), s.file.clone()))
        .collect();
    let known: BTreeSet<Vec<String>> = modules.keys().cloned().collect();
    let mut graph = BTreeMap::new();
    for s in sources {
        if s.module.is_empty() {
            continue; // lib.rs
        }
        let children: BTreeSet<String> = known
            .iter()
            .filter(|m| m.len() == s.module.len() + 1 && m.starts_with(&s.module))
            .map(|m| m.last().unwrap().clone())
            .collect();
        let code = code_only(&s.text);
        let mut edges = BTreeSet::new();
        for (inline, path) in paths(&tokens(&code), &children) {
            let from: Vec<String> = s.module.iter().chain(&inline).cloned().collect();
            if let Some(target) = resolve(&from, &path, &known) {
                if target != s.module && !target.is_empty() {
                    edges.insert(modules[&target].clone());
                }
            }
        }
        graph.insert(s.file.clone(), edges);
    }
    graph
}

/// The part of a file: its folder under `src/`, or the file itself when it lies loose.
fn part_of(file: &str) -> String {
    match file.split_once('/') {
        Some((dir, _)) => format!("{dir}/"),
        None => file.to_owned(),
    }
}

fn part_graph(files: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let mut parts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, targets) in files {
        let from = part_of(file);
        let entry = parts.entry(from.clone()).or_default();
        for t in targets {
            let to = part_of(t);
            if to != from {
                entry.insert(to);
            }
        }
    }
    parts
}

/// Every circle of the graph, each as the path that goes round it (`a → b → a`).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Tarjan's strongly connected components; a component of more than one node holds a
    // circle, shown by a walk from its first node back to it.
    struct State<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        components: Vec<Vec<&'g str>>,
    }
    fn visit<'g>(st: &mut State<'g>, v: &'g str) {
        let i = st.index.len();
        st.index.insert(v, i);
        st.low.insert(v, i);
        st.stack.push(v);
        st.on_stack.insert(v);
        for w in st.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !st.index.contains_key(w) {
                visit(st, w);
                let lw = st.low[w];
                let lv = st.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if st.on_stack.contains(w) {
                let iw = st.index[w];
                let lv = st.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if st.low[v] == st.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = st.stack.pop() {
                st.on_stack.remove(w);
                comp.push(w);
                if w == v {
                    break;
                }
            }
            st.components.push(comp);
        }
    }
    let mut st = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for v in graph.keys() {
        if !st.index.contains_key(v.as_str()) {
            visit(&mut st, v);
        }
    }
    let mut out = Vec::new();
    for comp in st.components.iter().filter(|c| c.len() > 1) {
        let inside: BTreeSet<&str> = comp.iter().copied().collect();
        let start = *inside.iter().next().unwrap();
        // Breadth-first from start's successors back to start, within the component.
        let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut seen = BTreeSet::from([start]);
        'search: while let Some(v) = queue.pop_front() {
            for w in graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !inside.contains(w) {
                    continue;
                }
                if w == start {
                    prev.insert("\0end", v);
                    break 'search;
                }
                if seen.insert(w) {
                    prev.insert(w, v);
                    queue.push_back(w);
                }
            }
        }
        let mut walk = vec![start.to_owned()];
        let mut at = prev["\0end"];
        while at != start {
            walk.push(at.to_owned());
            at = prev[at];
        }
        walk.push(start.to_owned());
        walk.reverse();
        out.push(walk);
    }
    out
}

fn show(circles: &[Vec<String>]) -> String {
    circles
        .iter()
        .map(|c| format!("  {}", c.join(" → ")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn no_file_of_the_runtime_imports_itself_round_a_circle() {
    let graph = file_graph(&runtime_sources());
    assert!(
        graph.len() > 20,
        "the runtime's files were found: {}",
        graph.len()
    );
    let found = circles(&graph);
    assert!(
        found.is_empty(),
        "import circles between files of telemetry-runtime/src:\n{}",
        show(&found)
    );
}

#[test]
fn no_two_parts_of_the_runtime_import_each_other() {
    let parts = part_graph(&file_graph(&runtime_sources()));
    let found = circles(&parts);
    assert!(
        found.is_empty(),
        "import circles between parts of telemetry-runtime/src:\n{}",
        show(&found)
    );
}

#[test]
fn the_parts_are_folders_and_no_file_is_too_long() {
    let sources = runtime_sources();
    let loose: Vec<&str> = sources
        .iter()
        .map(|s| s.file.as_str())
        .filter(|f| !f.contains('/') && *f != "lib.rs")
        .collect();
    assert!(
        loose.len() <= 6,
        "at most six files lie loose beside lib.rs: {loose:?}"
    );
    let mut long = Vec::new();
    for s in &sources {
        let before_tests = s
            .text
            .lines()
            .take_while(|l| {
                !l.trim_start().starts_with("#[cfg(test)]")
                    && !l.trim_start().starts_with("#[cfg(all(test")
            })
            .count();
        if before_tests > MAX_LINES {
            long.push(format!("{} ({before_tests} lines)", s.file));
        }
    }
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines before their tests: {long:?}"
    );
    for s in sources.iter().filter(|s| s.file.ends_with("/mod.rs")) {
        assert!(
            s.text.starts_with("//!"),
            "{} opens with a paragraph saying what the part does",
            s.file
        );
    }
}

/// The sub-part of a file of `part/` (issue 26: `deliver/` shows its halves): its folder
/// inside the part, or the file itself when it lies loose in the part.
fn sub_part_of(file: &str, part: &str) -> Option<String> {
    let rest = file.strip_prefix(part)?;
    Some(match rest.split_once('/') {
        Some((dir, _)) => format!("{part}{dir}/"),
        None => file.to_owned(),
    })
}

fn sub_part_graph(
    files: &BTreeMap<String, BTreeSet<String>>,
    part: &str,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut parts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, targets) in files {
        let Some(from) = sub_part_of(file, part) else {
            continue;
        };
        let entry = parts.entry(from.clone()).or_default();
        for t in targets {
            if let Some(to) = sub_part_of(t, part) {
                if to != from {
                    entry.insert(to);
                }
            }
        }
    }
    parts
}

#[test]
fn deliver_has_its_three_halves_as_folders_without_circles_between_them() {
    let sources = runtime_sources();
    for folder in ["queue", "detached", "transport"] {
        let doorway = format!("deliver/{folder}/mod.rs");
        assert!(
            sources.iter().any(|s| s.file == doorway),
            "{doorway} exists"
        );
    }
    let graph = sub_part_graph(&file_graph(&sources), "deliver/");
    assert!(graph.contains_key("deliver/queue/") && graph.contains_key("deliver/sender.rs"));
    let found = circles(&graph);
    assert!(
        found.is_empty(),
        "import circles between the sub-parts of deliver/:\n{}",
        show(&found)
    );
    // The queue knows nothing of HTTP or of who sends; the transports nothing of the queue.
    for (from, forbidden) in [
        (
            "deliver/queue/",
            ["deliver/transport/", "deliver/detached/"],
        ),
        (
            "deliver/transport/",
            ["deliver/queue/", "deliver/detached/"],
        ),
    ] {
        for to in forbidden {
            assert!(
                !graph[from].contains(to),
                "{from} imports {to}: {:?}",
                graph[from]
            );
        }
    }
}

/// The checker itself finds what it is meant to find (so the tests above can fail).
#[test]
fn the_checker_finds_circles_through_use_groups_super_and_child_modules() {
    let source = |file: &str, text: &str| Source {
        module: module_of(file),
        file: file.to_owned(),
        text: text.to_owned(),
    };
    let sources = vec![
        source("lib.rs", "mod a; mod b; mod c;"),
        source("a/mod.rs", "//! a\nmod x; mod y;\npub use x::X;"),
        source(
            "a/x.rs",
            "use super::y::Y; // crate::c::Nothing\nconst S: &str = \"crate::c\";",
        ),
        source(
            "a/y.rs",
            "use crate::{b::{self, B}, c};\nfn f() { let _ = c::C; }",
        ),
        source("b.rs", "fn g() -> crate::a::X { todo!() }"),
        source(
            "c.rs",
            "use std::fmt;\nmod tests {\n    use super::*;\n    use crate::a::x::X;\n}\nfn h() { super::b::g(); }",
        ),
    ];
    let files = file_graph(&sources);
    assert_eq!(
        files["c.rs"],
        BTreeSet::from(["a/x.rs".to_owned(), "b.rs".to_owned()]),
        "`super` in an inline test module is the file's own module"
    );
    assert_eq!(
        files["a/x.rs"],
        BTreeSet::from(["a/y.rs".to_owned()]),
        "comments and strings are not imports"
    );
    assert_eq!(
        files["a/y.rs"],
        BTreeSet::from(["b.rs".to_owned(), "c.rs".to_owned()])
    );
    assert_eq!(files["a/mod.rs"], BTreeSet::from(["a/x.rs".to_owned()]));
    let found = circles(&files);
    assert_eq!(
        found,
        vec![vec![
            "a/mod.rs".to_owned(),
            "a/x.rs".to_owned(),
            "a/y.rs".to_owned(),
            "b.rs".to_owned(),
            "a/mod.rs".to_owned()
        ]]
    );
    let parts = circles(&part_graph(&files));
    assert_eq!(
        parts,
        vec![vec!["a/".to_owned(), "b.rs".to_owned(), "a/".to_owned()]]
    );
    // Inside a part: a/x.rs and a/y.rs are sub-parts of their own, and a/mod.rs imports
    // a/x.rs, which imports a/y.rs: no circle inside `a/`, but a/mod.rs → a/x.rs is seen.
    let subs = sub_part_graph(&files, "a/");
    assert!(subs["a/mod.rs"].contains("a/x.rs"));
    assert!(circles(&subs).is_empty());
    assert_eq!(sub_part_of("a/deep/z.rs", "a/").as_deref(), Some("a/deep/"));
}

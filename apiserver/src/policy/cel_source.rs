//! CEL source the interpreter cannot run as written. cel 0.13 parses struct literals
//! (`Object{...}`, `Object.metadata{...}`, `JSONPatch{...}`) but panics evaluating them, so
//! they are rewritten into map literals before compiling; and the composited
//! `variables.<name>` an expression reads are found here, so only those are evaluated.

/// CEL words that may precede `{` without naming a type (`x in {"a": 1}`).
const RESERVED: &[&str] = &[
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "false",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "null",
    "return",
    "true",
    "var",
    "void",
    "while",
];

const STRING_PREFIXES: &[&str] = &[
    "r", "R", "b", "B", "rb", "rB", "Rb", "RB", "br", "bR", "Br", "BR",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    Str,
    Num,
    Punct,
    /// Whitespace and comments: kept in the output, skipped when looking at neighbours.
    Blank,
}

#[derive(Clone, Debug)]
struct Token<'a> {
    kind: Kind,
    text: &'a str,
}

impl Token<'_> {
    fn is(&self, punct: &str) -> bool {
        self.kind == Kind::Punct && self.text == punct
    }
    fn is_type_name_part(&self) -> bool {
        self.kind == Kind::Ident && !RESERVED.contains(&self.text)
    }
}

/// The end (byte offset) of a string literal whose opening quote is at `start`.
fn string_end(src: &str, start: usize, raw: bool) -> Result<usize, String> {
    let b = src.as_bytes();
    let q = b[start];
    let triple = b.len() >= start + 3 && b[start + 1] == q && b[start + 2] == q;
    let mut i = start + if triple { 3 } else { 1 };
    while i < b.len() {
        if b[i] == b'\\' && !raw {
            i += 2;
            continue;
        }
        if b[i] == q {
            if !triple {
                return Ok(i + 1);
            }
            if b.len() >= i + 3 && b[i + 1] == q && b[i + 2] == q {
                return Ok(i + 3);
            }
        } else if !triple && b[i] == b'\n' {
            break;
        }
        i += 1;
    }
    Err(format!(
        "unterminated string literal at offset {start} in {src:?}"
    ))
}

fn lex(src: &str) -> Result<Vec<Token<'_>>, String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let c = b[i];
        let kind = if c.is_ascii_whitespace() {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            Kind::Blank
        } else if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            Kind::Blank
        } else if c == b'"' || c == b'\'' {
            i = string_end(src, i, false)?;
            Kind::Str
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let word = &src[start..i];
            if STRING_PREFIXES.contains(&word) && matches!(b.get(i), Some(b'"') | Some(b'\'')) {
                let raw = word.contains(['r', 'R']);
                i = string_end(src, i, raw)?;
                Kind::Str
            } else {
                Kind::Ident
            }
        } else if c.is_ascii_digit() {
            while i < b.len() {
                let d = b[i];
                let exponent_sign = matches!(d, b'+' | b'-')
                    && matches!(b[i - 1], b'e' | b'E')
                    && !src[start..i].starts_with("0x")
                    && b.get(i + 1).is_some_and(u8::is_ascii_digit);
                let fraction = d == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit);
                if d.is_ascii_alphanumeric() || d == b'_' || exponent_sign || fraction {
                    i += 1;
                } else {
                    break;
                }
            }
            Kind::Num
        } else {
            // One character (UTF-8 aware: non-ASCII only appears in strings in valid CEL).
            i += src[i..].chars().next().map_or(1, char::len_utf8);
            Kind::Punct
        };
        out.push(Token {
            kind,
            text: &src[start..i],
        });
    }
    Ok(out)
}

fn prev_significant(tokens: &[Token<'_>], before: usize) -> Option<usize> {
    (0..before).rev().find(|&j| tokens[j].kind != Kind::Blank)
}

fn next_significant(tokens: &[Token<'_>], after: usize) -> Option<usize> {
    (after + 1..tokens.len()).find(|&j| tokens[j].kind != Kind::Blank)
}

/// The token range `[from, brace)` of the (possibly dotted, possibly leading-dot) type
/// name before the `{` at `brace`, if that `{` opens a struct literal.
fn type_name_before(tokens: &[Token<'_>], brace: usize) -> Option<usize> {
    let mut j = prev_significant(tokens, brace)?;
    if !tokens[j].is_type_name_part() {
        return None;
    }
    let mut from = j;
    // In CEL's grammar an identifier directly before `{` can only start a struct
    // construction; walk back over `a.b.C` (and a leading `.`).
    while let Some(dot) = prev_significant(tokens, from).filter(|&d| tokens[d].is(".")) {
        match prev_significant(tokens, dot) {
            Some(p) if tokens[p].is_type_name_part() => {
                j = p;
                from = j;
            }
            _ => {
                from = dot;
                break;
            }
        }
    }
    Some(from)
}

enum Frame {
    Struct { expect_field: bool },
    Other,
}

/// Rewrite every struct literal `Type.Name{field: expr, ...}` into the map literal
/// `{"field": expr, ...}`; everything else (strings, comments, spacing) is kept as written.
pub fn rewrite_struct_literals(src: &str) -> Result<String, String> {
    let tokens = lex(src)?;
    let mut drop = vec![false; tokens.len()];
    let mut quote = vec![false; tokens.len()];
    let mut frames: Vec<Frame> = Vec::new();
    for i in 0..tokens.len() {
        let t = &tokens[i];
        if t.kind == Kind::Blank {
            continue;
        }
        if let Some(Frame::Struct { expect_field }) = frames.last_mut()
            && *expect_field
            && !t.is("?")
        {
            *expect_field = false;
            let colon = next_significant(&tokens, i).is_some_and(|n| tokens[n].is(":"));
            if t.kind == Kind::Ident && colon {
                quote[i] = true;
                continue;
            }
        }
        match (t.kind, t.text) {
            (Kind::Punct, "{") => match type_name_before(&tokens, i) {
                Some(from) => {
                    drop[from..i].iter_mut().for_each(|d| *d = true);
                    frames.push(Frame::Struct { expect_field: true });
                }
                None => frames.push(Frame::Other),
            },
            (Kind::Punct, "(") | (Kind::Punct, "[") => frames.push(Frame::Other),
            (Kind::Punct, ")") | (Kind::Punct, "]") | (Kind::Punct, "}") => {
                frames.pop();
            }
            (Kind::Punct, ",") => {
                if let Some(Frame::Struct { expect_field }) = frames.last_mut() {
                    *expect_field = true;
                }
            }
            _ => {}
        }
    }
    let mut out = String::with_capacity(src.len() + 16);
    for (i, t) in tokens.iter().enumerate() {
        if drop[i] {
            continue;
        }
        if quote[i] {
            out.push('"');
            out.push_str(t.text);
            out.push('"');
        } else {
            out.push_str(t.text);
        }
    }
    Ok(out)
}

/// The names of the composited variables an expression reads: `variables.x` and
/// `variables["x"]`.
pub fn referenced_variables(src: &str) -> Vec<String> {
    let Ok(tokens) = lex(src) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for i in 0..tokens.len() {
        if tokens[i].kind != Kind::Ident || tokens[i].text != "variables" {
            continue;
        }
        if prev_significant(&tokens, i).is_some_and(|p| tokens[p].is(".")) {
            continue;
        }
        let Some(op) = next_significant(&tokens, i) else {
            continue;
        };
        let name = match tokens[op].text {
            "." => next_significant(&tokens, op)
                .filter(|&n| tokens[n].kind == Kind::Ident)
                .map(|n| tokens[n].text.to_string()),
            "[" => next_significant(&tokens, op)
                .filter(|&n| tokens[n].kind == Kind::Str)
                .map(|n| tokens[n].text.trim_matches(['"', '\'']).to_string()),
            _ => None,
        };
        if let Some(n) = name
            && !names.contains(&n)
        {
            names.push(n);
        }
    }
    names
}

/// The field paths an expression selects below the root variable `root` (`object`,
/// `oldObject`, …): `object.spec.owner` gives `["spec", "owner"]`, each path kept as far as
/// it is a plain `.field` selection (an index, `.?`, an escaped `__name__` or a call ends
/// it there, and everything below that point is read). `None` when the variable is used in
/// any other way (bare, indexed, as a macro's variable): all of it is read. Empty when the
/// source never names it.
pub fn selected_paths(src: &str, root: &str) -> Option<Vec<Vec<String>>> {
    let tokens = lex(src).ok()?;
    let mut paths = Vec::new();
    for i in 0..tokens.len() {
        if tokens[i].kind != Kind::Ident || tokens[i].text != root {
            continue;
        }
        if prev_significant(&tokens, i).is_some_and(|p| tokens[p].is(".")) {
            continue; // a field of something else
        }
        let mut path: Vec<String> = Vec::new();
        let mut at = i;
        while let Some(dot) = next_significant(&tokens, at).filter(|&d| tokens[d].is(".")) {
            let Some(field) = next_significant(&tokens, dot)
                .filter(|&f| tokens[f].kind == Kind::Ident && !tokens[f].text.starts_with("__"))
            else {
                break;
            };
            // `a.b(` is a method call on `a`, not a field `b`.
            if next_significant(&tokens, field).is_some_and(|n| tokens[n].is("(")) {
                break;
            }
            path.push(tokens[field].text.to_string());
            at = field;
        }
        if path.is_empty() {
            return None;
        }
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    Some(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(s: &str) -> String {
        rewrite_struct_literals(s).expect("rewrites")
    }

    #[test]
    fn a_struct_literal_becomes_a_map_literal() {
        assert_eq!(
            rw(r#"Object{metadata: Object.metadata{name: "x"}}"#),
            r#"{"metadata": {"name": "x"}}"#
        );
    }

    #[test]
    fn dotted_and_leading_dot_type_names_are_dropped() {
        assert_eq!(
            rw("Object.spec.template.spec{ containers: [] }"),
            r#"{ "containers": [] }"#
        );
        assert_eq!(rw(".google.Foo{a: 1}"), r#"{"a": 1}"#);
        assert_eq!(rw("Object . metadata {a: 1}"), r#"{"a": 1}"#);
    }

    #[test]
    fn strings_containing_braces_and_colons_are_left_alone() {
        assert_eq!(
            rw(r#"JSONPatch{op: "add", path: "/a{b: c}", value: 'x{y: z}'}"#),
            r#"{"op": "add", "path": "/a{b: c}", "value": 'x{y: z}'}"#
        );
        assert_eq!(
            rw(r#"Object{a: """multi "line" {b: 1}""", c: r"\{d: e}"}"#),
            r#"{"a": """multi "line" {b: 1}""", "c": r"\{d: e}"}"#
        );
        assert_eq!(
            rw(r#"Object{a: "esc\"aped{x: 1}"}"#),
            r#"{"a": "esc\"aped{x: 1}"}"#
        );
    }

    #[test]
    fn nested_structs_inside_lists_maps_and_calls() {
        assert_eq!(
            rw(r#"[JSONPatch{op: "add", path: "/a", value: {"k": Object.x{v: [1, 2]}}}]"#),
            r#"[{"op": "add", "path": "/a", "value": {"k": {"v": [1, 2]}}}]"#
        );
        assert_eq!(
            rw("object.items.map(i, Item{name: i.name, n: size(i.list)})"),
            r#"object.items.map(i, {"name": i.name, "n": size(i.list)})"#
        );
        assert_eq!(
            rw("c ? Object{a: 1} : Object{b: Object.b{c: 2}}"),
            r#"c ? {"a": 1} : {"b": {"c": 2}}"#
        );
    }

    #[test]
    fn map_literals_and_membership_are_untouched() {
        for s in [
            r#"{"a": 1, "b": {"c": x}}"#,
            r#"'a' in {'a': 1}"#,
            r#"x in {"a": {"b": 2}}"#,
            "Object{}",
        ] {
            let out = rw(s);
            if s == "Object{}" {
                assert_eq!(out, "{}");
            } else {
                assert_eq!(out, s);
            }
        }
    }

    #[test]
    fn comments_and_field_values_named_like_fields_survive() {
        assert_eq!(
            rw("Object{ // {not: this}\n  spec: spec, status: status }"),
            "{ // {not: this}\n  \"spec\": spec, \"status\": status }"
        );
    }

    #[test]
    fn unterminated_strings_are_refused() {
        assert!(rewrite_struct_literals(r#"Object{a: "x}"#).is_err());
    }

    #[test]
    fn variables_read_by_an_expression() {
        assert_eq!(
            referenced_variables(
                r#"variables.a + variables["b"] + object.variables.c + "variables.d""#
            ),
            vec!["a".to_string(), "b".to_string()]
        );
    }

    #[test]
    fn selected_paths_follow_plain_field_selections() {
        let p = |src, root| selected_paths(src, root);
        assert_eq!(
            p("object.spec.owner == oldObject.spec.owner", "object"),
            Some(vec![vec!["spec".to_string(), "owner".to_string()]])
        );
        assert_eq!(
            p(
                "has(object.metadata.annotations) && object.metadata.annotations['a'] == 'b'",
                "object"
            ),
            Some(vec![vec![
                "metadata".to_string(),
                "annotations".to_string()
            ]])
        );
        // A method call ends the path before the method's name.
        assert_eq!(
            p("object.metadata.name.startsWith('x')", "object"),
            Some(vec![vec!["metadata".to_string(), "name".to_string()]])
        );
        // Optional selection, an escaped name: read below the last plain field.
        assert_eq!(
            p("object.spec.?owner.orValue('')", "object"),
            Some(vec![vec!["spec".to_string()]])
        );
        assert_eq!(
            p("object.spec.__namespace__", "object"),
            Some(vec![vec!["spec".to_string()]])
        );
        // Bare, indexed, shadowed by a macro, or optional at the root: all of it.
        assert_eq!(p("object == oldObject", "object"), None);
        assert_eq!(p("object['spec'].x", "object"), None);
        assert_eq!(p("[1].all(object, object.x > 0)", "object"), None);
        assert_eq!(p("object.?spec", "object"), None);
        // A field named like the root is not the root; strings are not names.
        assert_eq!(p("params.object.x == 'object.y'", "object"), Some(vec![]));
        assert_eq!(p("1 == 1", "object"), Some(vec![]));
    }
}

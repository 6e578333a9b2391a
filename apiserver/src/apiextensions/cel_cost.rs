//! The CEL cost budget of a CRD's `x-kubernetes-validations` rules, as far as it can be known
//! for certain without cel-go's checker: a lower bound of its static cost estimate.
//!
//! apiextensions refuses a rule whose estimated cost exceeds `StaticEstimatedCostLimit`
//! (10,000,000) with `estimated rule cost exceeds budget by factor of <f> (...)`, where `<f>`
//! is "more than 100x" beyond 100 times the limit. This module bounds the estimate from
//! below (identifiers and field selections cost 1 each, a comprehension its range's maximum
//! size times its loop step, `matches` its string's length times its regex's) with the sizes
//! the real estimator derives from the schema:
//! `maxItems`/`maxProperties`, else how many of the smallest items fit in a 3 MiB request.
//! A rule is refused only when that lower bound is over 100 times the limit, so the refusal
//! and its "more than 100x" text are the real server's, and no rule the real server accepts
//! is refused. Rules the real estimate puts between 1 and 100 times the limit (string
//! functions over unbounded strings, single comprehensions) are accepted here.

use std::collections::HashMap;

use kube::core::cel::cel::common::ast::{EntryExpr, Expr, LiteralValue};
use serde_json::Value;

/// `StaticEstimatedCostLimit` of k8s.io/apiextensions-apiserver.
const RULE_COST_LIMIT: f64 = 10_000_000.0;
/// kube-apiserver's maximum request body, from which unbounded sizes are estimated.
const MAX_REQUEST_BYTES: f64 = 3.0 * 1024.0 * 1024.0;

/// The real server's message for a rule whose estimated cost is over 100 times the limit.
pub const OVER_BUDGET: &str = "estimated rule cost exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)";

/// Whether `rule` (compiled), evaluated at schema node `node`, is certainly more than 100
/// times over the per-rule cost budget.
pub fn certainly_over_budget(rule: &Expr, node: &Value) -> bool {
    let mut scope = HashMap::new();
    scope.insert("self".to_string(), Some(node));
    scope.insert("oldSelf".to_string(), Some(node));
    min_cost(rule, &scope) > 100.0 * RULE_COST_LIMIT
}

type Scope<'a> = HashMap<String, Option<&'a Value>>;

/// A lower bound of cel-go's estimated cost of `e`.
fn min_cost(e: &Expr, scope: &Scope<'_>) -> f64 {
    match e {
        Expr::Ident(_) => 1.0,
        Expr::Select(s) => 1.0 + min_cost(&s.operand.expr, scope),
        // cel-go counts the condition and the costlier branch.
        Expr::Call(c) if c.func_name == "_?_:_" && c.args.len() == 3 => {
            let branch = |i: usize| min_cost(&c.args[i].expr, scope);
            branch(0) + branch(1).max(branch(2))
        }
        Expr::Call(c) => {
            let target = c.target.as_ref().map_or(0.0, |t| min_cost(&t.expr, scope));
            let args = c.args.iter().map(|a| min_cost(&a.expr, scope)).sum::<f64>();
            target + args + matches_cost(c, scope)
        }
        Expr::List(l) => l.elements.iter().map(|x| min_cost(&x.expr, scope)).sum(),
        Expr::Map(m) => m
            .entries
            .iter()
            .map(|entry| match &entry.expr {
                EntryExpr::MapEntry(me) => {
                    min_cost(&me.key.expr, scope) + min_cost(&me.value.expr, scope)
                }
                EntryExpr::StructField(f) => min_cost(&f.value.expr, scope),
            })
            .sum(),
        Expr::Comprehension(c) => {
            let range = schema_of(&c.iter_range.expr, scope);
            let mut inner = scope.clone();
            inner.insert(c.iter_var.clone(), range.and_then(element_schema));
            if let Some(v2) = &c.iter_var2 {
                inner.insert(v2.clone(), None);
            }
            inner.insert(c.accu_var.clone(), None);
            let size = range.map_or(0.0, max_size);
            min_cost(&c.iter_range.expr, scope) + size * min_cost(&c.loop_step.expr, &inner)
        }
        _ => 0.0,
    }
}

/// `str.matches(regex)`: cel-go's worst case matches the whole string, costing
/// `0.1 × its maximum length × 0.25 × the regex's length` (StringTraversalCostFactor,
/// RegexStringLengthCostFactor). Counted when the string's schema and a literal regex are known.
fn matches_cost(c: &kube::core::cel::cel::common::ast::CallExpr, scope: &Scope<'_>) -> f64 {
    if c.func_name != "matches" {
        return 0.0;
    }
    let (subject, regex) = match (&c.target, c.args.as_slice()) {
        (Some(t), [r]) => (&t.expr, &r.expr),
        (None, [t, r]) => (&t.expr, &r.expr),
        _ => return 0.0,
    };
    let Expr::Literal(LiteralValue::String(regex)) = regex else {
        return 0.0;
    };
    let Some(max_len) = schema_of(subject, scope).and_then(max_string_length) else {
        return 0.0;
    };
    (0.1 * max_len).floor() * (0.25 * regex.len() as f64).floor()
}

/// The longest a string of this schema can be, as the real estimator bounds it: `maxLength`,
/// else (no format) what fits in a request. Formats and enums are left out (`None`).
fn max_string_length(schema: &Value) -> Option<f64> {
    if schema.get("type").and_then(Value::as_str) != Some("string")
        || schema.get("format").is_some()
        || schema.get("enum").is_some()
    {
        return None;
    }
    let max = schema.get("maxLength").and_then(Value::as_u64);
    Some(max.map_or(MAX_REQUEST_BYTES - 2.0, |n| n as f64))
}

/// The schema of what `e` evaluates to, when it is `self` or a variable bound to a schema,
/// followed by field selections.
fn schema_of<'a>(e: &Expr, scope: &Scope<'a>) -> Option<&'a Value> {
    match e {
        Expr::Ident(name) => scope.get(name).copied().flatten(),
        Expr::Select(s) if !s.test => {
            let parent = schema_of(&s.operand.expr, scope)?;
            parent
                .get("properties")
                .and_then(|p| p.get(&s.field))
                .or_else(|| parent.get("additionalProperties").filter(|a| a.is_object()))
        }
        _ => None,
    }
}

/// The schema a comprehension's variable takes over a list (its items) or map (its keys:
/// plain strings, no schema).
fn element_schema(range: &Value) -> Option<&Value> {
    range.get("items")
}

/// The most elements a list or map of this schema can have, as the real estimator bounds
/// it; 0 for anything else (a lower bound: it may be empty).
fn max_size(schema: &Value) -> f64 {
    let bound = |key: &str| schema.get(key).and_then(Value::as_u64).map(|n| n as f64);
    if let Some(items) = schema.get("items") {
        return bound("maxItems").unwrap_or((MAX_REQUEST_BYTES - 2.0) / (min_size(items) + 1.0));
    }
    if let Some(values) = schema.get("additionalProperties").filter(|a| a.is_object()) {
        return bound("maxProperties")
            .unwrap_or((MAX_REQUEST_BYTES - 2.0) / (min_size(values) + 6.0));
    }
    0.0
}

/// At least the smallest serialized size of a value of this schema (at least what the real
/// estimator assumes, so sizes derived from it are never larger than its).
fn min_size(schema: &Value) -> f64 {
    let min_length = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as f64;
    let scalar = match schema.get("type").and_then(Value::as_str) {
        Some("string") => 2.0 + min_length,
        Some("boolean") => 4.0,
        Some("integer" | "number") => 1.0,
        _ => 2.0,
    };
    // Required fields of an object are in every value: their names and values count too.
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|name| {
            let child = schema.pointer(&format!("/properties/{name}"));
            name.len() as f64 + 4.0 + child.map_or(1.0, min_size)
        })
        .sum::<f64>();
    // Every size here must be at least the real estimator's (so item counts derived from it
    // are at most its): a nullable value may be `null` (4 bytes), and the 64-byte margin
    // keeps even that above the real minimum.
    let nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
    let size = scalar + required;
    if nullable { size.min(4.0) } else { size }.max(1.0) + 64.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::cel as kcel;
    use serde_json::json;

    fn over(rule: &str, node: Value) -> bool {
        let program = kcel::cel::Program::compile(rule).expect("compiles");
        certainly_over_budget(&program.expression().expr, &node)
    }

    #[test]
    fn nested_comprehensions_over_unbounded_lists_are_over_budget() {
        let tags = json!({"type": "array", "items": {"type": "string"}});
        assert!(over("self.all(x, self.exists(y, x == y))", tags.clone()));
        assert!(over(
            "self.all(x, self.exists_one(y, y == x))",
            tags.clone()
        ));
        // One pass over the list: within budget as far as this bound knows.
        assert!(!over("self.all(x, x.size() < 10)", tags.clone()));
        // But a regex over each unbounded string of an unbounded list is.
        assert!(over("self.all(x, x.matches('^[a-z]+$'))", tags.clone()));
        let short = json!({"type": "array", "items": {"type": "string", "maxLength": 63}});
        assert!(!over("self.all(x, x.matches('^[a-z]+$'))", short));
        // With maxItems the nested pass is small.
        let bounded = json!({"type": "array", "maxItems": 50, "items": {"type": "string"}});
        assert!(!over("self.all(x, self.exists(y, x == y))", bounded));
    }

    #[test]
    fn ranges_are_resolved_through_fields_and_variables() {
        let node = json!({"type": "object", "properties": {
            "groups": {"type": "array", "items": {"type": "object", "properties": {
                "members": {"type": "array", "items": {"type": "string"}}}}}}});
        assert!(over(
            "self.groups.all(g, g.members.all(m, self.groups.exists(h, h.members.exists(n, n == m))))",
            node.clone()
        ));
        assert!(!over("self.groups.all(g, has(g.members))", node));
    }

    #[test]
    fn operators_own_crd_rules_are_within_budget() {
        let crds: Vec<Value> =
            serde_saphyr::from_multiple(include_str!("../../../crds/charter.yaml"))
                .expect("parses");
        let mut rules = 0;
        for crd in crds {
            for v in crd["spec"]["versions"].as_array().into_iter().flatten() {
                walk(&v["schema"]["openAPIV3Schema"], &mut |node, rule| {
                    rules += 1;
                    assert!(!over(rule, node.clone()), "{rule}");
                });
            }
        }
        assert!(rules > 5);
    }

    fn walk(node: &Value, f: &mut dyn FnMut(&Value, &str)) {
        for r in node["x-kubernetes-validations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            f(node, r["rule"].as_str().unwrap_or_default());
        }
        for c in node["properties"]
            .as_object()
            .into_iter()
            .flat_map(|p| p.values())
        {
            walk(c, f);
        }
        if node["items"].is_object() {
            walk(&node["items"], f);
        }
    }
}

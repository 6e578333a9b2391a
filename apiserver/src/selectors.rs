//! Label selectors (equality and set-based) and field selectors, as list and watch use them.

use crate::error::ApiError;
use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
enum LabelTerm {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelSelector(Vec<LabelTerm>);

/// Split on commas outside parentheses.
fn split_terms(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

fn set_values(rest: &str) -> Option<Vec<String>> {
    let rest = rest.trim();
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let bad = || {
            ApiError::bad_request(format!(
                "unable to parse requirement: invalid label selector: {s:?}"
            ))
        };
        let mut terms = Vec::new();
        for t in split_terms(s) {
            if let Some(k) = t.strip_prefix('!') {
                terms.push(LabelTerm::NotExists(k.trim().to_string()));
            } else if let Some((k, v)) = t.split_once("!=") {
                terms.push(LabelTerm::Ne(k.trim().into(), v.trim().into()));
            } else if let Some((k, v)) = t.split_once("==") {
                terms.push(LabelTerm::Eq(k.trim().into(), v.trim().into()));
            } else if let Some((k, v)) = t.split_once('=') {
                terms.push(LabelTerm::Eq(k.trim().into(), v.trim().into()));
            } else if let Some((k, rest)) = t.split_once(" notin ") {
                terms.push(LabelTerm::NotIn(
                    k.trim().into(),
                    set_values(rest).ok_or_else(bad)?,
                ));
            } else if let Some((k, rest)) = t.split_once(" in ") {
                terms.push(LabelTerm::In(
                    k.trim().into(),
                    set_values(rest).ok_or_else(bad)?,
                ));
            } else if t.contains(' ') || t.contains('(') {
                return Err(bad());
            } else {
                terms.push(LabelTerm::Exists(t));
            }
        }
        Ok(LabelSelector(terms))
    }

    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels");
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|t| match t {
            LabelTerm::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelTerm::Ne(k, v) => get(k) != Some(v.as_str()),
            LabelTerm::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelTerm::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            LabelTerm::Exists(k) => get(k).is_some(),
            LabelTerm::NotExists(k) => get(k).is_none(),
        })
    }
}

/// `metadata.name=x,involvedObject.kind!=Pod`: equality on dotted paths of the object
/// as served (core events are matched in their core v1 shape).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut terms = Vec::new();
        for t in split_terms(s) {
            let (k, eq, v) = if let Some((k, v)) = t.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = t.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = t.split_once('=') {
                (k, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid field selector: {t:?}"
                )));
            };
            terms.push((k.trim().to_string(), eq, v.trim().to_string()));
        }
        Ok(FieldSelector(terms))
    }

    /// The labels the selector names, in order.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _, _)| k.as_str())
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(path, eq, want)| {
            let mut cur = Some(obj);
            for part in path.split('.') {
                cur = cur.and_then(|c| c.get(part));
            }
            let got = match cur {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (got == *want) == *eq
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_based_and_equality_label_selectors_match_like_the_real_server() {
        let o = json!({"metadata": {"labels": {"team": "a", "tier": "gold"}}});
        assert!(LabelSelector::parse("team=a,!foo").unwrap().matches(&o));
        assert!(
            LabelSelector::parse("tier in (gold, silver),team")
                .unwrap()
                .matches(&o)
        );
        assert!(
            !LabelSelector::parse("tier notin (gold)")
                .unwrap()
                .matches(&o)
        );
        assert!(!LabelSelector::parse("team!=a").unwrap().matches(&o));
        assert!(LabelSelector::parse("x notin (y)").unwrap().matches(&o));
    }

    #[test]
    fn field_selectors_match_dotted_paths() {
        let o =
            json!({"metadata": {"name": "n", "namespace": "d"}, "involvedObject": {"kind": "Pod"}});
        assert!(
            FieldSelector::parse("metadata.name=n,involvedObject.kind==Pod")
                .unwrap()
                .matches(&o)
        );
        assert!(
            !FieldSelector::parse("metadata.namespace!=d")
                .unwrap()
                .matches(&o)
        );
    }
}

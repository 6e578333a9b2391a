//! Compiled policy expressions and what they see: `object`, `oldObject`, `request`,
//! `params`, `namespaceObject` and the composited `variables` (evaluated lazily: only
//! those an expression reads, each at most once per request). Every evaluation is
//! contained: a panic in the interpreter is an evaluation error, never a crashed server.

use super::cel_source;
use crate::contain::contain;
use kube::core::cel::KubeCelExt;
use kube::core::cel::cel::objects::{Key, Map};
use kube::core::cel::cel::{Context, Program, Value};
use serde_json::Value as Json;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// One expression, rewritten for the interpreter and compiled once.
pub struct Expr {
    /// As the policy author wrote it (error messages quote it).
    pub source: String,
    program: Program,
    /// The composited variables it reads.
    variables: Vec<String>,
    /// The inputs it reads (indexes into [`ROOTS`]), each with the field paths it selects
    /// (`None`: all of it). Only those are converted for the interpreter: converting a whole
    /// object for every expression of every policy was most of a request's admission cost.
    reads: Vec<(usize, Option<Vec<Vec<String>>>)>,
}

/// The bound variables, in the order of [`Inputs`]' fields.
const ROOTS: [&str; 5] = [
    "object",
    "oldObject",
    "request",
    "params",
    "namespaceObject",
];

/// What a policy has that this server cannot evaluate faithfully: refused at creation.
const UNSUPPORTED: &[(&str, &str)] = &[(
    "authorizer",
    "the authorizer variable is not supported by this API server",
)];

impl Expr {
    /// Compile; the error is worded as the real server's field error detail.
    pub fn compile(source: &str) -> Result<Expr, String> {
        // Syntax errors are reported against the source as written: the parser knows
        // struct literals; only the interpreter lacks them.
        contain("cel compile", || Program::compile(source).map(|_| ()))
            .map_err(|e| format!("compilation failed: {}", e.message))?
            .map_err(|e| format!("compilation failed: {e}"))?;
        let rewritten = cel_source::rewrite_struct_literals(source)
            .map_err(|e| format!("compilation failed: {e}"))?;
        let program = contain("cel compile", || Program::compile(&rewritten))
            .map_err(|e| format!("compilation failed: {}", e.message))?
            .map_err(|e| format!("compilation failed: {e}"))?;
        let refs = program.references();
        if let Some((_, why)) = UNSUPPORTED.iter().find(|(v, _)| refs.has_variable(v)) {
            return Err(format!("compilation failed: {why}"));
        }
        let reads = ROOTS
            .iter()
            .enumerate()
            .filter(|(_, root)| refs.has_variable(root))
            .map(|(i, root)| {
                let paths = cel_source::selected_paths(&rewritten, root)
                    .filter(|p| !p.is_empty() && p.iter().all(|x| !x.is_empty()));
                (i, paths)
            })
            .collect();
        Ok(Expr {
            source: source.to_string(),
            variables: cel_source::referenced_variables(source),
            program,
            reads,
        })
    }
}

/// `variables` of a policy, in declaration order.
pub type VariableDefs = [(String, Expr)];

pub fn json_to_cel(v: &Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        // Integers stay signed (as in Kubernetes' CEL), so `object.spec.size > 1` compares.
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(u)) => Value::UInt(u),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::String(Arc::new(s.clone())),
        Json::Array(a) => Value::List(Arc::new(a.iter().map(json_to_cel).collect())),
        Json::Object(o) => {
            let map: HashMap<Key, Value> = o
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), json_to_cel(v)))
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

/// `v` with only `paths` below it (each path kept whole below its end): what an expression
/// that selects only those fields can observe of it.
fn selected(v: &Json, paths: &[&[String]]) -> Value {
    let object = match v {
        Json::Object(o) if paths.iter().all(|p| !p.is_empty()) => o,
        _ => return json_to_cel(v),
    };
    let mut map: HashMap<Key, Value> = HashMap::new();
    for (k, child) in object {
        let below: Vec<&[String]> = paths
            .iter()
            .filter(|p| p[0] == *k)
            .map(|p| &p[1..])
            .collect();
        if !below.is_empty() {
            map.insert(Key::String(Arc::new(k.clone())), selected(child, &below));
        }
    }
    Value::Map(Map { map: Arc::new(map) })
}

pub fn cel_to_json(v: &Value) -> Result<Json, String> {
    Ok(match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::UInt(u) => Json::from(*u),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .ok_or_else(|| format!("{f} cannot be represented in JSON"))?,
        Value::String(s) => Json::String(s.to_string()),
        Value::Bytes(b) => {
            use base64::Engine;
            Json::String(base64::engine::general_purpose::STANDARD.encode(b.as_slice()))
        }
        Value::List(l) => Json::Array(l.iter().map(cel_to_json).collect::<Result<_, _>>()?),
        Value::Map(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m.map.iter() {
                let key = match k {
                    Key::String(s) => s.to_string(),
                    Key::Int(i) => i.to_string(),
                    Key::Uint(u) => u.to_string(),
                    Key::Bool(b) => b.to_string(),
                };
                out.insert(key, cel_to_json(v)?);
            }
            Json::Object(out)
        }
        Value::Timestamp(t) => Json::String(t.to_rfc3339()),
        Value::Duration(d) => Json::String(format!("{}s", d.num_milliseconds() as f64 / 1000.0)),
        other => {
            return Err(format!(
                "a {:?} value cannot be represented in JSON",
                other.type_of()
            ));
        }
    })
}

/// The inputs of one evaluation (one request, one binding, one param).
pub struct Inputs<'a> {
    pub object: &'a Json,
    pub old_object: &'a Json,
    pub request: &'a Json,
    pub params: &'a Json,
    pub namespace_object: &'a Json,
}

thread_local! {
    /// The functions every expression may call (the standard library and Kubernetes'),
    /// registered once per thread instead of once per evaluation.
    static FUNCTIONS: &'static Context<'static> = Box::leak(Box::new(Context::default().with_all()));
}

/// The bound variables of one evaluation, and the composited variables computed so far.
/// Each expression is handed only the inputs it reads, and of those only the fields it
/// selects.
pub struct Activation<'a, 'v> {
    inputs: [&'a Json; 5],
    defs: &'v VariableDefs,
    computed: RefCell<HashMap<String, Result<Value, String>>>,
}

impl<'a, 'v> Activation<'a, 'v> {
    pub fn new(inputs: &Inputs<'a>, defs: &'v VariableDefs) -> Result<Self, String> {
        Ok(Activation {
            inputs: [
                inputs.object,
                inputs.old_object,
                inputs.request,
                inputs.params,
                inputs.namespace_object,
            ],
            defs,
            computed: RefCell::new(HashMap::new()),
        })
    }

    /// The value of composited variable `name`, evaluated on first use.
    fn variable(&self, name: &str, depth: usize) -> Result<Value, String> {
        if let Some(done) = self.computed.borrow().get(name) {
            return done.clone();
        }
        let result = match self.defs.iter().find(|(n, _)| n == name) {
            None => Err(format!("no such key: {name}")),
            // A variable reads only earlier ones; the bound stops a malformed cycle.
            Some(_) if depth > self.defs.len() => {
                Err(format!("variable {name:?} refers to itself"))
            }
            Some((_, e)) => self
                .run(e, depth + 1)
                .map_err(|err| format!("composited variable {name:?} fails to evaluate: {err}")),
        };
        self.computed
            .borrow_mut()
            .insert(name.to_string(), result.clone());
        result
    }

    fn run(&self, e: &Expr, depth: usize) -> Result<Value, String> {
        let mut vars: HashMap<Key, Value> = HashMap::new();
        for name in &e.variables {
            if self.defs.iter().any(|(n, _)| n == name) {
                vars.insert(
                    Key::String(Arc::new(name.clone())),
                    self.variable(name, depth)?,
                );
            }
        }
        let functions = FUNCTIONS.with(|f| *f);
        contain("cel evaluation", || {
            let mut ctx = functions.new_inner_scope();
            for (i, paths) in &e.reads {
                let input = self.inputs[*i];
                let value = match paths {
                    None => json_to_cel(input),
                    Some(paths) => {
                        let paths: Vec<&[String]> = paths.iter().map(Vec::as_slice).collect();
                        selected(input, &paths)
                    }
                };
                ctx.add_variable_from_value(ROOTS[*i], value);
            }
            ctx.add_variable_from_value(
                "variables",
                Value::Map(Map {
                    map: Arc::new(vars),
                }),
            );
            e.program.execute(&ctx)
        })
        .map_err(|p| p.message)?
        .map_err(|err| err.to_string())
    }

    /// Evaluate; the error is worded as the real server's.
    pub fn eval(&self, e: &Expr) -> Result<Value, String> {
        self.run(e, 0)
            .map_err(|err| format!("expression '{}' resulted in error: {err}", e.source))
    }

    /// Evaluate an expression that must yield a bool.
    pub fn eval_bool(&self, e: &Expr) -> Result<bool, String> {
        match self.eval(e)? {
            Value::Bool(b) => Ok(b),
            other => Err(format!(
                "expression '{}' resulted in error: expected a bool, got {:?}",
                e.source,
                other.type_of()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inputs<'a>(object: &'a Json, null: &'a Json) -> Inputs<'a> {
        Inputs {
            object,
            old_object: null,
            request: null,
            params: null,
            namespace_object: null,
        }
    }

    #[test]
    fn struct_literals_evaluate_to_maps() {
        let obj = json!({"metadata": {"name": "a"}});
        let null = Json::Null;
        let act = Activation::new(&inputs(&obj, &null), &[]).expect("activation");
        let e = Expr::compile(
            r#"Object{metadata: Object.metadata{labels: {"n": object.metadata.name}}}"#,
        )
        .expect("compiles");
        let v = act.eval(&e).expect("evaluates");
        assert_eq!(
            cel_to_json(&v).expect("json"),
            json!({"metadata": {"labels": {"n": "a"}}})
        );
    }

    #[test]
    fn variables_are_lazy_and_errors_name_the_variable() {
        let obj = json!({"spec": {"size": 3}});
        let null = Json::Null;
        let defs = vec![
            (
                "size".to_string(),
                Expr::compile("object.spec.size").expect("c"),
            ),
            (
                "double".to_string(),
                Expr::compile("variables.size * 2").expect("c"),
            ),
            (
                "broken".to_string(),
                Expr::compile("object.nope.x").expect("c"),
            ),
        ];
        let act = Activation::new(&inputs(&obj, &null), &defs).expect("activation");
        let ok = Expr::compile("variables.double == 6").expect("c");
        assert!(act.eval_bool(&ok).expect("no error: broken is never read"));
        let bad = Expr::compile("variables.broken == 1").expect("c");
        let err = act.eval_bool(&bad).expect_err("broken is read");
        assert!(
            err.starts_with("expression 'variables.broken == 1' resulted in error: composited variable \"broken\" fails to evaluate:"),
            "{err}"
        );
    }

    #[test]
    fn unsupported_variables_are_refused_at_compile_time() {
        let err = Expr::compile("authorizer.group('').resource('x').check('get').allowed()")
            .err()
            .expect("refused");
        assert!(err.contains("authorizer"), "{err}");
    }

    #[test]
    fn large_and_negative_numbers_round_trip() {
        for v in [
            json!(-3),
            json!(u64::MAX),
            json!(1.5),
            json!("x"),
            json!(null),
        ] {
            assert_eq!(cel_to_json(&json_to_cel(&v)).expect("json"), v);
        }
    }

    #[test]
    fn handing_over_only_the_selected_fields_changes_no_result() {
        let obj = json!({
            "metadata": {"name": "a", "annotations": {"k": "v"}, "labels": {"tier": "1"}},
            "spec": {"owner": "priya", "approvers": ["lee", "sam"], "size": 2},
            "status": {"phase": "Active", "history": [{"to": "Active"}]}
        });
        let old = json!({"metadata": {"name": "a"}, "spec": {"owner": "sam"}});
        let sources = [
            "object.spec.owner == 'priya'",
            "object.spec.owner != oldObject.spec.owner",
            "has(object.spec.nope)",
            "has(object.metadata.annotations) && object.metadata.annotations['k'] == 'v'",
            "object.spec.approvers.all(a, a.size() > 2)",
            "object.metadata.name.startsWith('a') && object.status.phase == 'Active'",
            "object.nope.x == 1",
            "size(object.spec) == 3 && object.spec.size == 2",
            "object == oldObject",
            "oldObject.metadata.labels.tier == '1'",
        ];
        let null = Json::Null;
        let run = |e: &Expr| {
            let act = Activation::new(
                &Inputs {
                    object: &obj,
                    old_object: &old,
                    request: &null,
                    params: &null,
                    namespace_object: &null,
                },
                &[],
            )
            .expect("activation");
            act.eval(e)
        };
        for src in sources {
            let selective = Expr::compile(src).expect("compiles");
            let mut whole = Expr::compile(src).expect("compiles");
            for (_, paths) in &mut whole.reads {
                *paths = None;
            }
            assert_eq!(
                format!("{:?}", run(&selective)),
                format!("{:?}", run(&whole)),
                "{src}"
            );
        }
    }
}

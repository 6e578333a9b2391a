//! The differential runner: a corpus of request sequences, run against two grounds, answers
//! normalised and compared (see tests/differential.rs).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use http_body_util::BodyExt;
use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde::Deserialize;
use serde_json::{Value, json};

/// One case: steps run in order by the users named, in a namespace of its own (`$NS`).
#[derive(Deserialize, Debug, Clone)]
pub struct Case {
    pub case: String,
    /// Steps whose answers are not compared (objects the case needs).
    #[serde(default)]
    pub setup: Vec<Step>,
    pub steps: Vec<Step>,
    /// Steps after the compared ones whose answers are not compared (deleting the
    /// cluster-scoped objects the case made: CRDs, policies, ClusterRoles).
    #[serde(default)]
    pub teardown: Vec<Step>,
}

#[derive(Deserialize, Debug, Clone)]
pub struct Step {
    #[serde(default = "admin")]
    pub user: String,
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON (or YAML-written) body; `raw` sends text as it is.
    #[serde(default)]
    pub body: Option<Value>,
    #[serde(default)]
    pub raw: Option<String>,
    /// A watch: read up to `events` events, for at most `seconds`.
    #[serde(default)]
    pub watch: Option<WatchSpec>,
    /// Sent in order with the others, its answer not compared (a CRD's schema changed
    /// between two compared steps: the CRD's own answer is not what the case is about).
    #[serde(default)]
    pub quiet: bool,
}

#[derive(Deserialize, Debug, Clone)]
pub struct WatchSpec {
    pub events: usize,
    #[serde(default = "two")]
    pub seconds: u64,
}

fn admin() -> String {
    "admin".into()
}

fn two() -> u64 {
    2
}

pub struct Corpus {
    pub cases: Vec<Case>,
}

impl Corpus {
    /// Every `*.yaml` of `dir` but the allowlist, in name order; case names are unique.
    pub fn load(dir: &Path) -> Corpus {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("the corpus directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "yaml")
                    && p.file_name().is_some_and(|n| n != "allowlist.yaml")
            })
            .collect();
        files.sort();
        let mut cases: Vec<Case> = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a corpus file");
            let more: Vec<Case> =
                serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            cases.extend(more);
        }
        let mut names: Vec<&str> = cases.iter().map(|c| c.case.as_str()).collect();
        names.sort();
        for pair in names.windows(2) {
            assert_ne!(pair[0], pair[1], "two cases are named {:?}", pair[0]);
        }
        Corpus { cases }
    }
}

#[derive(Deserialize, Debug)]
pub struct AllowedDeviation {
    pub case: String,
    /// Why the embedded server answers differently.
    pub reason: String,
    /// The words of apiserver/README.md's deviation list that cover it.
    pub readme: String,
}

pub struct Allowlist {
    pub entries: Vec<AllowedDeviation>,
}

impl Allowlist {
    pub fn load(path: &Path) -> Allowlist {
        let text = std::fs::read_to_string(path).expect("the allowlist");
        let entries: Option<Vec<AllowedDeviation>> =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Allowlist {
            entries: entries.unwrap_or_default(),
        }
    }

    fn allows(&self, case: &str) -> bool {
        self.entries.iter().any(|e| e.case == case)
    }
}

/// A server to run the corpus on: a client per kubeconfig context (one per user).
pub struct Ground {
    pub name: String,
    clients: BTreeMap<String, Client>,
}

impl Ground {
    pub async fn connect(name: &str, kubeconfig: &Path) -> Ground {
        let config = Kubeconfig::read_from(kubeconfig).expect("the kubeconfig");
        let mut clients = BTreeMap::new();
        for context in &config.contexts {
            let options = KubeConfigOptions {
                context: Some(context.name.clone()),
                ..KubeConfigOptions::default()
            };
            let client_config = kube::Config::from_custom_kubeconfig(config.clone(), &options)
                .await
                .expect("a client config");
            let client = Client::try_from(client_config).expect("a client");
            clients.insert(context.name.clone(), client);
        }
        Ground {
            name: name.to_owned(),
            clients,
        }
    }

    fn client(&self, user: &str) -> &Client {
        self.clients
            .get(user)
            .unwrap_or_else(|| panic!("{} has no context for {user}", self.name))
    }

    /// Sends one step; returns what is compared of the answer (not yet normalised).
    async fn send(&self, step: &Step, namespace: &str) -> Value {
        let sub = |s: &str| s.replace("$NS", namespace);
        let mut uri = sub(&step.path);
        if !step.query.is_empty() {
            uri = format!("{uri}?{}", sub(&step.query));
        }
        let mut request = http::Request::builder()
            .method(step.method.as_str())
            .uri(uri);
        let has_header = |name: &str| step.headers.keys().any(|h| h.eq_ignore_ascii_case(name));
        if !has_header("accept") {
            request = request.header("Accept", "application/json");
        }
        let body = match (&step.body, &step.raw) {
            (_, Some(raw)) => sub(raw).into_bytes(),
            (Some(body), None) => sub(&body.to_string()).into_bytes(),
            (None, None) => Vec::new(),
        };
        if !body.is_empty() && !has_header("content-type") {
            request = request.header("Content-Type", "application/json");
        }
        for (name, value) in &step.headers {
            request = request.header(name.as_str(), sub(value));
        }
        let request = request.body(body).expect("a request");
        let response = match self.client(&step.user).send(request.map(Into::into)).await {
            Ok(r) => r,
            Err(e) => return json!({"transportError": e.to_string()}),
        };
        let status = response.status().as_u16();
        let header = |name: &str| -> Vec<String> {
            response
                .headers()
                .get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap_or_default().to_owned())
                .collect()
        };
        let content_type = header("content-type");
        let warnings = header("warning");
        let mut body = response.into_body();
        let text = match &step.watch {
            None => {
                let bytes = body
                    .collect()
                    .await
                    .map(|b| b.to_bytes().to_vec())
                    .unwrap_or_default();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Some(watch) => {
                // Lines until enough events arrived or the time is up.
                let mut text = String::new();
                let deadline = tokio::time::Instant::now() + Duration::from_secs(watch.seconds);
                while text.lines().count() < watch.events {
                    match tokio::time::timeout_at(deadline, body.frame()).await {
                        Ok(Some(Ok(frame))) => {
                            if let Some(data) = frame.data_ref() {
                                text.push_str(&String::from_utf8_lossy(data));
                            }
                        }
                        _ => break,
                    }
                }
                text
            }
        };
        let body = match &step.watch {
            Some(_) => Value::Array(
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| serde_json::from_str(l).unwrap_or(Value::String(l.to_owned())))
                    .collect(),
            ),
            None => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        };
        json!({"status": status, "contentType": content_type, "warnings": warnings, "body": body})
    }
}

pub enum Verdict {
    Identical,
    Allowed,
    Differs(String),
}

/// Runs every case on both grounds, each in a fresh namespace, and compares the answers.
pub async fn run(
    corpus: &Corpus,
    allowlist: &Allowlist,
    left: &Ground,
    right: &Ground,
) -> Vec<(String, Verdict)> {
    let mut report = Vec::new();
    for (i, case) in corpus.cases.iter().enumerate() {
        let namespace = format!("diff-{i}");
        let mut answers = Vec::new();
        for ground in [left, right] {
            let create = Step {
                user: admin(),
                method: "POST".into(),
                path: "/api/v1/namespaces".into(),
                query: String::new(),
                headers: BTreeMap::new(),
                body: Some(
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
                ),
                raw: None,
                watch: None,
                quiet: false,
            };
            ground.send(&create, &namespace).await;
            for step in &case.setup {
                ground.send(step, &namespace).await;
            }
            let mut normaliser = Normaliser::for_corpus(corpus, &namespace);
            let mut seen = Vec::new();
            for step in &case.steps {
                let answer = ground.send(step, &namespace).await;
                seen.push(if step.quiet {
                    Value::String("<not compared>".into())
                } else {
                    normaliser.normalise(answer)
                });
            }
            for step in &case.teardown {
                ground.send(step, &namespace).await;
            }
            dump(&ground.name, &case.case, &seen);
            answers.push(seen);
        }
        let verdict = compare(case, &answers[0], &answers[1], left, right);
        let verdict = match (verdict, allowlist.allows(&case.case)) {
            (Verdict::Identical, true) => Verdict::Differs(
                "identical, yet listed in the allowlist: remove it there (and from apiserver/README.md if nothing else needs it)".into(),
            ),
            (Verdict::Differs(_), true) => Verdict::Allowed,
            (v, _) => v,
        };
        report.push((case.case.clone(), verdict));
    }
    report
}

/// With `CHARTER_DIFFERENTIAL_DUMP=<dir>`, every normalised answer is written to
/// `<dir>/<ground>/<case>.json`, to read a deviation in full.
fn dump(ground: &str, case: &str, answers: &[Value]) {
    let Some(dir) = std::env::var_os("CHARTER_DIFFERENTIAL_DUMP") else {
        return;
    };
    let dir = Path::new(&dir).join(ground);
    let _ = std::fs::create_dir_all(&dir);
    let text = serde_json::to_string_pretty(answers).unwrap_or_default();
    let _ = std::fs::write(dir.join(format!("{case}.json")), text);
}

fn compare(case: &Case, left: &[Value], right: &[Value], l: &Ground, r: &Ground) -> Verdict {
    for (i, (a, b)) in left.iter().zip(right).enumerate() {
        if a != b {
            let step = &case.steps[i];
            return Verdict::Differs(format!(
                "step {i} ({} {} {} as {}):\n--- {}\n{}\n--- {}\n{}",
                step.method,
                step.path,
                step.query,
                step.user,
                l.name,
                serde_json::to_string_pretty(a).unwrap_or_default(),
                r.name,
                serde_json::to_string_pretty(b).unwrap_or_default()
            ));
        }
    }
    Verdict::Identical
}

/// What legitimately differs between two servers answering the same requests, replaced by
/// stable placeholders: uids and resourceVersions numbered by first appearance, times and ages,
/// names generated from a `generateName`, continue tokens; and the objects kube-controller-manager
/// adds to every namespace (`kube-root-ca.crt`, the `default` ServiceAccount).
struct Normaliser {
    uids: BTreeMap<String, usize>,
    versions: BTreeMap<String, usize>,
    generated: BTreeMap<String, usize>,
    prefixes: Vec<String>,
}

const CONTROLLER_OBJECTS: &[&str] = &["kube-root-ca.crt"];

impl Normaliser {
    /// The generateName prefixes of the whole corpus: a list across namespaces shows the
    /// names other cases generated too.
    fn for_corpus(corpus: &Corpus, namespace: &str) -> Normaliser {
        let prefixes = corpus
            .cases
            .iter()
            .flat_map(|case| case.setup.iter().chain(&case.steps))
            .filter_map(|s| s.body.as_ref()?.pointer("/metadata/generateName")?.as_str())
            .map(|p| p.replace("$NS", namespace))
            .collect();
        Normaliser {
            uids: BTreeMap::new(),
            versions: BTreeMap::new(),
            generated: BTreeMap::new(),
            prefixes,
        }
    }

    fn normalise(&mut self, mut answer: Value) -> Value {
        self.walk(&mut answer, None);
        answer
    }

    fn number(map: &mut BTreeMap<String, usize>, value: &str, what: &str) -> Value {
        let next = map.len();
        let n = *map.entry(value.to_owned()).or_insert(next);
        Value::String(format!("<{what}:{n}>"))
    }

    fn walk(&mut self, value: &mut Value, key: Option<&str>) {
        match value {
            Value::Object(map) => {
                if map.get("kind").and_then(Value::as_str) == Some("Table") {
                    age_cells(map);
                }
                if map.get("kind").and_then(Value::as_str) == Some("APIResourceList") {
                    crd_resources_in_order(map);
                }
                if map.get("kind").and_then(Value::as_str) == Some("Status") {
                    causes_in_order(map);
                }
                // A bookmark carries etcd's current revision, as a list does (below).
                if map.get("type").and_then(Value::as_str) == Some("BOOKMARK")
                    && let Some(Value::Object(meta)) =
                        map.get_mut("object").and_then(|o| o.get_mut("metadata"))
                {
                    meta.insert("resourceVersion".into(), Value::String("<list rv>".into()));
                }
                // A list's own resourceVersion is etcd's current revision, which
                // kube-controller-manager's writes in other namespaces move at their own pace.
                if map.contains_key("items")
                    && map
                        .get("kind")
                        .and_then(Value::as_str)
                        .is_some_and(|k| k.ends_with("List"))
                    && let Some(Value::Object(meta)) = map.get_mut("metadata")
                    && meta.contains_key("resourceVersion")
                {
                    meta.insert("resourceVersion".into(), Value::String("<list rv>".into()));
                }
                if let Some(Value::Array(items)) = map.get_mut("items") {
                    items.retain(|item| !is_controller_object(item));
                }
                for (k, v) in map.iter_mut() {
                    self.walk(v, Some(k));
                }
            }
            Value::Array(items) => {
                items.retain(|item| !is_controller_object(item.get("object").unwrap_or(item)));
                for v in items {
                    self.walk(v, key);
                }
            }
            Value::String(s) => {
                let replaced = match key {
                    Some("uid") if !s.is_empty() => Some(Self::number(&mut self.uids, s, "uid")),
                    Some("resourceVersion") if !s.is_empty() => {
                        Some(Self::number(&mut self.versions, s, "rv"))
                    }
                    Some("continue") if !s.is_empty() => Some(Value::String("<continue>".into())),
                    _ if is_time(s) => Some(Value::String("<time>".into())),
                    // Server-side apply's conflict message names when the other manager wrote
                    // ("conflict with \"kubectl\" using v1 at 2026-12-07T04:22:37Z").
                    _ if times_inside(s).is_some() => times_inside(s).map(Value::String),
                    _ if s.contains(RECORD_VERSION) => Some(Value::String(record_version(s))),
                    _ if has_uuid(s) => Some(Value::String(self.uuids_in(s))),
                    _ if self.prefixes.iter().any(|p| s.contains(p.as_str())) => {
                        Some(Value::String(self.generated_in(s)))
                    }
                    _ => None,
                };
                if let Some(r) = replaced {
                    *value = r;
                }
            }
            _ => {}
        }
    }
}

impl Normaliser {
    /// Replaces each name generated from a corpus prefix (the prefix and five characters),
    /// whole or quoted inside a message, by its number.
    fn generated_in(&mut self, s: &str) -> String {
        let mut out = s.to_owned();
        for prefix in self.prefixes.clone() {
            let mut rest = out.as_str();
            let mut next = String::new();
            while let Some(at) = rest.find(prefix.as_str()) {
                let end = at + prefix.len();
                let tail: String = rest[end..].chars().take(5).collect();
                if tail.len() == 5 && tail.chars().all(|c| c.is_ascii_alphanumeric()) {
                    next.push_str(&rest[..at]);
                    let name = &rest[at..end + 5];
                    if let Value::String(n) = Self::number(&mut self.generated, name, "generated") {
                        next.push_str(&n);
                    }
                    rest = &rest[end + 5..];
                } else {
                    next.push_str(&rest[..end]);
                    rest = &rest[end..];
                }
            }
            next.push_str(rest);
            out = next;
        }
        out
    }

    /// Replaces each uuid inside a text (a Status message quoting a uid) by its number.
    fn uuids_in(&mut self, s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(at) = uuid_at(rest) {
            out.push_str(&rest[..at]);
            let uid = &rest[at..at + 36];
            if let Value::String(n) = Self::number(&mut self.uids, uid, "uid") {
                out.push_str(&n);
            }
            rest = &rest[at + 36..];
        }
        out.push_str(rest);
        out
    }
}

fn has_uuid(s: &str) -> bool {
    uuid_at(s).is_some()
}

/// Where the first `8-4-4-4-12` hex uuid in `s` starts.
fn uuid_at(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    (0..b.len().saturating_sub(35)).find(|&i| {
        b[i..i + 36].iter().enumerate().all(|(j, c)| match j {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
    })
}

fn is_controller_object(item: &Value) -> bool {
    item.pointer("/metadata/name")
        .and_then(Value::as_str)
        .is_some_and(|n| CONTROLLER_OBJECTS.contains(&n))
}

/// A delete precondition's conflict quotes the stored object's resourceVersion, which was
/// written by a setup step (whose answers are not normalised): the number itself differs.
const RECORD_VERSION: &str = "the ResourceVersion in record (";

fn record_version(s: &str) -> String {
    let Some(at) = s.find(RECORD_VERSION) else {
        return s.to_owned();
    };
    let start = at + RECORD_VERSION.len();
    let end = s[start..].find(')').map_or(s.len(), |i| start + i);
    format!("{}<rv>{}", &s[..start], &s[end..])
}

/// kube-openapi's schema validator walks a schema's properties in a Go map's order, so the
/// causes of an Invalid Status with several come in an order that changes from one request
/// to the next: they are compared sorted, and the message rebuilt from them in that order.
fn causes_in_order(status: &mut serde_json::Map<String, Value>) {
    let Some(Value::Array(causes)) = status.get_mut("details").and_then(|d| d.get_mut("causes"))
    else {
        return;
    };
    if causes.len() < 2 {
        return;
    }
    let text = |c: &Value, k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    causes.sort_by_key(|c| (text(c, "field"), text(c, "message")));
    let listed: Vec<String> = causes
        .iter()
        .map(|c| match text(c, "field") {
            f if f.is_empty() => text(c, "message"),
            f => format!("{f}: {}", text(c, "message")),
        })
        .collect();
    if let Some(Value::String(message)) = status.get_mut("message")
        && let Some(at) = message.find(" is invalid: [")
    {
        *message = format!("{} is invalid: [{}]", &message[..at], listed.join(", "));
    }
}

/// kube-apiserver lists a CRD group's resources in its CRD informer's order (a Go map's:
/// it differs from one start to the next), so a group served by CRDs is compared sorted.
/// Built-in groups (`""` and `*.k8s.io`) keep their order, which is fixed.
fn crd_resources_in_order(list: &mut serde_json::Map<String, Value>) {
    let group = list
        .get("groupVersion")
        .and_then(Value::as_str)
        .and_then(|gv| gv.split_once('/'))
        .map_or("", |(g, _)| g);
    if group.is_empty() || group.ends_with("k8s.io") {
        return;
    }
    if let Some(Value::Array(resources)) = list.get_mut("resources") {
        resources.sort_by(|a, b| {
            let name = |v: &Value| {
                v.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            name(a).cmp(&name(b))
        });
    }
}

/// `s` with each `2026-12-07T04:22:37Z` inside it (to the second, in UTC) replaced by `<time>`,
/// or `None` when there is none.
fn times_inside(s: &str) -> Option<String> {
    const LEN: usize = "2026-12-07T04:22:37Z".len();
    let bytes = s.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut at = 0;
    while at + LEN <= bytes.len() {
        if s.get(at..at + LEN).is_some_and(is_time) {
            out.push_str(&s[copied..at]);
            out.push_str("<time>");
            at += LEN;
            copied = at;
        } else {
            at += 1;
        }
    }
    (copied > 0).then(|| out + &s[copied..])
}

/// `2026-12-07T04:22:37Z`, with or without fractions or an offset.
fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[..4].iter().all(u8::is_ascii_digit)
        && (s.ends_with('Z') || s[19..].contains('+') || s[19..].contains('-'))
}

/// A Table's date columns print ages ("5s"), which depend on when the request ran.
fn age_cells(table: &mut serde_json::Map<String, Value>) {
    let dates: Vec<usize> = table
        .get("columnDefinitions")
        .and_then(Value::as_array)
        .map(|cols| {
            cols.iter()
                .enumerate()
                .filter(|(_, c)| {
                    c.get("format").and_then(Value::as_str) == Some("date")
                        || c.get("name").and_then(Value::as_str) == Some("Age")
                })
                .map(|(i, _)| i)
                .collect()
        })
        .unwrap_or_default();
    if let Some(Value::Array(rows)) = table.get_mut("rows") {
        for row in rows {
            if let Some(Value::Array(cells)) = row.get_mut("cells") {
                for &i in &dates {
                    if let Some(cell) = cells.get_mut(i) {
                        *cell = Value::String("<age>".into());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::times_inside;

    #[test]
    fn times_inside_a_message_are_masked_and_other_text_is_kept() {
        assert_eq!(
            times_inside(r#"conflict with "kubectl" using v1 at 2026-12-07T04:22:37Z: .data.a"#)
                .as_deref(),
            Some(r#"conflict with "kubectl" using v1 at <time>: .data.a"#)
        );
        assert_eq!(times_inside("no time here, é 2026-12-07"), None);
        assert_eq!(
            times_inside("the plugin’s CreateVolume to refer to it"),
            None
        );
    }
}

//! Hostile input: malformed and forged manifests sent with the real kubectl, as the users of a
//! secured server (deploy/'s RBAC and admission policies). Each is refused with a message that
//! names the field, or — where admission cannot know (cycles, unknown services, stale
//! revisions) — accepted and answered with a condition or an approval verdict. Afterwards the
//! catalog holds exactly the well-formed Services: nothing published that should not be,
//! nothing lost. The table is in `cases()`; in a manifest `{x*N}` stands for N x's (any
//! character: `{0*N}`), `{list*N}` for a flow list of N distinct user names (ava first),
//! `{deps*N}` for N dependencies, `{rev}` for the current revision of `ledger`, `{approval}` for
//! the name of ava's approval of it and `{waiting}` for the revision of `waiting` (a quorum of
//! two, never reached). The second test is the catalog's size limit.
//!
//! Users: dana owns `ledger` (approvers: ava), ava approves, bo is another user, admin has every
//! RBAC right (and is an approval delegate) but not the operator's status rights.

use std::time::Instant;

use charter::api::{Decision, Phase, ServiceApproval, ServiceApprovalSpec};
use futures::{StreamExt, stream};
use testkit::{Fixture, Ground, NAMESPACE, approve, eventually, kubectl, on_both_grounds, service};

/// What the server must answer.
enum Expect {
    /// kubectl fails and prints every one of these.
    Refused(&'static [&'static str]),
    /// Accepted; then approved by ava, it must reach Active and be published.
    Published(&'static str),
    /// Accepted; the Service `name` gets condition `type_` with `status` and `reason`.
    Condition {
        service: &'static str,
        type_: &'static str,
        status: &'static str,
        reason: &'static str,
    },
    /// Accepted; the approval `name` does not count, for `reason`.
    Verdict {
        approval: &'static str,
        reason: &'static str,
    },
    /// Accepted; the Service `name` carries annotation `key` with `value` (the server's, not
    /// the manifest's).
    Annotation {
        service: &'static str,
        key: &'static str,
        value: &'static str,
    },
}
use Expect::*;

/// How the input is sent.
enum Send {
    /// `kubectl apply -f` (strict field validation, kubectl's default).
    Apply(&'static str),
    /// `kubectl create -f` (no last-applied annotation doubling the object).
    Create(&'static str),
    /// Any other kubectl command; `{rev}` and `{approval}` are expanded in each argument.
    Kubectl(&'static [&'static str]),
}
use Send::*;

struct Case {
    name: &'static str,
    user: &'static str,
    send: Send,
    expect: Expect,
}

const fn case(name: &'static str, user: &'static str, send: Send, expect: Expect) -> Case {
    Case {
        name,
        user,
        send,
        expect,
    }
}

const OWNER: &str = "dana";
const APPROVER: &str = "ava";
const OTHER: &str = "bo";
const ADMIN: &str = "admin";
const CREATED_BY: &str = "catalog.charter.dev/created-by";

fn cases() -> Vec<Case> {
    vec![
        // ---- Wrong types --------------------------------------------------------------
        case(
            "requiredApprovals is a word",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-type-quorum}
spec: {owner: dana, approvers: [ava, bo], requiredApprovals: two}
"#,
            ),
            Refused(&["spec.requiredApprovals", "integer"]),
        ),
        case(
            "approvers is a string, not a list",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-type-approvers}
spec: {owner: dana, approvers: ava}
"#,
            ),
            Refused(&["spec.approvers", "array"]),
        ),
        case(
            "a category is a bare string",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-type-category}
spec: {owner: dana, categories: [finance]}
"#,
            ),
            Refused(&["spec.categories[0]", "object"]),
        ),
        case(
            "availability is a number, not a string",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-type-availability}
spec: {owner: dana, serviceLevel: {availability: 99.9}}
"#,
            ),
            Refused(&["spec.serviceLevel.availability", "string"]),
        ),
        case(
            "availability above 100 percent",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-availability-150}
spec: {owner: dana, serviceLevel: {availability: "150"}}
"#,
            ),
            Refused(&[
                "spec.serviceLevel.availability",
                "must be a percentage from 0 to 100",
            ]),
        ),
        case(
            "availability of 100 and 100,000 zeros",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-availability-zeros}
spec: {owner: dana, serviceLevel: {availability: "100.{0*100000}"}}
"#,
            ),
            Refused(&["spec.serviceLevel.availability", "Too long"]),
        ),
        case(
            "tier outside its values",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-enum-tier}
spec: {owner: dana, tier: Urgent}
"#,
            ),
            Refused(&["spec.tier", "Unsupported value", "Urgent"]),
        ),
        case(
            "desiredPhase outside its values",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-enum-phase}
spec: {owner: dana, lifecycle: {desiredPhase: Live}}
"#,
            ),
            Refused(&["spec.lifecycle.desiredPhase", "Unsupported value", "Live"]),
        ),
        case(
            "decision outside its values",
            APPROVER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-enum-decision}
spec: {serviceName: ledger, revision: "{rev}", decision: Maybe, approver: ava}
"#,
            ),
            Refused(&["spec.decision", "Unsupported value", "Maybe"]),
        ),
        // ---- Missing fields -----------------------------------------------------------
        case(
            "a Service without an owner",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-no-owner}
spec: {description: Nobody is accountable}
"#,
            ),
            Refused(&["spec.owner", "Required value"]),
        ),
        case(
            "a Service without a spec",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-no-spec}
"#,
            ),
            Refused(&["spec", "Required value"]),
        ),
        case(
            "the owner's JSON patch removes the owner",
            OWNER,
            Kubectl(&[
                "patch",
                "csvc",
                "ledger",
                "--type",
                "json",
                "-p",
                r#"[{"op":"remove","path":"/spec/owner"}]"#,
            ]),
            Refused(&["spec.owner", "Required value"]),
        ),
        case(
            "a link without its url",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-link-no-url}
spec: {owner: dana, links: [{name: runbook}]}
"#,
            ),
            Refused(&["spec.links[0].url", "Required value"]),
        ),
        case(
            "a link url that is not an address",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-link-not-a-url}
spec: {owner: dana, links: [{name: runbook, url: not a url}]}
"#,
            ),
            Refused(&["spec.links[0].url", "must be an http or https address"]),
        ),
        case(
            "an approval without a revision",
            APPROVER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-no-revision}
spec: {serviceName: ledger, decision: Approved, approver: ava}
"#,
            ),
            Refused(&["spec.revision", "Required value"]),
        ),
        case(
            "an approval without an approver",
            APPROVER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-no-approver}
spec: {serviceName: ledger, revision: "{rev}", decision: Approved}
"#,
            ),
            Refused(&["spec.approver", "Required value"]),
        ),
        // ---- Unknown fields (kubectl's default --validate=strict) ---------------------
        case(
            "a misspelt field",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-unknown-ownr}
spec: {owner: dana, ownr: dana}
"#,
            ),
            Refused(&["strict decoding error", r#"unknown field "spec.ownr""#]),
        ),
        case(
            "an unknown field inside serviceLevel",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-unknown-nested}
spec: {owner: dana, serviceLevel: {availability: "99.9", uptime: "always"}}
"#,
            ),
            Refused(&[r#"unknown field "spec.serviceLevel.uptime""#]),
        ),
        case(
            "an unknown top-level field",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-unknown-top}
spec: {owner: dana}
specification: {owner: eve}
"#,
            ),
            Refused(&[r#"unknown field "specification""#]),
        ),
        case(
            "an approval with an unknown field",
            APPROVER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-unknown-approval}
spec: {serviceName: ledger, revision: "{rev}", decision: Approved, approver: ava, approvedBy: [ava, bo]}
"#,
            ),
            Refused(&[r#"unknown field "spec.approvedBy""#]),
        ),
        // ---- Oversize strings and lists -----------------------------------------------
        case(
            "a description of 4,097 characters",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-long-description}
spec: {owner: dana, description: "{x*4097}"}
"#,
            ),
            Refused(&["spec.description", "Too long", "4096"]),
        ),
        case(
            "a displayName of 129 characters",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-long-display}
spec: {owner: dana, displayName: "{x*129}"}
"#,
            ),
            Refused(&["spec.displayName", "Too long", "128"]),
        ),
        case(
            "an owner name of 254 characters",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-long-owner}
spec: {owner: "{x*254}"}
"#,
            ),
            Refused(&["spec.owner", "Too long", "253"]),
        ),
        case(
            "33 approvers",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-many-approvers}
spec: {owner: dana, approvers: {list*33}}
"#,
            ),
            Refused(&["spec.approvers", "Too many", "32"]),
        ),
        case(
            "33 tags",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-many-tags}
spec: {owner: dana, tags: {list*33}}
"#,
            ),
            Refused(&["spec.tags", "Too many", "32"]),
        ),
        case(
            "a tag of 64 characters",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-long-tag}
spec: {owner: dana, tags: ["{x*64}"]}
"#,
            ),
            Refused(&["spec.tags[0]", "Too long", "63"]),
        ),
        case(
            "33 subcategories",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-many-subcategories}
spec: {owner: dana, categories: [{name: finance, subcategories: {list*33}}]}
"#,
            ),
            Refused(&["spec.categories[0].subcategories", "Too many", "32"]),
        ),
        case(
            "an outcome of 513 characters",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-long-outcome}
spec: {owner: dana, model: {outcomes: ["{x*513}"]}}
"#,
            ),
            Refused(&["spec.model.outcomes[0]", "Too long", "512"]),
        ),
        case(
            "a link url of 1,025 characters",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-long-url}
spec: {owner: dana, links: [{name: docs, url: "https://{x*1017}"}]}
"#,
            ),
            Refused(&["spec.links[0].url", "Too long", "1024"]),
        ),
        case(
            "an approval comment of 2,049 characters",
            APPROVER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-long-comment}
spec: {serviceName: ledger, revision: "{rev}", decision: Approved, approver: ava, comment: "{x*2049}"}
"#,
            ),
            Refused(&["spec.comment", "Too long", "2048"]),
        ),
        // ---- Bad revisions ------------------------------------------------------------
        case(
            "a revision too short",
            APPROVER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-revision-short}
spec: {serviceName: ledger, revision: "abc123", decision: Approved, approver: ava}
"#,
            ),
            Refused(&["spec.revision", "should match"]),
        ),
        case(
            "a revision in capitals",
            APPROVER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-revision-caps}
spec: {serviceName: ledger, revision: "ABCDEF0123", decision: Approved, approver: ava}
"#,
            ),
            Refused(&["spec.revision", "should match"]),
        ),
        case(
            "an unquoted all-digit revision (a number)",
            APPROVER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-revision-number}
spec: {serviceName: ledger, revision: 1234567890, decision: Approved, approver: ava}
"#,
            ),
            Refused(&["spec.revision", "string"]),
        ),
        case(
            "a well-formed revision that is not the Service's",
            APPROVER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-revision-stale}
spec: {serviceName: ledger, revision: "0000000000", decision: Rejected, approver: ava}
"#,
            ),
            Verdict {
                approval: "h-revision-stale",
                reason: "StaleRevision",
            },
        ),
        // ---- Durations and dates ------------------------------------------------------
        case(
            "reviewInterval in words",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-interval-words}
spec: {owner: dana, lifecycle: {reviewInterval: 90 days}}
"#,
            ),
            Refused(&[
                "spec.lifecycle.reviewInterval",
                "whole number of hours, days or weeks",
            ]),
        ),
        case(
            "reviewInterval of zero days",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-interval-zero}
spec: {owner: dana, lifecycle: {reviewInterval: 0d}}
"#,
            ),
            Refused(&[
                "spec.lifecycle.reviewInterval",
                "whole number of hours, days or weeks",
            ]),
        ),
        case(
            "lastReviewed on 30 February",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-date-feb30}
spec: {owner: dana, lifecycle: {reviewInterval: 90d, lastReviewed: "2026-02-30"}}
"#,
            ),
            Refused(&["spec.lifecycle.lastReviewed", "real calendar date"]),
        ),
        case(
            "lastReviewed on 29 February of a common year",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-date-feb29}
spec: {owner: dana, lifecycle: {lastReviewed: "2025-02-29"}}
"#,
            ),
            Refused(&["spec.lifecycle.lastReviewed", "real calendar date"]),
        ),
        case(
            "lastReviewed in month 13",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-date-month13}
spec: {owner: dana, lifecycle: {lastReviewed: "2026-13-01"}}
"#,
            ),
            Refused(&["spec.lifecycle.lastReviewed", "real calendar date"]),
        ),
        case(
            "lastReviewed written day first",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-date-dayfirst}
spec: {owner: dana, lifecycle: {lastReviewed: "30/01/2026"}}
"#,
            ),
            Refused(&["spec.lifecycle.lastReviewed", "real calendar date"]),
        ),
        case(
            "an approval that expired before its revision reached quorum",
            APPROVER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-expired}
spec: {serviceName: waiting, revision: "{waiting}", decision: Approved, approver: ava, expiresAt: "2020-01-01T00:00:00Z"}
"#,
            ),
            Verdict {
                approval: "h-expired",
                reason: "Expired",
            },
        ),
        case(
            "an approval expiring \"next week\"",
            APPROVER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-expires-words}
spec: {serviceName: waiting, revision: "{waiting}", decision: Approved, approver: ava, expiresAt: next week}
"#,
            ),
            Refused(&["spec.expiresAt", "must be of type date-time"]),
        ),
        case(
            "a response target in words",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-target-words}
spec: {owner: dana, serviceLevel: {targets: [{priority: P1, response: 15 minutes}]}}
"#,
            ),
            Refused(&[
                "spec.serviceLevel.targets[0].response",
                "a whole number of minutes, hours or days",
            ]),
        ),
        case(
            "a priority past P5",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-target-p9}
spec: {owner: dana, serviceLevel: {targets: [{priority: P9, response: 15m}]}}
"#,
            ),
            Refused(&[
                "spec.serviceLevel.targets[0].priority",
                "P1 (the highest) to P5",
            ]),
        ),
        // ---- An approval is an audit record -------------------------------------------
        case(
            "the approver edits her approval's comment",
            APPROVER,
            Kubectl(&[
                "patch",
                "csa",
                "{approval}",
                "--type",
                "merge",
                "-p",
                r#"{"spec":{"comment":"changed my mind"}}"#,
            ]),
            Refused(&[
                "forbidden",
                r#"User "ava" cannot patch resource "serviceapprovals""#,
            ]),
        ),
        case(
            "an admin flips an approval's decision",
            ADMIN,
            Kubectl(&[
                "patch",
                "csa",
                "{approval}",
                "--type",
                "merge",
                "-p",
                r#"{"spec":{"decision":"Rejected"}}"#,
            ]),
            Refused(&["spec", "a ServiceApproval's spec is immutable"]),
        ),
        case(
            "an admin re-points an approval at another revision",
            ADMIN,
            Kubectl(&[
                "patch",
                "csa",
                "{approval}",
                "--type",
                "merge",
                "-p",
                r#"{"spec":{"revision":"0123456789"}}"#,
            ]),
            Refused(&["spec", "a ServiceApproval's spec is immutable"]),
        ),
        // ---- Duplicates and quorum ----------------------------------------------------
        case(
            "two categories with one name",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-dup-category}
spec: {owner: dana, categories: [{name: finance}, {name: finance, subcategories: [tax]}]}
"#,
            ),
            Refused(&["spec.categories", "category names must be unique"]),
        ),
        case(
            "one approver listed twice to fake a quorum of two",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-dup-approver}
spec: {owner: dana, approvers: [ava, ava], requiredApprovals: 2}
"#,
            ),
            Refused(&["spec.approvers[1]", "Duplicate value", "ava"]),
        ),
        case(
            "a quorum larger than the approver list",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-quorum-3-of-2}
spec: {owner: dana, approvers: [ava, bo], requiredApprovals: 3}
"#,
            ),
            Refused(&[
                "spec.requiredApprovals",
                "requiredApprovals cannot exceed the number of approvers",
            ]),
        ),
        case(
            "a quorum of zero",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-quorum-0}
spec: {owner: dana, requiredApprovals: 0}
"#,
            ),
            Refused(&[
                "spec.requiredApprovals",
                "should be greater than or equal to 1",
            ]),
        ),
        case(
            "a quorum of 33",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-quorum-33}
spec: {owner: dana, requiredApprovals: 33}
"#,
            ),
            Refused(&[
                "spec.requiredApprovals",
                "should be less than or equal to 32",
            ]),
        ),
        // ---- Dependencies -------------------------------------------------------------
        case(
            "a Service that depends on itself",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-self-dep}
spec: {owner: dana, model: {dependsOn: [{name: h-self-dep}]}}
"#,
            ),
            Refused(&["spec.model.dependsOn", "a Service cannot depend on itself"]),
        ),
        case(
            "a Service that depends on itself by namespace and name",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-self-dep-ns}
spec:
  owner: dana
  description: Depends on itself, spelled out
  serviceLevel: {availability: "99.9"}
  model: {dependsOn: [{namespace: default, name: h-self-dep-ns}]}
"#,
            ),
            Condition {
                service: "h-self-dep-ns",
                type_: "DependenciesReady",
                status: "False",
                reason: "DependencyCycle",
            },
        ),
        case(
            "two Services that depend on each other",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-cycle-a}
spec: {owner: dana, model: {dependsOn: [{name: h-cycle-b}]}}
---
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-cycle-b}
spec: {owner: dana, model: {dependsOn: [{name: h-cycle-a}]}}
"#,
            ),
            Condition {
                service: "h-cycle-a",
                type_: "DependenciesReady",
                status: "False",
                reason: "DependencyCycle",
            },
        ),
        case(
            "a dependency named with capitals and underscores",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-dep-bad-name}
spec: {owner: dana, model: {dependsOn: [{name: Billing_API}]}}
"#,
            ),
            Refused(&["spec.model.dependsOn[0].name", "should match"]),
        ),
        case(
            "65 dependencies",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-many-deps}
spec: {owner: dana, model: {dependsOn: {deps*65}}}
"#,
            ),
            Refused(&["spec.model.dependsOn", "Too many", "64"]),
        ),
        case(
            "a dependency on a Service that does not exist",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-dep-ghost}
spec: {owner: dana, model: {dependsOn: [{name: ghost}]}}
"#,
            ),
            Condition {
                service: "h-dep-ghost",
                type_: "DependenciesReady",
                status: "False",
                reason: "DependenciesNotReady",
            },
        ),
        // ---- Approvals that must not count, or not exist ------------------------------
        case(
            "an approval for a Service that does not exist",
            APPROVER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-approve-ghost}
spec: {serviceName: ghost, revision: "{rev}", decision: Approved, approver: ava}
"#,
            ),
            Verdict {
                approval: "h-approve-ghost",
                reason: "UnknownService",
            },
        ),
        case(
            "the owner deletes a Service that an approval names",
            OWNER,
            Kubectl(&["delete", "csvc", "doomed"]),
            Verdict {
                approval: "doomed-ava",
                reason: "UnknownService",
            },
        ),
        case(
            "an approval naming a Service that cannot exist",
            APPROVER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-approve-bad-name}
spec: {serviceName: "Ledger!", revision: "{rev}", decision: Approved, approver: ava}
"#,
            ),
            Refused(&["spec.serviceName", "should match"]),
        ),
        case(
            "another user approves in the approver's name",
            OTHER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-forged-approver}
spec: {serviceName: ledger, revision: "{rev}", decision: Rejected, approver: ava}
"#,
            ),
            Refused(&[
                "spec.approver must be the requesting user: bo may not record a decision in the name of ava",
            ]),
        ),
        case(
            "the approver's name in other letter case",
            APPROVER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-forged-case}
spec: {serviceName: ledger, revision: "{rev}", decision: Approved, approver: Ava}
"#,
            ),
            Refused(&[
                "spec.approver must be the requesting user: ava may not record a decision in the name of Ava",
            ]),
        ),
        case(
            "the owner approves her own Service",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-self-approval}
spec: {serviceName: ledger, revision: "{rev}", decision: Approved, approver: dana}
"#,
            ),
            Verdict {
                approval: "h-self-approval",
                reason: "SelfApproval",
            },
        ),
        case(
            "a user outside the approver list rejects",
            OTHER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: h-not-an-approver}
spec: {serviceName: ledger, revision: "{rev}", decision: Rejected, approver: bo}
"#,
            ),
            Verdict {
                approval: "h-not-an-approver",
                reason: "ApproverNotAllowed",
            },
        ),
        // ---- Status forgery -----------------------------------------------------------
        case(
            "the owner patches her Service's status",
            OWNER,
            Kubectl(&[
                "patch",
                "csvc",
                "ledger",
                "--subresource=status",
                "--type",
                "merge",
                "-p",
                r#"{"status":{"phase":"Active","approvedRevision":"0000000000"}}"#,
            ]),
            Refused(&[r#"User "dana" cannot patch resource "services/status""#]),
        ),
        case(
            "an admin patches a Service's status",
            ADMIN,
            Kubectl(&[
                "patch",
                "csvc",
                "ledger",
                "--subresource=status",
                "--type",
                "merge",
                "-p",
                r#"{"status":{"phase":"Active","approvedRevision":"0000000000"}}"#,
            ]),
            Refused(&["only the Charter operator writes status; admin may not"]),
        ),
        case(
            "an admin makes an approval count",
            ADMIN,
            Kubectl(&[
                "patch",
                "csa",
                "{approval}",
                "--subresource=status",
                "--type",
                "merge",
                "-p",
                r#"{"status":{"counted":true,"reason":"Counted","message":"forged"}}"#,
            ]),
            Refused(&["only the Charter operator writes status; admin may not"]),
        ),
        case(
            "a manifest that carries its own Active status",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-status-forged}
spec: {owner: dana, description: Claims to be approved}
status: {phase: Active, approvedRevision: "0000000000", publishedRevision: "0000000000"}
"#,
            ),
            Condition {
                service: "h-status-forged",
                type_: "Published",
                status: "False",
                reason: "NotPublished",
            },
        ),
        // ---- Names and keys past their limits -----------------------------------------
        case(
            "a name of 254 characters",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: "{x*254}"}
spec: {owner: dana}
"#,
            ),
            Refused(&["metadata.name", "must be no more than 253 characters"]),
        ),
        case(
            "a name too long for its catalog key",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: "{x*185}"}
spec: {owner: dana}
"#,
            ),
            Refused(&["metadata.name", "at most 184 characters"]),
        ),
        case(
            "a name in capitals",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: Ledger}
spec: {owner: dana}
"#,
            ),
            Refused(&["metadata.name", "lowercase RFC 1123 subdomain"]),
        ),
        case(
            "a name with an accented letter",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: lédger}
spec: {owner: dana}
"#,
            ),
            Refused(&["metadata.name", "lowercase RFC 1123 subdomain"]),
        ),
        case(
            "a namespace that does not exist",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-nowhere, namespace: nowhere}
spec: {owner: dana}
"#,
            ),
            Refused(&[r#"namespaces "nowhere" not found"#]),
        ),
        case(
            "an approval name of 254 characters",
            APPROVER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: ServiceApproval
metadata: {name: "{x*254}"}
spec: {serviceName: ledger, revision: "{rev}", decision: Approved, approver: ava}
"#,
            ),
            Refused(&["metadata.name", "must be no more than 253 characters"]),
        ),
        case(
            "a label key of 64 characters",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-label-key, labels: {"{x*64}": "a"}}
spec: {owner: dana}
"#,
            ),
            Refused(&["metadata.labels", "name part must be no more than 63 bytes"]),
        ),
        case(
            "a label value of 64 characters",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-label-value, labels: {team: "{x*64}"}}
spec: {owner: dana}
"#,
            ),
            Refused(&["metadata.labels", "must be no more than 63 bytes"]),
        ),
        case(
            "an annotation key with a space",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-annotation-key, annotations: {"cost centre": "42"}}
spec: {owner: dana}
"#,
            ),
            Refused(&[
                "metadata.annotations",
                "name part must consist of alphanumeric characters",
            ]),
        ),
        case(
            "annotations past 256 KiB",
            OWNER,
            Create(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-annotation-size, annotations: {notes: "{x*262145}"}}
spec: {owner: dana}
"#,
            ),
            Refused(&["metadata.annotations", "Too long", "262144"]),
        ),
        // ---- Who created a Service ----------------------------------------------------
        case(
            "a Service created with a forged creator",
            OTHER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: h-creator-forged, annotations: {catalog.charter.dev/created-by: admin}}
spec: {owner: bo}
"#,
            ),
            Annotation {
                service: "h-creator-forged",
                key: CREATED_BY,
                value: "bo",
            },
        ),
        case(
            "the owner rewrites who created her Service",
            OWNER,
            Kubectl(&[
                "annotate",
                "csvc",
                "ledger",
                "--overwrite",
                "catalog.charter.dev/created-by=ava",
            ]),
            Refused(&[
                "metadata.annotations[catalog.charter.dev/created-by] records who created the Service",
            ]),
        ),
        case(
            "the owner removes who created her Service",
            OWNER,
            Kubectl(&[
                "annotate",
                "csvc",
                "ledger",
                "catalog.charter.dev/created-by-",
            ]),
            Refused(&[
                "metadata.annotations[catalog.charter.dev/created-by] records who created the Service",
            ]),
        ),
        case(
            "an admin rewrites who created a Service",
            ADMIN,
            Kubectl(&[
                "annotate",
                "csvc",
                "ledger",
                "--overwrite",
                "catalog.charter.dev/created-by=admin",
            ]),
            Refused(&[
                "metadata.annotations[catalog.charter.dev/created-by] records who created the Service",
            ]),
        ),
        // ---- Well-formed at the limits: accepted, approved and published ---------------
        case(
            "a description of exactly 4,096 characters",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: ok-long-description}
spec:
  owner: dana
  approvers: [ava]
  description: "{x*4096}"
  serviceLevel: {availability: "99.9"}
  categories: [{name: finance}]
  lifecycle: {desiredPhase: Active}
"#,
            ),
            Published("ok-long-description"),
        ),
        case(
            "32 approvers and a review on a leap day",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: ok-many-approvers}
spec:
  owner: dana
  approvers: {list*32}
  description: Reviewed on 29 February
  serviceLevel: {availability: "100", targets: [{priority: P1, response: 15m, resolution: 4h}]}
  categories: [{name: finance, subcategories: [tax, payroll]}, {name: Finance}]
  lifecycle: {desiredPhase: Active, reviewInterval: 52w, lastReviewed: "2024-02-29"}
"#,
            ),
            Published("ok-many-approvers"),
        ),
        case(
            "a name of 184 characters, the longest a catalog key allows",
            OWNER,
            Apply(
                r#"
apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: "{x*184}"}
spec:
  owner: dana
  approvers: [ava]
  description: Long-named
  serviceLevel: {availability: "99"}
  categories: [{name: finance}]
  lifecycle: {desiredPhase: Active}
"#,
            ),
            Published("{x*184}"),
        ),
    ]
}

/// What the placeholders of the module comment stand for in this run.
struct Vars {
    rev: String,
    approval: String,
    waiting: String,
}

/// Expands the placeholders described in the module comment.
fn expand(text: &str, vars: &Vars) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let token = rest[1..]
            .find('}')
            .map(|end| &rest[1..=end])
            .filter(|t| !t.contains(['{', ' ', ':', ',']));
        let replacement = match token.map(|t| (t, t.split_once('*'))) {
            Some((_, Some((what, n)))) => {
                let n: usize = n.parse().expect("{what*N} repeats N times");
                match what {
                    "list" => format!(
                        "[ava, {}]",
                        (1..n)
                            .map(|i| format!("u{i}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    "deps" => format!(
                        "[{}]",
                        (0..n)
                            .map(|i| format!("{{name: d{i}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    c => c.repeat(n),
                }
            }
            Some(("rev", None)) => vars.rev.clone(),
            Some(("approval", None)) => vars.approval.clone(),
            Some(("waiting", None)) => vars.waiting.clone(),
            _ => {
                out.push('{');
                rest = &rest[1..];
                continue;
            }
        };
        out.push_str(&replacement);
        rest = &rest[token.map_or(0, str::len) + 2..];
    }
    out.push_str(rest);
    out
}

on_both_grounds!(async hostile_manifests_are_refused_naming_the_field_and_nothing_leaks_into_the_catalog);
async fn hostile_manifests_are_refused_naming_the_field_and_nothing_leaks_into_the_catalog(
    ground: Ground,
) {
    let started = Instant::now();
    let fx = Fixture::start_on(&ground, false).await;
    let Some(kubectl) = kubectl::Kubectl::for_users(&fx.server, &[OWNER, APPROVER, OTHER, ADMIN])
    else {
        fx.shutdown().await;
        return;
    };

    // A well-formed, approved, published Service that the hostile inputs aim at.
    fx.create(service("ledger")).await;
    let rev = fx.revision_in_approval("ledger").await;
    let ava = fx.client(APPROVER).await;
    let approval = approve(&ava, "ledger", &rev, APPROVER).await;
    fx.wait_for_phase("ledger", Phase::Active).await;
    // A Service with a counted approval, for its owner to delete.
    fx.create(service("doomed")).await;
    let doomed = fx.revision_in_approval("doomed").await;
    let approvals: kube::Api<ServiceApproval> = kube::Api::namespaced(ava.clone(), NAMESPACE);
    let spec = ServiceApprovalSpec {
        service_name: "doomed".into(),
        revision: doomed,
        decision: Decision::Approved,
        approver: APPROVER.into(),
        comment: None,
        expires_at: None,
    };
    approvals
        .create(
            &Default::default(),
            &ServiceApproval::new("doomed-ava", spec),
        )
        .await
        .expect("ava approves doomed");
    assert_eq!(
        fx.approval_verdict("doomed-ava").await,
        (true, "Counted".into())
    );
    // A Service waiting for a quorum of two.
    fx.create(service("waiting").approvers(&[APPROVER, OTHER]).quorum(2))
        .await;
    let waiting = fx.revision_in_approval("waiting").await;
    let vars = Vars {
        rev: rev.clone(),
        approval,
        waiting,
    };

    let cases = cases();
    let total = cases.len();
    let mut failures = Vec::new();
    let mut published = vec!["ledger".to_string()];
    // Refusals and acceptances are independent: a few kubectl processes at a time.
    let outcomes: Vec<(String, Result<Option<String>, String>)> = stream::iter(cases)
        .map(|case| {
            let (fx, kubectl, vars) = (&fx, &kubectl, &vars);
            async move { (case.name.to_string(), run(fx, kubectl, vars, case).await) }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    for (name, outcome) in outcomes {
        match outcome {
            Ok(Some(service)) => published.push(service),
            Ok(None) => {}
            Err(why) => failures.push(format!("- {name}: {why}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} hostile inputs were not answered as they should be:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Nothing published that should not be, nothing lost: the catalog holds exactly the
    // well-formed Services, each at its approved revision.
    published.sort();
    let expected: Vec<String> = published
        .iter()
        .map(|name| charter::catalog::key_of(NAMESPACE, name))
        .collect();
    let catalog = eventually(
        "the catalog to hold exactly the well-formed Services",
        || async {
            let data = fx.catalog().await?;
            let mut keys: Vec<String> = data.keys().filter(|k| k.contains('_')).cloned().collect();
            keys.sort();
            (keys == expected).then_some(data)
        },
    )
    .await;
    for (key, value) in &catalog {
        assert!(
            key.len() <= 253
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
            "{key} is a valid ConfigMap key"
        );
        if key.contains('_') {
            let entry: serde_json::Value = serde_json::from_str(value).expect("entry is JSON");
            let name = entry["service"]["name"]
                .as_str()
                .expect("entry names its Service");
            let status = fx
                .status_of(name)
                .await
                .expect("a published Service has a status");
            assert_eq!(
                entry["provenance"]["revision"].as_str(),
                status.approved_revision.as_deref(),
                "{key} serves the approved revision"
            );
        }
    }
    let ledger = fx.status_of("ledger").await.expect("ledger has a status");
    assert_eq!(ledger.phase, Some(Phase::Active), "ledger is still Active");
    assert_eq!(ledger.approved_revision.as_deref(), Some(rev.as_str()));

    println!(
        "{total} hostile inputs answered as expected on {ground:?} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    fx.shutdown().await;
}

/// Runs one case; on success, the Service it published (if any).
async fn run(
    fx: &Fixture,
    kubectl: &kubectl::Kubectl,
    vars: &Vars,
    case: Case,
) -> Result<Option<String>, String> {
    let file_name = format!(
        "{}.yaml",
        case.name.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    let args: Vec<String> = match &case.send {
        Apply(yaml) | Create(yaml) => {
            let verb = if matches!(case.send, Apply(_)) {
                "apply"
            } else {
                "create"
            };
            let path = kubectl.file(&file_name, &expand(yaml, vars));
            vec![
                verb.into(),
                "-f".into(),
                path.to_string_lossy().into_owned(),
            ]
        }
        Kubectl(args) => args.iter().map(|a| expand(a, vars)).collect(),
    };
    // A manifest that names its namespace is sent as is, as `kubectl apply -f` would be.
    let names_namespace = matches!(case.send, Apply(y) | Create(y) if y.contains("namespace:"));
    let mut full = match names_namespace {
        true => vec![],
        false => vec!["-n".to_string(), NAMESPACE.to_string()],
    };
    full.extend(args);
    let argv: Vec<&str> = full.iter().map(String::as_str).collect();
    let out = kubectl.run(case.user, &argv).await;
    let printed = format!("{}{}", out.stdout, out.stderr);
    if let Refused(needles) = case.expect {
        if out.ok {
            return Err(format!("accepted; kubectl printed: {printed}"));
        }
        let missing: Vec<&&str> = needles.iter().filter(|n| !printed.contains(**n)).collect();
        return if missing.is_empty() {
            Ok(None)
        } else {
            Err(format!(
                "refused without {missing:?}; kubectl printed: {printed}"
            ))
        };
    }
    if !out.ok {
        return Err(format!("refused; kubectl printed: {printed}"));
    }
    match case.expect {
        Refused(_) => unreachable!("answered above"),
        Published(name) => {
            let name = expand(name, vars);
            let revision = within(&format!("{name} to wait in Approval"), || async {
                let status = fx.status_of(&name).await?;
                (status.phase == Some(Phase::Approval)).then_some(status.revision?)
            })
            .await?;
            approve(&fx.client(APPROVER).await, &name, &revision, APPROVER).await;
            within(&format!("{name} to be Active"), || async {
                (fx.phase_of(&name).await? == Phase::Active).then_some(())
            })
            .await?;
            Ok(Some(name))
        }
        Condition {
            service,
            type_,
            status,
            reason,
        } => {
            let want = (status.to_string(), reason.to_string());
            within(&format!("{service} {type_}={status} {reason}"), || async {
                let s = fx.status_of(service).await?;
                testkit::condition(&s, type_).filter(|c| *c == want)
            })
            .await?;
            match fx.phase_of(service).await {
                Some(Phase::Active) => Err(format!("{service} is Active despite {type_}")),
                _ => Ok(None),
            }
        }
        Verdict { approval, reason } => {
            let counted = within(&format!("{approval} to be {reason}"), || async {
                let status = fx.approvals().get(approval).await.ok()?.status?;
                (status.reason == reason).then_some(status.counted)
            })
            .await?;
            match counted {
                true => Err(format!("{approval} counts although it is {reason}")),
                false => Ok(None),
            }
        }
        Annotation {
            service,
            key,
            value,
        } => {
            let found = fx
                .services()
                .get(service)
                .await
                .map_err(|e| e.to_string())?;
            let annotations = found.metadata.annotations.unwrap_or_default();
            match annotations.get(key) {
                Some(v) if v == value => Ok(None),
                other => Err(format!("{key} is {other:?}, not {value:?}")),
            }
        }
    }
}

/// Polls `probe` until it yields a value; an error naming `what` past the deadline.
async fn within<T, F, Fut>(what: &str, mut probe: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + testkit::DEADLINE;
    loop {
        if let Some(value) = probe().await {
            return Ok(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A ConfigMap holds at most 1 MiB of data (keys and values together).
const CONFIGMAP_MAX: usize = 1024 * 1024;

/// The largest Service the CRD admits, every string at its maximum length in the character that
/// costs the most in the catalog's JSON (a control character, escaped as `\u0001`: 6 bytes), and
/// `tag` making its strings differ from another such Service's.
fn largest_service(name: &str, tag: usize) -> charter::api::Service {
    use charter::api::{
        Category, Contact, Link, PriorityTarget, Request, ServiceContent, ServiceLevel,
        ServiceModel, ServiceRef, ServiceSpec, Support, Tier,
    };
    let s = |n: usize, i: usize| format!("{}{tag:03}{i:03}", "\u{1}".repeat(n - 6));
    let content = ServiceContent {
        display_name: Some(s(128, 0)),
        description: Some(s(4096, 0)),
        owner: "dana".into(),
        approvers: std::iter::once("ava".to_string())
            .chain((1..32).map(|i| s(253, i)))
            .collect(),
        required_approvals: Some(1),
        support: Some(Support {
            channel: s(512, 0),
            hours: Some(s(128, 0)),
        }),
        request: Some(Request {
            url: Some(format!("https://{}", s(2048 - 8, 0))),
            instructions: Some(s(4096, 0)),
        }),
        service_level: Some(ServiceLevel {
            availability: Some("100.0000".into()),
            support_hours: Some(s(64, 0)),
            targets: (1..=8)
                .map(|p| PriorityTarget {
                    priority: format!("P{}", 1 + p % 5),
                    response: "99999m".into(),
                    resolution: Some("99999d".into()),
                })
                .collect(),
            agreement_url: Some(s(2048, 0)),
        }),
        model: Some(ServiceModel {
            outcomes: (0..32).map(|i| s(512, i)).collect(),
            depends_on: (0..64)
                .map(|i| ServiceRef {
                    namespace: Some(format!("{}{i:03}", "n".repeat(60))),
                    name: format!("{}{i:03}", "d".repeat(250)),
                })
                .collect(),
        }),
        links: (0..16)
            .map(|i| Link {
                name: s(63, i),
                // A link is an http or https address.
                url: format!("https://{}", s(1024 - 8, i)),
            })
            .collect(),
        tier: Some(Tier::Critical),
        tags: (0..32).map(|i| s(63, i)).collect(),
    };
    let mut spec = ServiceSpec {
        lifecycle: Default::default(),
        // The owner's, outside the revision: in the catalog entry, not in the snapshot.
        categories: (0..32)
            .map(|i| Category {
                name: s(63, i),
                subcategories: (0..32).map(|j| s(63, 100 + j)).collect(),
            })
            .collect(),
        contact: Some(Contact {
            team: s(128, 0),
            email: Some(format!("{}@example.com", "e".repeat(254 - 12))),
            chat: Some(s(256, 0)),
        }),
        content,
    };
    spec.lifecycle.desired_phase = charter::api::DesiredPhase::Active;
    spec.lifecycle.review_interval = Some("99999w".into());
    spec.lifecycle.last_reviewed = Some("2024-02-29".into());
    charter::api::Service::new(name, spec)
}

/// The bytes a ConfigMap's data costs: keys and values.
fn data_bytes(data: &std::collections::BTreeMap<String, String>) -> usize {
    data.iter().map(|(k, v)| k.len() + v.len()).sum()
}

on_both_grounds!(async the_largest_services_the_crd_admits_fit_the_catalog_which_shards_past_a_mebibyte);
async fn the_largest_services_the_crd_admits_fit_the_catalog_which_shards_past_a_mebibyte(
    ground: Ground,
) {
    use charter::api::{Phase, ServiceStatus, Snapshot};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use kube::{Api, api::PostParams};

    let started = Instant::now();
    let fx = Fixture::start_on(&ground, false).await;
    let api: Api<charter::api::Service> = Api::namespaced(fx.admin.clone(), NAMESPACE);

    // The CRD admits the largest Service (so it is a real bound)...
    let largest = largest_service("largest", 0);
    api.create(&PostParams::default(), &largest)
        .await
        .expect("the largest Service the schema allows is admitted");
    // ...and not one string more: a 17th link is refused, naming the field.
    let mut larger = largest_service("larger", 1);
    larger
        .spec
        .content
        .links
        .push(larger.spec.content.links[0].clone());
    let refused = api
        .create(&PostParams::default(), &larger)
        .await
        .expect_err("17 links are refused");
    assert!(refused.to_string().contains("spec.links"), "{refused}");

    // Published, as the operator would publish them: ten such Services alone make a catalog of
    // several MiB, which shards, and every ConfigMap (and every single entry) stays within 1 MiB.
    let activated: Vec<charter::api::Service> = (0..10)
        .map(|i| {
            let mut s = largest_service(&format!("largest-{i}"), i);
            s.metadata.namespace = Some(NAMESPACE.into());
            let now = Time(k8s_openapi::jiff::Timestamp::now());
            s.status = Some(ServiceStatus {
                phase: Some(Phase::Active),
                revision: Some(charter::api::revision_of(&s.spec.content)),
                snapshot: Some(Snapshot {
                    revision: charter::api::revision_of(&s.spec.content),
                    approved_by: vec!["ava".into()],
                    approved_at: now.clone(),
                    content: s.spec.content.clone(),
                    revised_by: None,
                    policies: Vec::new(),
                }),
                activated_at: Some(now.clone()),
                review_due_at: Some(now),
                ..Default::default()
            });
            s
        })
        .collect();
    let entry_bytes = charter::catalog::entry(&activated[0])
        .map(|e| e.key.len() + e.value.len())
        .expect("an Active Service with a snapshot has an entry");
    assert!(
        entry_bytes <= charter::catalog::MAX_BYTES,
        "the largest entry ({entry_bytes} bytes) fits a catalog shard ({} bytes)",
        charter::catalog::MAX_BYTES
    );
    // etcd's default request limit: the Service with its snapshot must still be writable.
    let object_bytes = serde_json::to_vec(&activated[0])
        .expect("a Service serialises")
        .len();
    assert!(
        object_bytes <= 1536 * 1024,
        "the largest Service with its snapshot ({object_bytes} bytes) fits etcd's 1.5 MiB"
    );
    eprintln!(
        "largest Service: entry {entry_bytes} bytes, object with snapshot {object_bytes} bytes"
    );
    let shards = charter::catalog::compute(
        testkit::CATALOG_NAME,
        activated.iter(),
        charter::catalog::MAX_BYTES,
    );
    let total: usize = shards.iter().map(|(_, data)| data_bytes(data)).sum();
    assert!(
        total > 4 * CONFIGMAP_MAX,
        "the catalog is several MiB: {total}"
    );
    assert!(shards.len() > 1, "a catalog past 1 MiB is sharded");
    for (name, data) in &shards {
        assert!(
            data_bytes(data) <= CONFIGMAP_MAX,
            "{name} holds {} bytes",
            data_bytes(data)
        );
    }
    let published = shards
        .iter()
        .flat_map(|(_, d)| d.keys())
        .filter(|k| *k != charter::catalog::INDEX_KEY && *k != charter::catalog::SERVICES_KEY)
        .count();
    assert_eq!(published, activated.len(), "every entry is in one shard");

    // The same through the operator: four Services almost as large (without dependencies, so
    // they can activate), approved, make a catalog past 2 MiB that the server holds in shards.
    let mut names = Vec::new();
    for i in 0..4 {
        let name = format!("large-{i}");
        let mut s = largest_service(&name, 20 + i);
        if let Some(model) = s.spec.content.model.as_mut() {
            model.depends_on.clear();
        }
        api.create(&PostParams::default(), &s)
            .await
            .expect("a large Service is admitted");
        names.push(name);
    }
    let ava = fx.client(APPROVER).await;
    for name in &names {
        let revision = fx.revision_in_approval(name).await;
        approve(&ava, name, &revision, APPROVER).await;
    }
    for name in &names {
        fx.wait_for_phase(name, Phase::Active).await;
    }
    let expected: Vec<String> = names
        .iter()
        .map(|n| charter::catalog::key_of(NAMESPACE, n))
        .collect();
    let selector = format!("{}={}", charter::catalog::LABEL, testkit::CATALOG_NAME);
    let served = eventually(
        "the catalog to hold the four large Services, settled",
        || async {
            let maps = fx
                .configmaps()
                .list(&kube::api::ListParams::default().labels(&selector))
                .await
                .ok()?
                .items;
            let mut keys: Vec<String> = maps
                .iter()
                .flat_map(|cm| cm.data.iter().flatten().map(|(k, _)| k.clone()))
                .filter(|k| k.contains('_'))
                .collect();
            keys.sort();
            // Settled: exactly the shards the index lists, no stale one left from an earlier layout.
            let index = maps
                .iter()
                .find(|cm| cm.metadata.name.as_deref() == Some(testkit::CATALOG_NAME))?
                .data
                .as_ref()?
                .get(charter::catalog::INDEX_KEY)?;
            let index: serde_json::Value = serde_json::from_str(index).ok()?;
            let mut listed: Vec<&str> = index["shards"]
                .as_array()?
                .iter()
                .filter_map(|v| v.as_str())
                .collect();
            let mut present: Vec<&str> = maps
                .iter()
                .filter_map(|cm| cm.metadata.name.as_deref())
                .collect();
            listed.sort();
            present.sort();
            (keys == expected && listed == present).then_some(maps.clone())
        },
    )
    .await;
    assert!(served.len() > 1, "a catalog past 1 MiB is sharded");
    let served_total: usize = served
        .iter()
        .map(|cm| data_bytes(&cm.data.clone().unwrap_or_default()))
        .sum();
    assert!(served_total > 2 * CONFIGMAP_MAX, "{served_total} bytes");
    for cm in &served {
        let bytes = data_bytes(&cm.data.clone().unwrap_or_default());
        assert!(
            bytes <= CONFIGMAP_MAX,
            "{:?} holds {bytes} bytes",
            cm.metadata.name
        );
    }
    println!(
        "largest entry {entry_bytes} bytes, object {object_bytes} bytes; {} shards for {total} bytes; \
         served: {} ConfigMaps for {served_total} bytes; {:.1} s",
        shards.len(),
        served.len(),
        started.elapsed().as_secs_f64()
    );
    fx.shutdown().await;
}

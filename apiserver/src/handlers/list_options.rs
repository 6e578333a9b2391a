//! The list and watch query parameters as kube-apiserver reads them: decoded into
//! ListOptions (a number that is not one is a 400 with Go's `strconv.ParseInt` text), then
//! `ValidateListOptions` for a list (422 `ListOptions.meta.k8s.io "" is invalid`).

use crate::error::{ApiError, Cause};
use crate::request::RequestContext;
use std::num::IntErrorKind;

/// The integer parameters of ListOptions, in its field order (the first bad one answers).
const INTEGERS: [&str; 2] = ["timeoutSeconds", "limit"];

/// Decode the query as the parameter codec does, and validate it for a list (`watch`
/// false) as `ValidateListOptions` does.
pub fn check(ctx: &RequestContext, watch: bool) -> Result<(), ApiError> {
    for name in INTEGERS {
        if let Some(v) = ctx.param(name) {
            parse_int64(v)?;
        }
    }
    if watch {
        return Ok(());
    }
    let causes = list_causes(ctx);
    if causes.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(
        "ListOptions",
        "meta.k8s.io",
        "ListOptions",
        "",
        causes,
    ))
}

/// Go's `strconv.ParseInt(s, 10, 64)`, with its error text.
fn parse_int64(s: &str) -> Result<i64, ApiError> {
    s.parse::<i64>().map_err(|e| {
        let why = match e.kind() {
            IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => "value out of range",
            _ => "invalid syntax",
        };
        ApiError::bad_request(format!("strconv.ParseInt: parsing \"{s}\": {why}"))
    })
}

fn forbidden(field: &str, message: &str) -> Cause {
    Cause {
        reason: "FieldValueForbidden".into(),
        message: format!("Forbidden: {message}"),
        field: field.into(),
    }
}

/// `ValidateListOptions` for a list (not a watch).
fn list_causes(ctx: &RequestContext) -> Vec<Cause> {
    let get = |k: &str| ctx.param(k).unwrap_or_default();
    let (rv, matching) = (get("resourceVersion"), get("resourceVersionMatch"));
    let mut causes = Vec::new();
    if !matching.is_empty() {
        if rv.is_empty() {
            causes.push(forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            ));
        }
        if !get("continue").is_empty() {
            causes.push(forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden when continue is provided",
            ));
        }
        if matching != "Exact" && matching != "NotOlderThan" {
            causes.push(Cause {
                reason: "FieldValueNotSupported".into(),
                message: format!(
                    "Unsupported value: \"{matching}\": supported values: \"Exact\", \"NotOlderThan\", \"\""
                ),
                field: "resourceVersionMatch".into(),
            });
        }
        if matching == "Exact" && rv == "0" {
            causes.push(forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
            ));
        }
    }
    if ctx.param("sendInitialEvents").is_some() {
        causes.push(forbidden(
            "sendInitialEvents",
            "sendInitialEvents is forbidden for list",
        ));
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_fail_with_go_parse_int_texts() {
        assert_eq!(parse_int64("-1").unwrap(), -1);
        assert_eq!(
            parse_int64("abc").unwrap_err().message,
            "strconv.ParseInt: parsing \"abc\": invalid syntax"
        );
        assert_eq!(
            parse_int64("99999999999999999999").unwrap_err().message,
            "strconv.ParseInt: parsing \"99999999999999999999\": value out of range"
        );
    }
}

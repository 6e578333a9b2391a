//! Dependency cycles: a Service that (transitively) depends on itself can never activate,
//! and the owner should be told so rather than wait forever.

use crate::api::ServiceRef;
use std::collections::BTreeSet;

/// The first cycle through `start`, as the path `start → … → start`; `None` when there is
/// none. `depends_on` gives each Service's dependencies (namespaces filled in).
pub fn find_cycle(
    start: &ServiceRef,
    depends_on: impl Fn(&ServiceRef) -> Vec<ServiceRef>,
) -> Option<Vec<ServiceRef>> {
    let mut visited = BTreeSet::new();
    let mut stack: Vec<(ServiceRef, Vec<ServiceRef>)> = vec![(start.clone(), vec![start.clone()])];
    while let Some((node, path)) = stack.pop() {
        for next in depends_on(&node) {
            if &next == start {
                let mut cycle = path.clone();
                cycle.push(next);
                return Some(cycle);
            }
            if visited.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next, longer));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(name: &str) -> ServiceRef {
        ServiceRef {
            namespace: Some("ns".into()),
            name: name.into(),
        }
    }

    fn graph(edges: &[(&str, &str)]) -> impl Fn(&ServiceRef) -> Vec<ServiceRef> {
        let edges: Vec<(ServiceRef, ServiceRef)> =
            edges.iter().map(|(a, b)| (r(a), r(b))).collect();
        move |from| {
            edges
                .iter()
                .filter(|(a, _)| a == from)
                .map(|(_, b)| b.clone())
                .collect()
        }
    }

    #[test]
    fn a_cycle_through_the_service_is_found_with_its_path() {
        let cycle = find_cycle(&r("a"), graph(&[("a", "b"), ("b", "c"), ("c", "a")]));
        assert_eq!(cycle, Some(vec![r("a"), r("b"), r("c"), r("a")]));
    }

    #[test]
    fn a_chain_or_a_cycle_elsewhere_is_not_a_cycle_through_the_service() {
        assert_eq!(find_cycle(&r("a"), graph(&[("a", "b"), ("b", "c")])), None);
        assert_eq!(
            find_cycle(&r("a"), graph(&[("a", "b"), ("b", "c"), ("c", "b")])),
            None
        );
    }
}

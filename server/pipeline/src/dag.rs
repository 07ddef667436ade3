//! Graphs of named nodes joined by `needs:` (a pipeline's steps, a plan's tasks), checked one
//! way (petgraph): an order that respects every edge, or what is wrong with the graph — a need
//! that names no node, or a cycle, walked for a readable message.

use petgraph::algo::toposort;
use petgraph::graphmap::DiGraphMap;

/// What is wrong with a graph, by node index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DagError {
    /// Node `node` needs `need`, which no node is called.
    Missing { node: usize, need: String },
    /// The nodes form a cycle: each needs the one after it, and the last is the first.
    Cycle(Vec<usize>),
}

impl DagError {
    /// The node the error is written at.
    pub fn node(&self) -> usize {
        match self {
            DagError::Missing { node, .. } => *node,
            DagError::Cycle(path) => path[0],
        }
    }

    /// The error in words: `what` names a node ("step"), `of` the whole ("this pipeline").
    pub fn message(&self, ids: &[&str], what: &str, of: &str) -> String {
        match self {
            DagError::Missing { node, need } => {
                format!("{what} `{}` needs `{need}`, which is not a {what} of {of}", ids[*node])
            }
            DagError::Cycle(path) => {
                let names: Vec<&str> = path.iter().map(|&i| ids[i]).collect();
                format!("the {what}s form a cycle: {}", names.join(" ← "))
            }
        }
    }
}

/// An order of `ids` in which every node comes after the nodes it `needs` (by id), as close to
/// the written order as that allows; or every missing need and the cycle, if any.
pub fn order(ids: &[&str], needs: &[&[String]]) -> Result<Vec<usize>, Vec<DagError>> {
    let mut errors = Vec::new();
    // The graph: an edge from each needed node to the node that needs it.
    let mut graph: DiGraphMap<usize, ()> = DiGraphMap::new();
    for i in 0..ids.len() {
        graph.add_node(i);
    }
    let index = |name: &str| ids.iter().position(|o| *o == name);
    for (i, ns) in needs.iter().enumerate() {
        for n in ns.iter() {
            match index(n) {
                Some(j) => {
                    graph.add_edge(j, i, ());
                }
                None => errors.push(DagError::Missing { node: i, need: n.clone() }),
            }
        }
    }
    match toposort(&graph, None) {
        Ok(_) if errors.is_empty() => Ok(stable_order(&graph, ids.len())),
        Ok(_) => Err(errors),
        Err(cycle) => {
            let at = cycle.node_id();
            // Walk the cycle: from `at`, always to a need that leads back to `at`.
            let mut path = vec![at];
            let mut cur = at;
            for _ in 0..ids.len() {
                let next = needs[cur].iter().filter_map(|n| index(n)).find(|&j| reaches(&graph, at, j));
                match next {
                    Some(j) if j == at => break,
                    Some(j) => {
                        path.push(j);
                        cur = j;
                    }
                    None => break,
                }
            }
            path.push(at);
            errors.push(DagError::Cycle(path));
            Err(errors)
        }
    }
}

/// The order closest to the written one: each time, the first node (as written) whose needs
/// are all placed. The graph has no cycle.
fn stable_order(graph: &DiGraphMap<usize, ()>, n: usize) -> Vec<usize> {
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let next = (0..n)
            .find(|&i| !placed[i] && graph.neighbors_directed(i, petgraph::Direction::Incoming).all(|j| placed[j]))
            .expect("a graph without a cycle always has a next node");
        placed[next] = true;
        order.push(next);
    }
    order
}

fn reaches(graph: &DiGraphMap<usize, ()>, target: usize, from: usize) -> bool {
    let mut stack = vec![from];
    let mut seen = std::collections::HashSet::new();
    while let Some(n) = stack.pop() {
        if n == target {
            return true;
        }
        if seen.insert(n) {
            stack.extend(graph.neighbors(n));
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(n: &[&[&str]]) -> Vec<Vec<String>> {
        n.iter().map(|v| v.iter().map(|s| s.to_string()).collect()).collect()
    }

    #[test]
    fn an_order_respects_every_need() {
        let n = needs(&[&["b"], &[], &["a", "b"]]);
        let refs: Vec<&[String]> = n.iter().map(Vec::as_slice).collect();
        assert_eq!(order(&["a", "b", "c"], &refs).unwrap(), [1, 0, 2]);
        // Nodes free to go anywhere keep the written order.
        let n = needs(&[&[], &["a"], &[], &[]]);
        let refs: Vec<&[String]> = n.iter().map(Vec::as_slice).collect();
        assert_eq!(order(&["a", "b", "c", "d"], &refs).unwrap(), [0, 1, 2, 3]);
    }

    #[test]
    fn a_cycle_and_a_missing_need_are_named() {
        let ids = ["summary", "outline", "draft", "polish"];
        let n = needs(&[&["polish"], &["summary"], &["outline", "ghost"], &["draft"]]);
        let refs: Vec<&[String]> = n.iter().map(Vec::as_slice).collect();
        let errors = order(&ids, &refs).unwrap_err();
        let messages: Vec<String> = errors.iter().map(|e| e.message(&ids, "task", "this plan")).collect();
        assert!(messages.contains(&"task `draft` needs `ghost`, which is not a task of this plan".to_string()));
        let cycle = messages.iter().find(|m| m.starts_with("the tasks form a cycle: ")).expect("a cycle");
        // Every task of the loop, once, and back to the first.
        for id in ids {
            assert!(cycle.contains(id), "{cycle}");
        }
        let names: Vec<&str> = cycle["the tasks form a cycle: ".len()..].split(" ← ").collect();
        assert_eq!(names.len(), 5, "{cycle}");
        assert_eq!(names.first(), names.last());
    }
}

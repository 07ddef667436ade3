//! The story's reading order: scenes in structure order (season → arc → act → chapter → scene),
//! each scene's position on every timeline, its structure chain and the previous scene.
//!
//! A scene's position is its frontmatter `timeline:`; a scene without one inherits the position
//! of the scene before it in reading order (so a scene between `main: 4` and `main: 6` is at 4).

use std::cmp::Ordering;

use rustc_hash::FxHashMap;

use crate::analysis::Analysis;
use crate::bucket::Positions;
use crate::kind::structure_level;

#[derive(Debug, Clone)]
pub struct Story {
    /// Scene indices (into `Analysis::scenes`) in reading order.
    pub order: Vec<usize>,
    /// For each scene, its index in `order`.
    pub rank: Vec<usize>,
    /// For each scene, its position on each timeline (explicit or inherited).
    pub positions: Vec<Positions>,
}

impl Story {
    pub fn new(analysis: &Analysis) -> Story {
        let buckets = &analysis.buckets;
        // Children of each container: structure buckets and scenes.
        let mut child_buckets: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
        let mut child_scenes: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
        let mut roots: Vec<usize> = Vec::new();
        for (i, b) in buckets.iter().enumerate() {
            let Some(level) = structure_level(&b.bucket.kind.value) else { continue };
            let parent = b.bucket.parent.as_ref().map(|p| p.value.as_str());
            let parent_ok = parent
                .and_then(|p| analysis.bucket(p))
                .is_some_and(|p| structure_level(&p.bucket.kind.value).is_some_and(|pl| pl < level));
            match (parent, parent_ok) {
                (Some(p), true) => child_buckets.entry(p).or_default().push(i),
                _ => roots.push(i),
            }
        }
        let mut orphans = Vec::new();
        for (i, s) in analysis.scenes.iter().enumerate() {
            match s.scene.parent.as_ref().filter(|p| analysis.bucket(&p.value).is_some()) {
                Some(p) => child_scenes.entry(p.value.as_str()).or_default().push(i),
                None => orphans.push(i),
            }
        }
        let bucket_key =
            |&i: &usize| (structure_level(&buckets[i].bucket.kind.value), buckets[i].bucket.id.value.clone());
        roots.sort_by(|a, b| {
            let (la, ia) = bucket_key(a);
            let (lb, ib) = bucket_key(b);
            la.cmp(&lb).then_with(|| natural_cmp(&ia, &ib))
        });
        let scene_cmp = |a: &usize, b: &usize| {
            let pa = main_position(&analysis.scenes[*a].scene.timeline);
            let pb = main_position(&analysis.scenes[*b].scene.timeline);
            let fa = &analysis.files[analysis.scenes[*a].file].path;
            let fb = &analysis.files[analysis.scenes[*b].file].path;
            match (pa, pb) {
                (Some(x), Some(y)) if x != y => x.cmp(&y),
                _ => natural_cmp(fa, fb),
            }
        };
        for list in child_scenes.values_mut() {
            list.sort_by(scene_cmp);
        }
        for list in child_buckets.values_mut() {
            list.sort_by(|a, b| natural_cmp(&buckets[*a].bucket.id.value, &buckets[*b].bucket.id.value));
        }
        orphans.sort_by(scene_cmp);

        let mut order = Vec::with_capacity(analysis.scenes.len());
        let mut visited = vec![false; buckets.len()];
        fn walk(
            i: usize,
            analysis: &Analysis,
            child_buckets: &FxHashMap<&str, Vec<usize>>,
            child_scenes: &FxHashMap<&str, Vec<usize>>,
            visited: &mut [bool],
            order: &mut Vec<usize>,
        ) {
            if std::mem::replace(&mut visited[i], true) {
                return;
            }
            let id = analysis.buckets[i].bucket.id.value.as_str();
            if let Some(scenes) = child_scenes.get(id) {
                order.extend(scenes.iter().copied());
            }
            if let Some(kids) = child_buckets.get(id) {
                for &k in kids {
                    walk(k, analysis, child_buckets, child_scenes, visited, order);
                }
            }
        }
        for &r in &roots {
            walk(r, analysis, &child_buckets, &child_scenes, &mut visited, &mut order);
        }
        // Scenes whose parent is not a structure node (or is unknown) come last.
        let mut placed = vec![false; analysis.scenes.len()];
        for &s in &order {
            placed[s] = true;
        }
        let mut rest: Vec<usize> = (0..analysis.scenes.len()).filter(|s| !placed[*s]).collect();
        rest.sort_by(scene_cmp);
        order.extend(rest);

        let mut rank = vec![0; analysis.scenes.len()];
        for (r, &s) in order.iter().enumerate() {
            rank[s] = r;
        }
        let mut positions = vec![Vec::new(); analysis.scenes.len()];
        let mut current: Positions = Vec::new();
        for &s in &order {
            for (t, p) in &analysis.scenes[s].scene.timeline {
                match current.iter_mut().find(|(ct, _)| ct == t) {
                    Some(slot) => slot.1 = *p,
                    None => current.push((t.clone(), *p)),
                }
            }
            positions[s] = current.clone();
        }
        Story { order, rank, positions }
    }

    /// The scene before `scene` in reading order.
    pub fn previous(&self, scene: usize) -> Option<usize> {
        let r = self.rank[scene];
        (r > 0).then(|| self.order[r - 1])
    }

    /// The structure chain above a scene, innermost first (chapter, act, arc, season), as
    /// bucket indices.
    pub fn chain(&self, analysis: &Analysis, scene: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut next = analysis.scenes[scene].scene.parent.as_ref().map(|p| p.value.clone());
        while let Some(id) = next {
            let Some(&i) = analysis.by_id.get(&id) else { break };
            let i = i as usize;
            if out.contains(&i) || structure_level(&analysis.buckets[i].bucket.kind.value).is_none() {
                break;
            }
            out.push(i);
            next = analysis.buckets[i].bucket.parent.as_ref().map(|p| p.value.clone());
        }
        out
    }
}

fn main_position(p: &Positions) -> Option<i64> {
    p.iter().find(|(t, _)| t == "main").map(|(_, v)| *v)
}

/// Whether a progression (or entry) at `at` applies at position `pos`: some timeline they share
/// has `at <= pos`.
pub fn reached(at: &Positions, pos: &Positions) -> bool {
    at.iter().any(|(t, a)| pos.iter().any(|(pt, p)| pt == t && a <= p))
}

/// Compares strings with digit runs as numbers: `ch2` < `ch10`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let mut ai = a.chars().peekable();
    let mut bi = b.chars().peekable();
    loop {
        match (ai.peek().copied(), bi.peek().copied()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na: String = std::iter::from_fn(|| ai.next_if(|c| c.is_ascii_digit())).collect();
                let nb: String = std::iter::from_fn(|| bi.next_if(|c| c.is_ascii_digit())).collect();
                let (ta, tb) = (na.trim_start_matches('0'), nb.trim_start_matches('0'));
                let ord = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                ai.next();
                bi.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut v = vec!["ch10", "ch2", "ch01", "ch1a", "scene-003", "scene-20"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, vec!["ch01", "ch1a", "ch2", "ch10", "scene-003", "scene-20"]);
    }

    #[test]
    fn reached_compares_shared_timelines() {
        let at = vec![("main".to_string(), 9)];
        assert!(reached(&at, &vec![("main".to_string(), 9)]));
        assert!(!reached(&at, &vec![("main".to_string(), 8)]));
        assert!(!reached(&at, &vec![("alt".to_string(), 20)]));
    }
}

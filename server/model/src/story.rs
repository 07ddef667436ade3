//! The story's reading order: scenes in structure order (season → arc → act → chapter → scene),
//! each scene's position on every timeline, its structure chain and the previous scene.
//!
//! A scene's position is its frontmatter `timeline:`; a scene without one inherits the position
//! of the scene before it in reading order (so a scene between `main: 4` and `main: 6` is at 4).

use std::cmp::Ordering;

use rustc_hash::FxHashMap;

use crate::bucket::{Bucket, Positions};
use crate::kind::structure_level;
use crate::scene::Scene;

/// What reading order needs of a project: its buckets and scenes by index, the path of each
/// scene's file, and which bucket an id names. The analysis implements it (and computes its scene
/// positions with [`Story`]), so this module depends only on buckets, scenes and kinds.
pub trait StoryParts {
    fn bucket_count(&self) -> usize;
    fn bucket_at(&self, i: usize) -> &Bucket;
    /// The index of the bucket with this id (the first one, for a duplicate id).
    fn bucket_index(&self, id: &str) -> Option<usize>;
    fn scene_count(&self) -> usize;
    fn scene_at(&self, i: usize) -> &Scene;
    /// The path of the scene's file, relative to the project root.
    fn scene_path(&self, i: usize) -> &str;
}

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
    pub fn new<P: StoryParts + ?Sized>(parts: &P) -> Story {
        let n_buckets = parts.bucket_count();
        let n_scenes = parts.scene_count();
        // Children of each container: structure buckets and scenes.
        let mut child_buckets: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
        let mut child_scenes: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
        let mut roots: Vec<usize> = Vec::new();
        for i in 0..n_buckets {
            let b = parts.bucket_at(i);
            let Some(level) = structure_level(&b.kind.value) else { continue };
            let parent = b.parent.as_ref().map(|p| p.value.as_str());
            let parent_ok = parent
                .and_then(|p| parts.bucket_index(p))
                .is_some_and(|p| structure_level(&parts.bucket_at(p).kind.value).is_some_and(|pl| pl < level));
            match (parent, parent_ok) {
                (Some(p), true) => child_buckets.entry(p).or_default().push(i),
                _ => roots.push(i),
            }
        }
        let mut orphans = Vec::new();
        for i in 0..n_scenes {
            match parts.scene_at(i).parent.as_ref().filter(|p| parts.bucket_index(&p.value).is_some()) {
                Some(p) => child_scenes.entry(p.value.as_str()).or_default().push(i),
                None => orphans.push(i),
            }
        }
        let id_of = |i: usize| parts.bucket_at(i).id.value.as_str();
        let bucket_key = |&i: &usize| (structure_level(&parts.bucket_at(i).kind.value), id_of(i));
        roots.sort_by(|a, b| {
            let (la, ia) = bucket_key(a);
            let (lb, ib) = bucket_key(b);
            la.cmp(&lb).then_with(|| natural_cmp(ia, ib))
        });
        let scene_cmp = |a: &usize, b: &usize| {
            let pa = main_position(&parts.scene_at(*a).timeline);
            let pb = main_position(&parts.scene_at(*b).timeline);
            match (pa, pb) {
                (Some(x), Some(y)) if x != y => x.cmp(&y),
                _ => natural_cmp(parts.scene_path(*a), parts.scene_path(*b)),
            }
        };
        for list in child_scenes.values_mut() {
            list.sort_by(scene_cmp);
        }
        for list in child_buckets.values_mut() {
            list.sort_by(|a, b| natural_cmp(id_of(*a), id_of(*b)));
        }
        orphans.sort_by(scene_cmp);

        let mut order = Vec::with_capacity(n_scenes);
        let mut visited = vec![false; n_buckets];
        fn walk<P: StoryParts + ?Sized>(
            i: usize,
            parts: &P,
            child_buckets: &FxHashMap<&str, Vec<usize>>,
            child_scenes: &FxHashMap<&str, Vec<usize>>,
            visited: &mut [bool],
            order: &mut Vec<usize>,
        ) {
            if std::mem::replace(&mut visited[i], true) {
                return;
            }
            let id = parts.bucket_at(i).id.value.as_str();
            if let Some(scenes) = child_scenes.get(id) {
                order.extend(scenes.iter().copied());
            }
            if let Some(kids) = child_buckets.get(id) {
                for &k in kids {
                    walk(k, parts, child_buckets, child_scenes, visited, order);
                }
            }
        }
        for &r in &roots {
            walk(r, parts, &child_buckets, &child_scenes, &mut visited, &mut order);
        }
        // Scenes whose parent is not a structure node (or is unknown) come last.
        let mut placed = vec![false; n_scenes];
        for &s in &order {
            placed[s] = true;
        }
        let mut rest: Vec<usize> = (0..n_scenes).filter(|s| !placed[*s]).collect();
        rest.sort_by(scene_cmp);
        order.extend(rest);

        let mut rank = vec![0; n_scenes];
        for (r, &s) in order.iter().enumerate() {
            rank[s] = r;
        }
        let mut positions = vec![Vec::new(); n_scenes];
        let mut current: Positions = Vec::new();
        for &s in &order {
            for (t, p) in &parts.scene_at(s).timeline {
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
    pub fn chain<P: StoryParts + ?Sized>(&self, parts: &P, scene: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut next = parts.scene_at(scene).parent.as_ref().map(|p| p.value.as_str());
        while let Some(id) = next {
            let Some(i) = parts.bucket_index(id) else { break };
            let bucket = parts.bucket_at(i);
            if out.contains(&i) || structure_level(&bucket.kind.value).is_none() {
                break;
            }
            out.push(i);
            next = bucket.parent.as_ref().map(|p| p.value.as_str());
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

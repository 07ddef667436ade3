//! Bucket and scene ids: what a valid id is, how a default id is derived, and "did you mean".
//!
//! Ids become file names when Showrunner creates buckets, so an id is a slug: Unicode letters and
//! digits, `-` and `_`, nothing that could climb out of a folder (`/`, `\`, `..`, a leading dot).

/// Longest id accepted, in bytes.
pub const MAX_ID_LEN: usize = 128;

pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        && !id.starts_with('-')
}

/// A valid id made from any text: lowercase, runs of other characters become `-`.
/// Returns `None` when nothing usable is left (e.g. `../..`).
pub fn slugify(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.len() > MAX_ID_LEN {
        let mut cut = MAX_ID_LEN;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    (!out.is_empty()).then_some(out)
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

/// Levenshtein distance over Unicode scalar values.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_name_paths() {
        for bad in ["../../etc/passwd", "a/b", "a\\b", "..", ".hidden", "", "-x", "a b", "C:"] {
            assert!(!is_valid_id(bad), "{bad}");
        }
        for good in ["alice", "chapter-01", "李雷", "zoë_2"] {
            assert!(is_valid_id(good), "{good}");
        }
        assert_eq!(slugify("../../etc/passwd").as_deref(), Some("etc-passwd"));
        assert_eq!(slugify("Zoë Ångström").as_deref(), Some("zoë-ångström"));
        assert_eq!(slugify("../.."), None);
    }

    #[test]
    fn closest_suggests_typos_only() {
        let ids = ["chapter-01", "chapter-02", "alice"];
        assert_eq!(closest("chaptr-01", ids), Some("chapter-01"));
        assert_eq!(closest("alicia", ids), Some("alice"));
        assert_eq!(closest("bob", ids), None);
    }
}

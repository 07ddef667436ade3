//! Renaming a bucket's name or alias across the project: the bucket file's scalar (quoted the
//! way YAML needs) and every mention written with that alias (following its case). Pure: the
//! edits are byte ranges of the analysis's texts; an edge turns them into its protocol's edits.

use std::ops::Range;

use crate::analysis::Analysis;

/// One replacement in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameEdit {
    /// Index into `Analysis::files`.
    pub file: usize,
    pub range: Range<usize>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenameError {
    #[error("put the cursor on a mention, or on a name or alias in a bucket file")]
    NoTarget,
    #[error("the new name must be one line of text")]
    NotOneLine,
    #[error("`{new}` is already a name or alias of `{owner}`; pick another name")]
    Taken { new: String, owner: String },
}

/// A YAML scalar for `value`: plain when that is safe, else double-quoted.
pub fn yaml_scalar(value: &str, was_quoted: bool) -> String {
    let plain = !was_quoted
        && value.chars().next().is_some_and(char::is_alphanumeric)
        && value.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '\'' | '’' | '.'))
        && !matches!(value.to_lowercase().as_str(), "true" | "false" | "null" | "yes" | "no" | "on" | "off");
    if plain {
        value.to_string()
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Follows the case of what was written: `ALICE` → `ALICIA`, `The keeper` → `The warden`.
pub fn match_case(written: &str, alias: &str, new: &str) -> String {
    if written == alias {
        return new.to_string();
    }
    if written.chars().any(char::is_alphabetic) && !written.chars().any(char::is_lowercase) {
        return new.to_uppercase();
    }
    let cap = |s: &str| s.chars().next().is_some_and(char::is_uppercase);
    if cap(written) && !cap(alias) {
        let mut c = new.chars();
        return c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default();
    }
    new.to_string()
}

/// The edits that rename `old` (a name or alias of bucket `bucket`) to `new`: in the bucket's
/// file and in every scene that mentions it by that alias. Refused when `new` is not one line
/// or is another bucket's name already.
pub fn plan_rename(a: &Analysis, bucket: usize, old: &str, new: &str) -> Result<Vec<RenameEdit>, RenameError> {
    let new = new.trim();
    if new.is_empty() || new.contains(['\n', '\r']) {
        return Err(RenameError::NotOneLine);
    }
    for (i, other) in a.buckets.iter().enumerate() {
        for n in other.bucket.names() {
            if n.value.to_lowercase() == new.to_lowercase() && !(i == bucket && n.value == old) {
                return Err(RenameError::Taken { new: new.to_string(), owner: other.bucket.id.value.clone() });
            }
        }
    }
    let mut edits = Vec::new();
    let entry = &a.buckets[bucket];
    let text = a.text(entry.file);
    for n in entry.bucket.names().filter(|n| n.value == old) {
        let quoted = text[n.range.clone()].starts_with(['"', '\'']);
        edits.push(RenameEdit { file: entry.file, range: n.range.clone(), text: yaml_scalar(new, quoted) });
    }
    for s in &a.scenes {
        let text = a.text(s.file);
        for m in s.mentions.iter().filter(|m| m.bucket as usize == bucket && a.dictionary.entry(m.alias).alias == old) {
            edits.push(RenameEdit { file: s.file, range: m.range(), text: match_case(&text[m.range()], old, new) });
        }
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_scalars_and_case() {
        assert_eq!(yaml_scalar("Alicia", false), "Alicia");
        assert_eq!(yaml_scalar("Alicia", true), "\"Alicia\"");
        assert_eq!(yaml_scalar("a: b", false), "\"a: b\"");
        assert_eq!(yaml_scalar("yes", false), "\"yes\"");
        assert_eq!(match_case("ALICE", "Alice", "Alicia"), "ALICIA");
        assert_eq!(match_case("The keeper", "the keeper", "the warden"), "The warden");
        assert_eq!(match_case("Alice", "Alice", "Zoë"), "Zoë");
    }
}

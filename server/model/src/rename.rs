//! Renaming a bucket's name or alias across the project: the bucket file's scalar (quoted the
//! way YAML needs), every mention written with that alias (following its case), and every
//! whole-word occurrence of it in the free text of bucket files (`summary`, `body`,
//! `description`, progressions' summaries, text attributes, any key of the writer's own), so the
//! AI is never given the old name again. Pure: the edits are byte ranges of the analysis's
//! texts; an edge turns them into its protocol's edits.

use std::ops::Range;

use crate::analysis::Analysis;
use crate::yaml::{Node, Value};

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
    for (i, other) in a.buckets.iter().enumerate() {
        bucket_prose_edits(a, bucket, old, new, other.file, i == bucket, &mut edits);
    }
    Ok(edits)
}

/// Top-level bucket keys whose values are not prose: identifiers, the names themselves (renamed
/// above), labels, sources and settings.
const NOT_PROSE: &[&str] = &[
    "id",
    "kind",
    "name",
    "aliases",
    "parent",
    "tags",
    "sources",
    "context_window",
    "timeline_positions",
    "model_preference",
    "version",
];

/// Renames whole-word occurrences of `old` (linked to `bucket` as the matcher links mentions:
/// same word boundaries, same case rule, the longest name wins) in the free-text values of the
/// bucket file `file`. An alias that several buckets share is renamed only in the renamed
/// bucket's own file.
fn bucket_prose_edits(
    a: &Analysis,
    bucket: usize,
    old: &str,
    new: &str,
    file: usize,
    own: bool,
    out: &mut Vec<RenameEdit>,
) {
    let text = a.text(file);
    if text.is_empty() {
        return;
    }
    let Some(root) = crate::yaml::parse(text).root else { return };
    let Some(entries) = root.as_map() else { return };
    let links = |alias: u32| {
        let e = a.dictionary.entry(alias);
        e.alias == old && e.targets.contains(&(bucket as u32)) && (own || e.targets.len() == 1)
    };
    let mut scalars = Vec::new();
    for (k, v) in entries {
        let key = k.scalar_text().unwrap_or_default();
        if !NOT_PROSE.contains(&key.as_str()) {
            prose_scalars(v, &mut scalars);
        }
    }
    for node in scalars {
        let Some(value) = node.as_str() else { continue };
        // A bucket id is a reference, not prose.
        if a.by_id.contains_key(value) {
            continue;
        }
        let src = &text[node.span.clone()];
        let found: Vec<_> = a.dictionary.find(src).into_iter().filter(|m| links(m.entry)).collect();
        if found.is_empty() {
            continue;
        }
        let replaced = |m: &crate::matcher::Match| match_case(&src[m.range()], old, new);
        match src.chars().next() {
            Some('"') => out.extend(found.iter().map(|m| RenameEdit {
                file,
                range: node.span.start + m.start..node.span.start + m.end,
                text: replaced(m).replace('\\', "\\\\").replace('"', "\\\""),
            })),
            Some('\'') => out.extend(found.iter().map(|m| RenameEdit {
                file,
                range: node.span.start + m.start..node.span.start + m.end,
                text: replaced(m).replace('\'', "''"),
            })),
            // A block scalar (`|`, `>`) takes any one-line text.
            Some('|' | '>') => out.extend(found.iter().map(|m| RenameEdit {
                file,
                range: node.span.start + m.start..node.span.start + m.end,
                text: replaced(m),
            })),
            _ => {
                let plain = |t: &str| yaml_scalar(t, false) == t;
                let whole = found.len() == 1 && found[0].range() == (0..src.len());
                if whole {
                    let t = replaced(&found[0]);
                    out.push(RenameEdit { file, range: node.span.clone(), text: yaml_scalar(&t, false) });
                } else if found.iter().all(|m| plain(&replaced(m))) {
                    out.extend(found.iter().map(|m| RenameEdit {
                        file,
                        range: node.span.start + m.start..node.span.start + m.end,
                        text: replaced(m),
                    }));
                } else {
                    // The new name cannot sit in a plain scalar: the whole value, double-quoted.
                    let in_value: Vec<_> = a.dictionary.find(value).into_iter().filter(|m| links(m.entry)).collect();
                    let mut next = String::with_capacity(value.len() + new.len());
                    let mut at = 0;
                    for m in &in_value {
                        next.push_str(&value[at..m.start]);
                        next.push_str(&match_case(&value[m.range()], old, new));
                        at = m.end;
                    }
                    next.push_str(&value[at..]);
                    out.push(RenameEdit { file, range: node.span.clone(), text: yaml_scalar(&next, true) });
                }
            }
        }
    }
}

/// The string scalars of a bucket value that hold prose: every one, but the ids and positions of
/// relations (`type`, `target`) and progressions (`at`), and no mapping keys.
fn prose_scalars<'n>(node: &'n Node, out: &mut Vec<&'n Node>) {
    match &node.value {
        Value::Str(_) => out.push(node),
        Value::Seq(items) => items.iter().for_each(|n| prose_scalars(n, out)),
        Value::Map(entries) => {
            for (k, v) in entries {
                if !matches!(k.as_str(), Some("type" | "target" | "at")) {
                    prose_scalars(v, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze, Content, FileKind, SourceFile};

    fn bucket_file(path: &str, text: &str) -> SourceFile {
        SourceFile { path: path.into(), kind: FileKind::Bucket, content: Content::Text(text.into()) }
    }

    /// Applies a file's edits to its text.
    fn applied(a: &Analysis, edits: &[RenameEdit], file: usize) -> String {
        let mut text = a.text(file).to_string();
        let mut mine: Vec<&RenameEdit> = edits.iter().filter(|e| e.file == file).collect();
        mine.sort_by_key(|e| std::cmp::Reverse(e.range.start));
        for e in mine {
            text.replace_range(e.range.clone(), &e.text);
        }
        text
    }

    #[test]
    fn bucket_prose_follows_a_rename() {
        let zoe = "kind: character\nname: Zoë Ångström\naliases: [Zoë]\nsummary: Zoë keeps the light; Zoë's brother drowned.\n\
                   body: |\n  Everyone calls her Zoë.\n  Zoëtrope is not her.\nnickname: Zoë\n\
                   progressions:\n  - { at: { main: 3 }, summary: \"Zoë leaves\" }\n";
        let tom = "kind: character\nname: Tom\nsummary: 'Tom trusts Zoë, not Zoë Ångström''s father.'\n\
                   description: Zoë, the keeper\nrelations:\n  - { type: knows, target: zoe }\n";
        let a = analyze("t", vec![bucket_file("buckets/zoe.yaml", zoe), bucket_file("buckets/tom.yaml", tom)]);
        let b = a.buckets.iter().position(|b| b.bucket.id.value == "zoe").unwrap();
        let edits = plan_rename(&a, b, "Zoë", "Łucja").unwrap();
        let zf = a.buckets[b].file;
        let tf = a.buckets.iter().find(|b| b.bucket.id.value == "tom").unwrap().file;
        let z = applied(&a, &edits, zf);
        assert!(z.contains("aliases: [Łucja]"), "{z}");
        assert!(z.contains("summary: Łucja keeps the light; Łucja's brother drowned."), "{z}");
        assert!(z.contains("Everyone calls her Łucja.\n  Zoëtrope is not her."), "{z}");
        assert!(z.contains("nickname: Łucja\n"), "{z}");
        assert!(z.contains("summary: \"Łucja leaves\""), "{z}");
        assert!(z.contains("name: Zoë Ångström"), "the longer name is not the renamed alias: {z}");
        let t = applied(&a, &edits, tf);
        assert!(t.contains("'Tom trusts Łucja, not Zoë Ångström''s father.'"), "{t}");
        assert!(t.contains("description: Łucja, the keeper"), "{t}");
        assert!(t.contains("target: zoe"), "{t}");
        // Still YAML, with the new values.
        let again = analyze("t", vec![bucket_file("buckets/zoe.yaml", &z), bucket_file("buckets/tom.yaml", &t)]);
        let tb = again.buckets.iter().find(|b| b.bucket.id.value == "tom").unwrap();
        assert_eq!(tb.bucket.summary.as_deref(), Some("Tom trusts Łucja, not Zoë Ångström's father."));
    }

    #[test]
    fn a_new_name_a_plain_scalar_cannot_hold_is_quoted() {
        let zoe = "kind: character\nname: Zoë\nsummary: Zoë keeps the light.\n";
        let a = analyze("t", vec![bucket_file("buckets/zoe.yaml", zoe)]);
        let edits = plan_rename(&a, 0, "Zoë", "Zoë: the keeper").unwrap();
        let z = applied(&a, &edits, 0);
        assert!(z.contains("summary: \"Zoë: the keeper keeps the light.\""), "{z}");
        let again = analyze("t", vec![bucket_file("buckets/zoe.yaml", &z)]);
        assert_eq!(again.buckets[0].bucket.summary.as_deref(), Some("Zoë: the keeper keeps the light."));
    }

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

//! Bucket kinds, the story structure levels, and attribute schemas.
//!
//! Built-in kinds come from spec 1.2; a project adds its own under `kinds:` in
//! `showrunner.yaml`. Each kind may declare attribute types; attributes not declared are free
//! (entity–attribute–value), declared ones are checked (SR013).

use std::collections::BTreeMap;

/// The built-in kinds, in the order the spec lists them.
pub const BUILTIN_KINDS: &[&str] =
    &["character", "location", "item", "faction", "research", "note", "season", "arc", "act", "chapter"];

/// Structure levels, outermost first: `project > season > arc > act > chapter > scene`.
pub const STRUCTURE_LEVELS: &[&str] = &["season", "arc", "act", "chapter", "scene"];

/// The depth of a structure kind (season = 1 … scene = 5), `None` for other kinds.
pub fn structure_level(kind: &str) -> Option<u8> {
    STRUCTURE_LEVELS.iter().position(|k| *k == kind).map(|i| i as u8 + 1)
}

/// The type an attribute must have.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrType {
    Text,
    Number,
    Integer,
    Boolean,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    Date,
    /// The id of another bucket.
    Ref,
    /// A list of any values.
    List,
    /// A list of bucket ids.
    RefList,
    /// One of a fixed set of values.
    OneOf(Vec<String>),
}

impl AttrType {
    /// Parses a type as written in `showrunner.yaml` (`number`, `ref`, `[a, b]` …).
    pub fn parse(name: &str) -> Option<AttrType> {
        Some(match name.trim() {
            "string" | "text" => AttrType::Text,
            "number" | "float" => AttrType::Number,
            "integer" | "int" => AttrType::Integer,
            "bool" | "boolean" => AttrType::Boolean,
            "date" => AttrType::Date,
            "ref" => AttrType::Ref,
            "list" => AttrType::List,
            "refs" | "ref[]" | "list<ref>" => AttrType::RefList,
            _ => return None,
        })
    }

    pub fn describe(&self) -> String {
        match self {
            AttrType::Text => "text".into(),
            AttrType::Number => "a number".into(),
            AttrType::Integer => "a whole number".into(),
            AttrType::Boolean => "true or false".into(),
            AttrType::Date => "a date (YYYY, YYYY-MM or YYYY-MM-DD)".into(),
            AttrType::Ref => "a bucket id".into(),
            AttrType::List => "a list".into(),
            AttrType::RefList => "a list of bucket ids".into(),
            AttrType::OneOf(v) => format!("one of {}", v.join(", ")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct KindSchema {
    pub attributes: BTreeMap<String, AttrType>,
}

/// Every kind a project knows, built-in and custom.
#[derive(Debug, Clone, PartialEq)]
pub struct Kinds {
    kinds: BTreeMap<String, KindSchema>,
}

impl Default for Kinds {
    fn default() -> Self {
        let mut kinds: BTreeMap<String, KindSchema> =
            BUILTIN_KINDS.iter().map(|k| (k.to_string(), KindSchema::default())).collect();
        let character = kinds.get_mut("character").expect("built in");
        character.attributes.insert("age".into(), AttrType::Number);
        character.attributes.insert("status".into(), AttrType::Text);
        Kinds { kinds }
    }
}

impl Kinds {
    /// Adds or extends a kind; custom attributes override built-in ones of the same name.
    pub fn define(&mut self, name: &str, schema: KindSchema) {
        let entry = self.kinds.entry(name.to_string()).or_default();
        entry.attributes.extend(schema.attributes);
    }

    pub fn get(&self, name: &str) -> Option<&KindSchema> {
        self.kinds.get(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.kinds.contains_key(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.kinds.keys().map(String::as_str)
    }
}

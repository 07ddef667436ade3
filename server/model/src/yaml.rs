//! A YAML tree that remembers where everything is.
//!
//! Buckets, frontmatter and `showrunner.yaml` are parsed into [`Node`]s that carry byte ranges,
//! so diagnostics, go-to-definition and completion can point at the exact key or value. Parsing
//! never fails: a syntax error yields the part of the tree read so far plus a [`YamlError`] at
//! the parser's position.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use crate::text::TextRange;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: TextRange,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A syntax error (or a structural one such as a duplicate key) at a byte offset.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub range: TextRange,
    pub message: String,
}

/// The result of parsing: the first document (if any content was read) and every error.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub root: Option<Node>,
    pub errors: Vec<YamlError>,
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar rendered as text (numbers and booleans too), as a writer would read it.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Looks up a key of a mapping; `None` for other nodes.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// Looks up a key of a mapping and returns the key node too (for its position).
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(k, v)| (k, v))
    }

    /// What kind of YAML value this is, for messages ("expected a list, found a number").
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "text",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// Converts to JSON (for attributes and payloads). Keys are rendered as text.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map(J::Number).unwrap_or(J::Null),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => {
                J::Object(entries.iter().map(|(k, v)| (k.scalar_text().unwrap_or_default(), v.to_json())).collect())
            }
        }
    }
}

/// Parses `text` (one YAML document; later documents are reported and ignored).
pub fn parse(text: &str) -> Parsed {
    let offsets = CharOffsets::new(text);
    let mut builder = Builder { stack: Vec::new(), anchors: HashMap::new(), root: None, errors: Vec::new() };
    let mut parser = Parser::new_from_str(text);
    let mut documents = 0;
    while let Some(next) = parser.next_event() {
        match next {
            Ok((event, span)) => {
                let range = offsets.range(span);
                match event {
                    Event::StreamEnd => break,
                    Event::DocumentStart(_) => {
                        documents += 1;
                        if documents > 1 {
                            builder.errors.push(YamlError {
                                range,
                                message: "only one YAML document is read; the rest is ignored".into(),
                            });
                            break;
                        }
                    }
                    other => builder.event(other, range),
                }
            }
            Err(err) => {
                let m = err.marker();
                let at = offsets.at(m.index());
                let end = next_char_end(text, at);
                builder.errors.push(YamlError { range: at..end, message: err.info().to_string() });
                builder.close_all(at);
                break;
            }
        }
    }
    Parsed { root: builder.root, errors: builder.errors }
}

fn next_char_end(text: &str, at: usize) -> usize {
    text[at..].chars().next().map(|c| at + c.len_utf8()).unwrap_or(at)
}

/// Converts the parser's character indices to byte offsets.
struct CharOffsets {
    /// `None` when the text is ASCII and indices are already byte offsets.
    map: Option<Vec<usize>>,
    len: usize,
}

impl CharOffsets {
    fn new(text: &str) -> CharOffsets {
        let map = if text.is_ascii() {
            None
        } else {
            let mut v: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            v.push(text.len());
            Some(v)
        };
        CharOffsets { map, len: text.len() }
    }

    fn at(&self, char_index: usize) -> usize {
        match &self.map {
            None => char_index.min(self.len),
            Some(m) => m.get(char_index).copied().unwrap_or(self.len),
        }
    }

    fn range(&self, span: Span) -> TextRange {
        let start = self.at(span.start.index());
        let end = self.at(span.end.index()).max(start);
        start..end
    }
}

enum Frame {
    Seq { items: Vec<Node>, start: usize, anchor: usize },
    Map { entries: Vec<(Node, Node)>, key: Option<Node>, start: usize, anchor: usize },
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    errors: Vec<YamlError>,
}

impl Builder {
    fn event(&mut self, event: Event<'_>, range: TextRange) {
        match event {
            Event::Scalar(value, style, anchor, _tag) => {
                let node = Node { value: scalar_value(&value, style), span: range };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push(node);
            }
            Event::Alias(id) => {
                let node = match self.anchors.get(&id) {
                    Some(n) => Node { value: n.value.clone(), span: range },
                    None => {
                        self.errors.push(YamlError { range: range.clone(), message: "unknown alias".into() });
                        Node { value: Value::Null, span: range }
                    }
                };
                self.push(node);
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push(Frame::Seq { items: Vec::new(), start: range.start, anchor })
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push(Frame::Map { entries: Vec::new(), key: None, start: range.start, anchor })
            }
            Event::SequenceEnd | Event::MappingEnd => self.close_one(range.end),
            _ => {}
        }
    }

    fn close_one(&mut self, end: usize) {
        let Some(frame) = self.stack.pop() else { return };
        let (node, anchor) = match frame {
            Frame::Seq { items, start, anchor } => {
                let end = items.last().map(|n| n.span.end).unwrap_or(end).max(end).max(start);
                (Node { value: Value::Seq(items), span: start..end }, anchor)
            }
            Frame::Map { mut entries, key, start, anchor } => {
                if let Some(key) = key {
                    let at = key.span.end;
                    entries.push((key, Node { value: Value::Null, span: at..at }));
                }
                let end = entries.last().map(|(_, v)| v.span.end).unwrap_or(end).max(end).max(start);
                (Node { value: Value::Map(entries), span: start..end }, anchor)
            }
        };
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.push(node);
    }

    /// Closes every open collection after an error, keeping what was read.
    fn close_all(&mut self, at: usize) {
        while !self.stack.is_empty() {
            self.close_one(at);
        }
    }

    fn push(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    if let Some(name) = k.scalar_text() {
                        if entries.iter().any(|(e, _)| e.scalar_text().as_deref() == Some(name.as_str())) {
                            self.errors
                                .push(YamlError { range: k.span.clone(), message: format!("duplicate key `{name}`") });
                        }
                    }
                    entries.push((k, node));
                }
            },
        }
    }
}

fn scalar_value(raw: &str, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::Str(raw.to_string());
    }
    match raw {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let first = raw.as_bytes()[0];
    if first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.' {
        if let Ok(i) = raw.parse::<i64>() {
            return Value::Int(i);
        }
        if let Some(hex) = raw.strip_prefix("0x") {
            if let Ok(i) = i64::from_str_radix(hex, 16) {
                return Value::Int(i);
            }
        }
        if raw.bytes().any(|b| b.is_ascii_digit()) && !raw.contains(char::is_alphabetic) || raw.contains(['e', 'E']) {
            if let Ok(f) = raw.parse::<f64>() {
                if f.is_finite() {
                    return Value::Float(f);
                }
            }
        }
    }
    Value::Str(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = "id: zoë\nname: Zoë Ångström\naliases: [Zoë, \"the girl\"]\nage: 17\n";
        let p = parse(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let root = p.root.unwrap();
        let (k, v) = root.entry("name").unwrap();
        assert_eq!(&text[k.span.clone()], "name");
        assert_eq!(&text[v.span.clone()], "Zoë Ångström");
        let aliases = root.get("aliases").unwrap().as_seq().unwrap();
        assert_eq!(&text[aliases[1].span.clone()], "\"the girl\"");
        assert_eq!(aliases[1].as_str(), Some("the girl"));
        assert_eq!(root.get("age").unwrap().value, Value::Int(17));
    }

    #[test]
    fn syntax_error_keeps_partial_tree_and_position() {
        let text = "name: Alice\nkind: character\naliases: [Al, \n  bad: : :\n";
        let p = parse(text);
        assert_eq!(p.errors.len(), 1);
        let root = p.root.expect("partial tree");
        assert_eq!(root.get("name").and_then(Node::as_str), Some("Alice"));
        assert!(p.errors[0].range.start > text.find("aliases").unwrap());
    }

    #[test]
    fn duplicate_keys_and_anchors() {
        let p = parse("a: &x 1\nb: *x\na: 2\n");
        assert_eq!(p.errors.len(), 1);
        assert!(p.errors[0].message.contains("duplicate key `a`"));
        assert_eq!(p.root.unwrap().get("b").unwrap().value, Value::Int(1));
    }

    #[test]
    fn scalars_are_typed_like_yaml_core() {
        let p = parse("a: ~\nb: 'true'\nc: true\nd: 1.5\ne: 1e3\nf: 007x\ng: -4\n");
        let r = p.root.unwrap();
        assert_eq!(r.get("a").unwrap().value, Value::Null);
        assert_eq!(r.get("b").unwrap().value, Value::Str("true".into()));
        assert_eq!(r.get("c").unwrap().value, Value::Bool(true));
        assert_eq!(r.get("d").unwrap().value, Value::Float(1.5));
        assert_eq!(r.get("e").unwrap().value, Value::Float(1000.0));
        assert_eq!(r.get("f").unwrap().value, Value::Str("007x".into()));
        assert_eq!(r.get("g").unwrap().value, Value::Int(-4));
    }

    #[test]
    fn empty_and_scalar_documents() {
        assert!(parse("").root.is_none());
        assert_eq!(parse("just text").root.unwrap().value, Value::Str("just text".into()));
        assert!(parse("- a\n- b\n").root.unwrap().as_seq().is_some());
    }
}

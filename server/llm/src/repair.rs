//! Repairing the JSON a model wrote: code fences, prose around it, trailing commas, and output
//! cut off mid-way (open strings, arrays and objects are closed). Returns the value and whether
//! anything had to be repaired.

use serde_json::Value;

pub fn parse_lenient(text: &str) -> Option<(Value, bool)> {
    let trimmed = text.trim();
    if let Ok(v) = serde_json::from_str::<Value>(trimmed) {
        return Some((v, false));
    }
    // Inside a ```json fence, if there is one.
    let body = match trimmed.find("```") {
        Some(start) => {
            let after = &trimmed[start + 3..];
            let after = after.split_once('\n').map(|(_, rest)| rest).unwrap_or(after);
            after.split("```").next().unwrap_or(after)
        }
        None => trimmed,
    };
    let start = body.find(['{', '['])?;
    let candidate = &body[start..];
    if let Ok(v) = serde_json::from_str::<Value>(candidate) {
        return Some((v, true));
    }
    // Take the longest balanced prefix, or close what is open.
    let closed = close(candidate);
    serde_json::from_str::<Value>(&closed).ok().map(|v| (v, true))
}

fn close(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut stack: Vec<char> = Vec::new();
    let mut in_str = false;
    let mut escaped = false;
    for c in s.chars() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' => stack.push('}'),
            '[' => stack.push(']'),
            '}' | ']' => {
                // Drop a trailing comma before a closer.
                trim_trailing_comma(&mut out);
                if stack.last() == Some(&c) {
                    stack.pop();
                } else {
                    continue;
                }
            }
            _ => {}
        }
        out.push(c);
        if stack.is_empty() && matches!(c, '}' | ']') {
            // A complete value: ignore whatever follows.
            return out;
        }
    }
    if in_str {
        if escaped {
            out.pop();
        }
        out.push('"');
    }
    // A dangling key or a key without value is dropped.
    loop {
        let t = out.trim_end();
        let (comma, colon) = (t.ends_with(','), t.ends_with(':'));
        if comma || colon {
            let cut = t.len() - 1;
            out.truncate(cut);
            if colon {
                // Remove the key string before the colon.
                if let Some(q) = out.trim_end().strip_suffix('"').and_then(|k| k.rfind('"')) {
                    out.truncate(q);
                }
            }
            continue;
        }
        break;
    }
    trim_trailing_comma(&mut out);
    while let Some(closer) = stack.pop() {
        trim_trailing_comma(&mut out);
        out.push(closer);
    }
    out
}

fn trim_trailing_comma(out: &mut String) {
    let t = out.trim_end().len();
    if out[..t].ends_with(',') {
        out.truncate(t - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repairs() {
        let cases: &[(&str, Value)] = &[
            ("{\"a\": 1}", json!({"a": 1})),
            ("```json\n{\"ideas\": [\"one\", \"two\"]}\n```", json!({"ideas": ["one", "two"]})),
            ("Here you go: {\"a\": [1, 2,], }", json!({"a": [1, 2]})),
            ("{\"ideas\": [\"one\", \"tw", json!({"ideas": ["one", "tw"]})),
            ("{\"ideas\": [{\"title\": \"Zoë\"}, {\"title\":", json!({"ideas": [{"title": "Zoë"}, {}]})),
            ("[1, 2, 3", json!([1, 2, 3])),
            ("{\"a\": \"quote \\\"x\\\" and", json!({"a": "quote \"x\" and"})),
            ("{\"a\": 1} trailing words {\"b\": 2}", json!({"a": 1})),
        ];
        for (text, want) in cases {
            let (v, _) = parse_lenient(text).unwrap_or_else(|| panic!("no value from {text:?}"));
            assert_eq!(&v, want, "{text}");
        }
        assert!(parse_lenient("no json here").is_none());
        assert!(!parse_lenient("{\"a\": 1}").unwrap().1);
    }
}

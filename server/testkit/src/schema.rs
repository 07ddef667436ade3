//! Checks a message against the editor protocol's JSON Schema (`extensions/protocol.schema.json`,
//! generated from `server/lsp/src/protocol.rs`): what the server actually sends must be what the
//! schema — and so the extensions' generated types — say. Strict about what the schema does not
//! name: an object with `properties` may hold no other keys.

use serde_json::Value;

/// The protocol schema as checked in.
pub fn protocol() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../extensions/protocol.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("the protocol schema is JSON")
}

/// Checks `value` against `schema` (a subschema of `root`); the first problem, with its path.
pub fn check(root: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    at(root, schema, value, "$")
}

/// Checks the result of `command` against the schema.
pub fn check_result(root: &Value, command: &str, value: &Value) -> Result<(), String> {
    let s = &root["commands"][command]["result"];
    if s.is_null() {
        return Err(format!("the schema has no command `{command}`"));
    }
    check(root, s, value).map_err(|e| format!("{command} result: {e}"))
}

/// Checks a notification's params against the schema.
pub fn check_notification(root: &Value, method: &str, params: &Value) -> Result<(), String> {
    let s = &root["notifications"][method];
    if s.is_null() {
        return Err(format!("the schema has no notification `{method}`"));
    }
    check(root, s, params).map_err(|e| format!("{method}: {e}"))
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}

fn at(root: &Value, s: &Value, v: &Value, path: &str) -> Result<(), String> {
    if s == &Value::Bool(true) {
        return Ok(());
    }
    if let Some(r) = s["$ref"].as_str() {
        let name = r.strip_prefix("#/$defs/").ok_or_else(|| format!("{path}: unsupported $ref {r}"))?;
        let def = &root["$defs"][name];
        if def.is_null() {
            return Err(format!("{path}: no definition {name}"));
        }
        at(root, def, v, path)?;
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = s[key].as_array() {
            let errors: Vec<String> = alts.iter().filter_map(|a| at(root, a, v, path).err()).collect();
            if errors.len() == alts.len() {
                return Err(format!("{path}: matches none of {key}: {}", errors.join("; ")));
            }
        }
    }
    for part in s["allOf"].as_array().into_iter().flatten() {
        at(root, part, v, path)?;
    }
    if let Some(c) = s.get("const") {
        if c != v {
            return Err(format!("{path}: {v} is not {c}"));
        }
    }
    if let Some(e) = s["enum"].as_array() {
        if !e.contains(v) {
            return Err(format!("{path}: {v} is not one of {}", Value::Array(e.clone())));
        }
    }
    match &s["type"] {
        Value::String(t) if !type_ok(t, v) => return Err(format!("{path}: {v} is not {t}")),
        Value::Array(ts) if !ts.iter().filter_map(Value::as_str).any(|t| type_ok(t, v)) => {
            return Err(format!("{path}: {v} is none of {}", s["type"]))
        }
        _ => {}
    }
    if let (Some(min), Some(n)) = (s["minimum"].as_f64(), v.as_f64()) {
        if n < min {
            return Err(format!("{path}: {n} is below {min}"));
        }
    }
    if let (Some(obj), Some(props)) = (v.as_object(), s["properties"].as_object()) {
        for req in s["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !obj.contains_key(req) {
                return Err(format!("{path}: `{req}` is missing"));
            }
        }
        for (k, val) in obj {
            match props.get(k) {
                Some(ps) => at(root, ps, val, &format!("{path}.{k}"))?,
                None if s.get("additionalProperties").is_some_and(|a| a != &Value::Bool(false)) => {}
                None => return Err(format!("{path}: `{k}` is not in the schema")),
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, item) in arr.iter().enumerate() {
            at(root, items, item, &format!("{path}[{i}]"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strict_about_types_required_and_unknown_keys() {
        let root = protocol();
        let ok = json!({ "run": "r", "pipeline": "p", "state": "running", "event": "text", "step": "s", "text": "t" });
        check_notification(&root, "showrunner/runProgress", &ok).unwrap();
        let mut extra = ok.clone();
        extra["surprise"] = json!(1);
        assert!(check_notification(&root, "showrunner/runProgress", &extra).unwrap_err().contains("surprise"));
        let mut bad = ok.clone();
        bad["state"] = json!("dancing");
        assert!(check_notification(&root, "showrunner/runProgress", &bad).is_err());
        let mut missing = ok;
        missing.as_object_mut().unwrap().remove("run");
        assert!(check_notification(&root, "showrunner/runProgress", &missing).unwrap_err().contains("`run`"));
    }
}

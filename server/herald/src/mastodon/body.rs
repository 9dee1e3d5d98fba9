//! Request bodies as Mastodon apps send them: JSON (Elk, masto.js) or form-urlencoded
//! (Phanpy's sign-in, Mastodon.py), where a list is a repeated `key[]` and a flag is
//! `true`/`1`. Both are read into one JSON value, then into the request's type.

use actix_web::HttpRequest;
use serde::{de::DeserializeOwned, Deserialize, Deserializer};
use serde_json::{Map, Value};

/// Parses `body` by its content type; `Err` says why it could not be read.
pub fn parse<T: DeserializeOwned>(request: &HttpRequest, body: &[u8]) -> Result<T, String> {
    let json = request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let value = if json {
        serde_json::from_slice(body).map_err(|e| format!("the body is not valid JSON: {e}"))?
    } else {
        form_to_json(body)
    };
    serde_json::from_value(value).map_err(|e| format!("the request is not valid: {e}"))
}

/// A form as a JSON object: `key[]` and repeated keys become arrays, other values strings.
fn form_to_json(body: &[u8]) -> Value {
    let mut object = Map::new();
    for (key, value) in url::form_urlencoded::parse(body) {
        let (key, list) = match key.strip_suffix("[]") {
            Some(base) => (base.to_string(), true),
            None => (key.into_owned(), false),
        };
        let value = Value::String(value.into_owned());
        match object.get_mut(&key) {
            Some(Value::Array(items)) => items.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None if list => {
                object.insert(key, Value::Array(vec![value]));
            }
            None => {
                object.insert(key, value);
            }
        }
    }
    Value::Object(object)
}

/// One value or a list of them (ids as strings or numbers).
#[derive(Clone, Debug, Default)]
pub struct OneOrMany(pub Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        Ok(OneOrMany(match Value::deserialize(deserializer)? {
            Value::Array(items) => items.iter().filter_map(text).collect(),
            Value::Null => Vec::new(),
            one => text(&one).into_iter().collect(),
        }))
    }
}

/// A boolean as JSON or as a form field (`true`, `1`, `on`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Flag(match Value::deserialize(deserializer)? {
            Value::Bool(b) => b,
            Value::String(s) => matches!(s.as_str(), "true" | "1" | "on" | "True"),
            Value::Number(n) => n.as_i64().is_some_and(|n| n != 0),
            _ => false,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_read_lists_and_values() {
        let value = form_to_json(b"status=hi&media_ids[]=a&media_ids[]=b&sensitive=true&x=1&x=2");
        assert_eq!(
            value,
            serde_json::json!({
                "status": "hi", "media_ids": ["a", "b"], "sensitive": "true", "x": ["1", "2"]
            })
        );
        let one: OneOrMany = serde_json::from_value(serde_json::json!("7")).unwrap();
        assert_eq!(one.0, ["7"]);
        let many: OneOrMany = serde_json::from_value(serde_json::json!([1, "2"])).unwrap();
        assert_eq!(many.0, ["1", "2"]);
        let flag: Flag = serde_json::from_value(serde_json::json!("1")).unwrap();
        assert!(flag.0);
    }
}

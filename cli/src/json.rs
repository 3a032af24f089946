//! Builds the one-line JSON objects of `hvemu decode --json` on top of the JSON value of
//! `hvemu_cli::cases::json`, which also serves the conformance runner.

use hvemu_cli::cases::json::Value;

/// A JSON object being built, keys in insertion order.
pub(crate) struct Object(Vec<(String, Value)>);

impl Object {
    pub(crate) fn new() -> Object {
        Object(Vec::new())
    }

    fn put(&mut self, key: &str, value: Value) {
        self.0.push((key.to_string(), value));
    }

    pub(crate) fn str(&mut self, key: &str, value: &str) {
        self.put(key, Value::str(value));
    }

    /// A string, or `null`.
    pub(crate) fn opt_str(&mut self, key: &str, value: Option<&str>) {
        self.put(key, value.map_or(Value::Null, Value::str));
    }

    pub(crate) fn num(&mut self, key: &str, value: i64) {
        self.put(key, Value::int(value));
    }

    pub(crate) fn bool(&mut self, key: &str, value: bool) {
        self.put(key, Value::Bool(value));
    }

    /// An array of strings.
    pub(crate) fn str_array(&mut self, key: &str, items: &[&str]) {
        self.put(
            key,
            Value::Array(items.iter().map(|s| Value::str(*s)).collect()),
        );
    }

    /// A nested object, or `null`.
    pub(crate) fn object(&mut self, key: &str, value: Option<Object>) {
        self.put(key, value.map_or(Value::Null, |o| Value::Object(o.0)));
    }

    /// The object text, without a newline.
    pub(crate) fn finish(self) -> String {
        Value::Object(self.0).to_json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_layout() {
        let mut o = Object::new();
        o.str("a", "q\"b\\\n\u{1}");
        o.num("n", -3);
        o.bool("t", true);
        o.opt_str("z", None);
        o.str_array("l", &["x", "y"]);
        assert_eq!(
            o.finish(),
            r#"{"a": "q\"b\\\n\u0001", "n": -3, "t": true, "z": null, "l": ["x", "y"]}"#
        );
    }
}

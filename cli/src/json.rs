//! A minimal JSON object writer (one line, `{"key": value, ...}`).

use std::fmt::Write;

/// A JSON object being written.
pub(crate) struct Object(String);

/// JSON string literal of `s`.
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// JSON array of strings.
pub(crate) fn str_array(items: &[&str]) -> String {
    let items: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", items.join(", "))
}

impl Object {
    pub(crate) fn new() -> Object {
        Object(String::from("{"))
    }

    /// Adds `"key": value` with `value` already JSON.
    pub(crate) fn raw(&mut self, key: &str, value: &str) {
        if self.0.len() > 1 {
            self.0.push_str(", ");
        }
        let _ = write!(self.0, "{}: {value}", string(key));
    }

    pub(crate) fn str(&mut self, key: &str, value: &str) {
        self.raw(key, &string(value));
    }

    /// A string, or `null`.
    pub(crate) fn opt_str(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(v) => self.str(key, v),
            None => self.raw(key, "null"),
        }
    }

    pub(crate) fn num(&mut self, key: &str, value: i64) {
        self.raw(key, &value.to_string());
    }

    pub(crate) fn bool(&mut self, key: &str, value: bool) {
        self.raw(key, if value { "true" } else { "false" });
    }

    /// The object text, without a newline.
    pub(crate) fn finish(mut self) -> String {
        self.0.push('}');
        self.0
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
        o.raw("l", &str_array(&["x", "y"]));
        assert_eq!(
            o.finish(),
            r#"{"a": "q\"b\\\n\u0001", "n": -3, "t": true, "z": null, "l": ["x", "y"]}"#
        );
    }
}

//! A Lua state with Redis's script libraries (`cjson`, `cmsgpack`, `bit`, `struct`) and
//! nothing of the scripting engine, so that tests can compare the libraries with Redis's.

use mlua::{Lua, Value};

/// What a chunk's first result becomes as a Redis reply (the conversions EVAL applies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A string.
    Bulk(Vec<u8>),
    /// A number (truncated) or `true` (1).
    Integer(i64),
    /// `nil` or `false`.
    Nil,
    /// A table or another value this harness does not convert, described.
    Other(String),
    /// The error the chunk raised, as its message.
    Error(String),
}

/// A Lua 5.1 state with the libraries registered.
pub struct LibState {
    lua: Lua,
}

impl LibState {
    /// A fresh state.
    ///
    /// # Panics
    ///
    /// If the libraries cannot be registered (out of memory).
    #[must_use]
    pub fn new() -> Self {
        let lua = Lua::new();
        crate::script_libs::register(&lua).expect("script libraries register");
        LibState { lua }
    }

    /// Runs `chunk` and converts its first result.
    #[must_use]
    pub fn eval(&self, chunk: &str) -> Reply {
        match self
            .lua
            .load(chunk)
            .set_name("=user_script")
            .eval::<Value>()
        {
            Ok(Value::String(s)) => Reply::Bulk(s.as_bytes().to_vec()),
            Ok(Value::Integer(i)) => Reply::Integer(i),
            #[allow(clippy::cast_possible_truncation)]
            Ok(Value::Number(x)) => Reply::Integer(x as i64),
            Ok(Value::Boolean(true)) => Reply::Integer(1),
            Ok(Value::Boolean(false) | Value::Nil) => Reply::Nil,
            Ok(other) => Reply::Other(other.type_name().to_owned()),
            Err(e) => Reply::Error(message(&e)),
        }
    }
}

impl Default for LibState {
    fn default() -> Self {
        Self::new()
    }
}

/// The error's message, without the traceback mlua appends.
fn message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(m) => m
            .split_once("\nstack traceback:")
            .map_or(m.as_str(), |(head, _)| head)
            .to_owned(),
        mlua::Error::CallbackError { cause, .. } => message(cause),
        other => other.to_string(),
    }
}

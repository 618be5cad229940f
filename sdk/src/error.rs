//! The error type hooks return, and helpers to build one.

use std::fmt;

/// `Result<T, Error>`; `Result` alone is `Result<(), Error>`, what every hook phase returns.
pub type Result<T = ()> = std::result::Result<T, Error>;

/// Why a hook (or driver function) failed: a message for the operator.
///
/// When a phase returns `Err`, the host fails the hook with this message
/// (the WIT `result<_, string>` of `run`), next to the hook's name, kind and phase.
///
/// Any [`std::error::Error`] converts into it, so `?` works on I/O and parse
/// errors; the message keeps the error's chain of sources. Build one from text
/// with [`Error::msg`] or return early with [`bail!`](crate::bail), and add
/// what was being done with [`Context`].
///
/// ```
/// use hookhost_sdk::{bail, Error, Result};
///
/// fn port(value: &str) -> Result<u16> {
///     if value.is_empty() {
///         bail!("PORT is empty");
///     }
///     Ok(value.parse()?) // ParseIntError -> Error
/// }
///
/// assert_eq!(port("8080").unwrap(), 8080);
/// assert_eq!(port("").unwrap_err().to_string(), "PORT is empty");
/// assert_eq!(Error::msg("no").to_string(), "no");
/// ```
// Deliberately not `std::error::Error` itself: that would conflict with the
// blanket `From<E: std::error::Error>` (the same trade-off `anyhow` makes).
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    /// An error with this message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self {
            message: message.to_string(),
        }
    }

    /// The message, as the host will show it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `fn main() -> Result` and `unwrap()` print the plain message.
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error> From<E> for Error {
    fn from(error: E) -> Self {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Self { message }
    }
}

impl From<Error> for String {
    fn from(error: Error) -> Self {
        error.message
    }
}

/// Say what was being done when an error happened: `"<context>: <error>"`.
///
/// Implemented for every `Result` whose error is displayable, and for
/// `Option` (where `None` becomes an error with just the context).
///
/// ```
/// use hookhost_sdk::{Context, Result};
///
/// fn read_conf() -> Result<String> {
///     std::fs::read_to_string("/nonexistent/app.conf").context("reading /nonexistent/app.conf")
/// }
///
/// let err = read_conf().unwrap_err().to_string();
/// assert!(err.starts_with("reading /nonexistent/app.conf: "), "{err}");
///
/// let none: Option<u8> = None;
/// assert_eq!(none.context("no value").unwrap_err().to_string(), "no value");
/// ```
pub trait Context<T> {
    /// Prefix the error with `context`.
    fn context(self, context: impl fmt::Display) -> Result<T>;

    /// Like [`context`](Context::context), computing the text only on error.
    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl fmt::Display) -> Result<T> {
        self.map_err(|e| Error::msg(format!("{context}: {e}")))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| Error::msg(format!("{}: {e}", context())))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, context: impl fmt::Display) -> Result<T> {
        self.ok_or_else(|| Error::msg(context))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.ok_or_else(|| Error::msg(context()))
    }
}

/// Return early with an [`Error`](crate::Error): `bail!("text {x}")`,
/// `bail!("text {}", x)` or `bail!(displayable_value)`.
///
/// ```
/// use hookhost_sdk::{bail, Result};
///
/// fn check(n: u32) -> Result {
///     if n > 3 {
///         bail!("too many: {n} > {}", 3);
///     }
///     Ok(())
/// }
/// assert_eq!(check(4).unwrap_err().to_string(), "too many: 4 > 3");
/// ```
#[macro_export]
macro_rules! bail {
    ($message:literal $(,)?) => {
        return ::core::result::Result::Err($crate::Error::msg(::std::format!($message)))
    };
    ($error:expr $(,)?) => {
        return ::core::result::Result::Err($crate::Error::msg($error))
    };
    ($format:expr, $($arg:tt)+) => {
        return ::core::result::Result::Err($crate::Error::msg(::std::format!($format, $($arg)+)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("writing /data/x")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn from_keeps_the_source_chain() {
        let inner = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let err: Error = Outer(inner).into();
        assert_eq!(err.to_string(), "writing /data/x: denied");
    }

    #[test]
    fn question_mark_converts_io_errors() {
        fn open() -> Result<std::fs::File> {
            Ok(std::fs::File::open("/nonexistent/hookhost-sdk-test")?)
        }
        assert!(open().unwrap_err().message().contains("No such file"));
    }

    #[test]
    fn bail_forms() {
        fn literal() -> Result {
            bail!("plain")
        }
        fn inline(x: i32) -> Result {
            bail!("x is {x}")
        }
        fn value() -> Result {
            let e = String::from("owned");
            bail!(e)
        }
        fn args() -> Result {
            bail!("{} and {}", 1, 2,)
        }
        assert_eq!(literal().unwrap_err().message(), "plain");
        assert_eq!(inline(7).unwrap_err().message(), "x is 7");
        assert_eq!(value().unwrap_err().message(), "owned");
        assert_eq!(args().unwrap_err().message(), "1 and 2");
    }

    #[test]
    fn context_prefixes() {
        let r: std::result::Result<(), &str> = Err("boom");
        assert_eq!(r.context("step").unwrap_err().message(), "step: boom");
        let r: Result = Err(Error::msg("inner"));
        assert_eq!(
            r.with_context(|| format!("phase {}", 2))
                .unwrap_err()
                .message(),
            "phase 2: inner"
        );
        assert_eq!(String::from(Error::msg("s")), "s");
    }
}

//! What a valid username, password, display name, email and locale are: parsed once at the
//! edge into types that cannot hold an invalid value.

use crate::error::FieldError;

pub const PASSWORD_MIN_CHARS: usize = 10;
pub const PASSWORD_MAX_BYTES: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// 3–32 characters of lowercase ASCII letters, digits, `.`, `_` and `-`, starting with a
    /// letter or digit. Input is lower-cased, so `Wang.Li` and `wang.li` are one user.
    pub fn parse(field: &str, raw: &str) -> Result<Username, FieldError> {
        let s = raw.trim().to_ascii_lowercase();
        let len = s.chars().count();
        if !(3..=32).contains(&len) {
            return Err(FieldError::new(
                field,
                "length",
                "must be 3 to 32 characters",
            ));
        }
        let valid_chars = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        let valid_start = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        if !valid_chars || !valid_start {
            return Err(FieldError::new(
                field,
                "format",
                "only letters, digits, '.', '_' and '-', starting with a letter or digit",
            ));
        }
        Ok(Username(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used as a lookup key; login accepts any case.
    pub fn normalise(raw: &str) -> String {
        raw.trim().to_ascii_lowercase()
    }
}

/// A new password: at least 10 characters, at most 256 bytes (argon2 input is bounded so a
/// huge body cannot cost the server), not only whitespace.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(field: &str, raw: &str) -> Result<NewPassword, FieldError> {
        if raw.chars().count() < PASSWORD_MIN_CHARS {
            return Err(FieldError::new(
                field,
                "too_short",
                format!("must be at least {PASSWORD_MIN_CHARS} characters"),
            ));
        }
        if raw.len() > PASSWORD_MAX_BYTES {
            return Err(FieldError::new(
                field,
                "too_long",
                format!("must be at most {PASSWORD_MAX_BYTES} bytes"),
            ));
        }
        if raw.trim().is_empty() {
            return Err(FieldError::new(
                field,
                "blank",
                "must not be only whitespace",
            ));
        }
        Ok(NewPassword(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A one-line text: at most `max` characters as sent, not blank, stored trimmed, with no
/// control character inside (a name, a title). `openapi.yaml` states the same rule as a
/// pattern; keep the two in step.
pub fn parse_text(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    checked_text(field, raw, max, |c| c.is_control())
}

/// A text of several lines (a description, a comment): as [`parse_text`], but line breaks
/// and tabs are kept.
pub fn parse_paragraph(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    checked_text(field, raw, max, is_control_in_paragraph)
}

/// The control characters a paragraph may not hold: all but tab, line feed and return.
pub fn is_control_in_paragraph(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

fn checked_text(
    field: &str,
    raw: &str,
    max: usize,
    forbidden: impl Fn(char) -> bool,
) -> Result<String, FieldError> {
    if raw.chars().count() > max {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("must be at most {max} characters"),
        ));
    }
    let s = raw.trim();
    if s.is_empty() {
        return Err(FieldError::new(field, "blank", "must not be empty"));
    }
    if s.chars().any(forbidden) {
        return Err(FieldError::new(
            field,
            "format",
            "must not contain control characters",
        ));
    }
    Ok(s.to_string())
}

/// A plausible email address: one `@`, a dotted domain, no spaces, at most 254 characters.
pub fn parse_email(field: &str, raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    let bad = || {
        FieldError::new(
            field,
            "format",
            "must be an email address like name@example.gov.cn",
        )
    };
    if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = s.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(bad());
    }
    Ok(s.to_string())
}

/// The locales texts exist in.
pub const LOCALES: [&str; 2] = ["zh-CN", "en"];

pub fn parse_locale(field: &str, raw: &str) -> Result<String, FieldError> {
    LOCALES
        .iter()
        .find(|l| l.eq_ignore_ascii_case(raw.trim()))
        .map(|l| l.to_string())
        .ok_or_else(|| FieldError::new(field, "unknown_value", "must be one of: zh-CN, en"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lowercased_and_checked() {
        assert_eq!(
            Username::parse("u", " Wang.Li ").map(|u| u.0).ok(),
            Some("wang.li".into())
        );
        assert!(Username::parse("u", "ab").is_err());
        assert!(Username::parse("u", "-abc").is_err());
        assert!(Username::parse("u", "王力").is_err());
        assert!(Username::parse("u", &"a".repeat(33)).is_err());
    }

    #[test]
    fn passwords_have_a_minimum_and_a_maximum() {
        assert_eq!(
            NewPassword::parse("p", "short").err().map(|e| e.code),
            Some("too_short")
        );
        assert_eq!(
            NewPassword::parse("p", "          ").err().map(|e| e.code),
            Some("blank")
        );
        assert_eq!(
            NewPassword::parse("p", &"x".repeat(257))
                .err()
                .map(|e| e.code),
            Some("too_long")
        );
        assert!(NewPassword::parse("p", "观察员的密码很长很长").is_ok());
    }

    #[test]
    fn emails_and_locales() {
        assert!(parse_email("e", "li@pinglu.gov.cn").is_ok());
        assert!(parse_email("e", "li@localhost").is_err());
        assert!(parse_email("e", "li pinglu@x.cn").is_err());
        assert_eq!(parse_locale("l", "EN").ok(), Some("en".into()));
        assert!(parse_locale("l", "fr").is_err());
    }
}

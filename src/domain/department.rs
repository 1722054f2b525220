//! What a valid department code and webhook are.

use crate::error::FieldError;

/// 2–32 characters of ASCII letters, digits, `_` and `-`, stored upper-case (`FGJ`, `ZRZY-01`).
pub fn parse_code(field: &str, raw: &str) -> Result<String, FieldError> {
    let s = raw.trim().to_ascii_uppercase();
    if !(2..=32).contains(&s.len()) {
        return Err(FieldError::new(
            field,
            "length",
            "must be 2 to 32 characters",
        ));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '-')
    {
        return Err(FieldError::new(
            field,
            "format",
            "only letters, digits, '_' and '-'",
        ));
    }
    Ok(s)
}

/// An http(s) URL of at most 500 characters with a host, pointing at a public address
/// unless private targets are allowed (see `webhook_target`).
pub fn parse_webhook_url(
    field: &str,
    raw: &str,
    allow_private: bool,
) -> Result<String, FieldError> {
    use crate::domain::webhook_target::{Refusal, check_url};
    let s = raw.trim();
    let bad = || FieldError::new(field, "format", "must be an http:// or https:// URL");
    if s.len() > 500 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    match check_url(s, allow_private) {
        Ok(()) => Ok(s.to_string()),
        Err(Refusal::NotAUrl) => Err(bad()),
        Err(Refusal::NotPublic) => Err(FieldError::new(
            field,
            "not_public",
            "must point at a public address, not this machine or a private network",
        )),
    }
}

/// A webhook signing secret: 16 to 256 characters.
pub fn parse_webhook_secret(field: &str, raw: &str) -> Result<String, FieldError> {
    let n = raw.chars().count();
    if !(16..=256).contains(&n) {
        return Err(FieldError::new(
            field,
            "length",
            "must be 16 to 256 characters",
        ));
    }
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_uppercased_and_checked() {
        assert_eq!(parse_code("c", "fgj").ok(), Some("FGJ".into()));
        assert!(parse_code("c", "x").is_err());
        assert!(parse_code("c", "发改局").is_err());
    }

    #[test]
    fn webhook_urls_need_a_scheme_and_a_host() {
        assert!(parse_webhook_url("w", "https://bot.example.cn/hook?key=1", false).is_ok());
        assert!(parse_webhook_url("w", "ftp://x", false).is_err());
        assert!(parse_webhook_url("w", "https:///path", false).is_err());
        let private = parse_webhook_url("w", "http://169.254.169.254/", false);
        assert_eq!(private.err().map(|e| e.code), Some("not_public"));
        assert!(parse_webhook_url("w", "http://127.0.0.1:9000/hook", true).is_ok());
    }
}

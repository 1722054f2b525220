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

/// An http(s) URL of at most 500 characters with a host.
pub fn parse_webhook_url(field: &str, raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    let bad = || FieldError::new(field, "format", "must be an http:// or https:// URL");
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || s.len() > 500 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    Ok(s.to_string())
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
        assert!(parse_webhook_url("w", "https://bot.example.cn/hook?key=1").is_ok());
        assert!(parse_webhook_url("w", "ftp://x").is_err());
        assert!(parse_webhook_url("w", "https:///path").is_err());
    }
}

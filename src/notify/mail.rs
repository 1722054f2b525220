//! The mail transport: SMTP when `OBSERVER_DESK_SMTP_URL` is set, else one `.eml` file per
//! message under `DATA_DIR/mail/` for development.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Settings;

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(MailFolder),
}

/// Without an SMTP server, each message is an `.eml` file in the data folder's `mail`. It is
/// written in `tmp` first and then renamed in, so that whatever picks up the folder never
/// reads a message half-written. (A crash between the two leaves a file in `tmp`, which the
/// sweep clears.)
pub struct MailFolder {
    dir: std::path::PathBuf,
    staging: std::path::PathBuf,
}

impl MailFolder {
    async fn put(&self, message: &Message) -> std::io::Result<()> {
        let name = format!("{}.eml", crate::secret::random_token(16));
        let staged = self.staging.join(format!("mail-{name}"));
        let bytes = message.formatted();
        let target = self.dir.join(&name);
        tokio::task::spawn_blocking(move || {
            std::fs::write(&staged, bytes)?;
            std::fs::rename(&staged, &target).inspect_err(|_| {
                let _ = std::fs::remove_file(&staged);
            })
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Mailer> {
        match &settings.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| {
                        anyhow::anyhow!("OBSERVER_DESK_SMTP_URL is not a valid SMTP URL: {e}")
                    })?
                    .timeout(Some(Duration::from_secs(20)))
                    .build();
                Ok(Mailer::Smtp(transport))
            }
            None => {
                let folder = MailFolder {
                    dir: settings.data_dir.join("mail"),
                    staging: settings.data_dir.join("tmp"),
                };
                std::fs::create_dir_all(&folder.dir)?;
                std::fs::create_dir_all(&folder.staging)?;
                Ok(Mailer::File(folder))
            }
        }
    }

    /// Sends one message, plain text and HTML. The error is a line for the delivery log.
    /// Its `Message-ID` is made from `key`, unique to the message; with `thread` (a stable key such
    /// as the id), `In-Reply-To` and `References` name one per-thread id, so that a
    /// mail client shows all mail about one issue together.
    pub async fn send(
        &self,
        from: &str,
        to: &str,
        subject: &str,
        plain: &str,
        thread: Option<&str>,
        key: &str,
    ) -> Result<(), String> {
        let from: Mailbox = from.parse().map_err(|e| format!("sender {from:?}: {e}"))?;
        let to: Mailbox = to.parse().map_err(|e| format!("recipient: {e}"))?;
        let html = format!(
            "<!doctype html><html><body><p>{}</p></body></html>",
            escape_html(plain).replace('\n', "<br>")
        );
        let domain = from.email.domain().to_string();
        let mut builder = Message::builder()
            .message_id(Some(message_id(key, &domain)))
            .from(from)
            .to(to)
            .subject(subject);
        if let Some(key) = thread {
            let root = thread_id(key, &domain);
            builder = builder.in_reply_to(root.clone()).references(root);
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(plain.to_string(), html))
            .map_err(|e| e.to_string())?;
        match self {
            Mailer::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Mailer::File(folder) => folder.put(&message).await.map_err(|e| e.to_string()),
        }
    }

    /// Whether mail can go out: the SMTP server answers, or the mail folder takes a file.
    pub async fn check(&self) -> Result<String, String> {
        match self {
            Mailer::Smtp(t) => match t.test_connection().await {
                Ok(true) => Ok("the SMTP server answers".into()),
                Ok(false) => Err("the SMTP server does not answer".into()),
                Err(e) => Err(e.to_string()),
            },
            Mailer::File(_) => Ok("no SMTP server set: mail is written to the data folder".into()),
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Mailer::Smtp(_) => "smtp",
            Mailer::File(_) => "file",
        }
    }
}

/// A unique `Message-ID` at the sender's domain.
/// The message's id, from a key that names it for good (the delivery): a message sent again
/// (its sender died after the mail server took it and before that was recorded) carries the
/// same id, which mail servers and clients take for one message.
fn message_id(key: &str, domain: &str) -> String {
    format!("<{key}@{domain}>")
}

/// The id every message of one thread refers to (never itself sent).
fn thread_id(key: &str, domain: &str) -> String {
    let safe: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
        .collect();
    format!("<{safe}@{domain}>")
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

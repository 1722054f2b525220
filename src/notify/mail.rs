//! The mail transport: SMTP when `OBSERVER_DESK_SMTP_URL` is set, else one `.eml` file per
//! message under `DATA_DIR/mail/` for development.

use lettre::{AsyncFileTransport, AsyncSmtpTransport, Tokio1Executor};

use crate::config::Settings;

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Mailer> {
        match &settings.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| {
                        anyhow::anyhow!("OBSERVER_DESK_SMTP_URL is not a valid SMTP URL: {e}")
                    })?
                    .build();
                Ok(Mailer::Smtp(transport))
            }
            None => {
                let dir = settings.data_dir.join("mail");
                std::fs::create_dir_all(&dir)?;
                Ok(Mailer::File(AsyncFileTransport::new(dir)))
            }
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Mailer::Smtp(_) => "smtp",
            Mailer::File(_) => "file",
        }
    }
}

//! Real message delivery: the outbox worker's `Sender` for `live` mode.
//! Email goes over SMTP (lettre), text and voice through an HTTP provider.
//! Text is rendered here, at delivery, in the recipient's language.

pub mod phone;
pub mod smtp;

use app::ssr::messages::render;
use sspr_domain::config::DeliveryConfig;
use sspr_domain::outbox::{Channel, Message, Sender};

use self::phone::HttpPhone;
use self::smtp::SmtpMailer;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("delivery.smtp: {0}")]
    Smtp(String),
    #[error("delivery.phone / delivery.voice: {0}")]
    Phone(String),
}

pub struct LiveSender {
    email: Option<SmtpMailer>,
    phone: Option<HttpPhone>,
    voice: Option<HttpPhone>,
}

impl LiveSender {
    pub fn new(cfg: &DeliveryConfig) -> Result<LiveSender, SetupError> {
        Ok(LiveSender {
            email: cfg.smtp.as_ref().map(SmtpMailer::new).transpose()?,
            phone: cfg.phone.as_ref().map(HttpPhone::new).transpose()?,
            voice: cfg.voice.as_ref().map(HttpPhone::new).transpose()?,
        })
    }
}

impl LiveSender {
    /// Calls use the voice provider when one is configured, else the text
    /// provider (whose template can branch on `{{channel}}`).
    fn provider_for(&self, channel: Channel) -> Option<&HttpPhone> {
        match channel {
            Channel::Voice => self.voice.as_ref().or(self.phone.as_ref()),
            _ => self.phone.as_ref(),
        }
    }
}

impl Sender for LiveSender {
    async fn send(&self, m: &Message) -> Result<(), String> {
        let text = render(&m.template, &m.locale);
        match m.channel {
            Channel::Email => match &self.email {
                Some(mailer) => mailer.send(m, &text.subject, &text.body).await,
                None => Err("no SMTP server is configured".into()),
            },
            Channel::Sms | Channel::Voice => match self.provider_for(m.channel) {
                Some(phone) => phone.send(m, &text.body).await,
                None => Err("no text/voice provider is configured".into()),
            },
        }
    }

    fn scrub_after_send(&self) -> bool {
        true
    }
}

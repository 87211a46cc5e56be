use sspr_domain::outbox::{self, DeliveryMode};
use sspr_proto::views::OutboxEntry;
use time::OffsetDateTime;
use time::macros::format_description;

use super::state;
use crate::error::AppError;

pub async fn list() -> Result<Vec<OutboxEntry>, AppError> {
    let st = state()?;
    let s = &st.services;
    if s.config.delivery_mode() != DeliveryMode::Outbox {
        return Err(AppError::NotFound);
    }
    let messages = outbox::recent(s.db.pool(), &s.key, 100)
        .await
        .map_err(AppError::from)?;
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    Ok(messages
        .into_iter()
        .map(|m| {
            let r = super::messages::render(&m.template, &m.locale);
            let created_at = OffsetDateTime::from_unix_timestamp(m.created_at.secs())
                .ok()
                .and_then(|t| t.format(fmt).ok())
                .unwrap_or_default();
            OutboxEntry {
                id: m.id,
                created_at,
                channel: m.channel.as_str().to_owned(),
                recipient: m.recipient,
                state: m.state,
                locale: m.locale,
                subject: r.subject,
                body: r.body,
            }
        })
        .collect())
}

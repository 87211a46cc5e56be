use leptos::prelude::*;

use sspr_proto::views::OutboxEntry;

use crate::api::dev_outbox;
use crate::components::alert::ErrorAlert;
use crate::components::page::Page;
use crate::i18n::*;
use crate::resource;

#[component]
pub fn DevOutboxPage() -> impl IntoView {
    let i18n = use_i18n();
    let messages = resource::blocking(|| (), |_| dev_outbox());
    view! {
        <Page title=move || t_str!(i18n, outbox_title).to_string() wide=true>
            <p>{t_str!(i18n, outbox_intro)}</p>
            <Suspense fallback=move || {
                view! { <p class="loading">{t_str!(i18n, loading)}</p> }
            }>
                {move || Suspend::new(async move {
                    match messages.await {
                        Ok(list) if list.is_empty() => {
                            view! { <p>{t_str!(i18n, outbox_empty)}</p> }.into_any()
                        }
                        Ok(list) => view! { <OutboxTable list /> }.into_any(),
                        Err(e) => {
                            view! { <ErrorAlert error=Signal::derive(move || Some(e.clone())) /> }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </Page>
    }
}

#[component]
fn OutboxTable(list: Vec<OutboxEntry>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <table class="outbox">
            <thead>
                <tr>
                    <th scope="col">{t_str!(i18n, outbox_col_time)}</th>
                    <th scope="col">{t_str!(i18n, outbox_col_channel)}</th>
                    <th scope="col">{t_str!(i18n, outbox_col_to)}</th>
                    <th scope="col">{t_str!(i18n, outbox_col_state)}</th>
                    <th scope="col">{t_str!(i18n, outbox_col_message)}</th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|m| {
                        let channel = m.channel.clone();
                        view! {
                            <tr data-message-id=m.id>
                                <td dir="ltr">{m.created_at}</td>
                                <td>
                                    {move || match channel.as_str() {
                                        "sms" => t_str!(i18n, channel_sms).into_any(),
                                        "voice" => t_str!(i18n, channel_voice).into_any(),
                                        _ => t_str!(i18n, channel_email).into_any(),
                                    }}
                                </td>
                                <td dir="ltr" class="recipient">
                                    {m.recipient}
                                </td>
                                <td>{m.state}</td>
                                <td lang=m.locale.clone() dir="auto">
                                    <strong class="subject">{m.subject}</strong>
                                    <pre class="body">{m.body}</pre>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

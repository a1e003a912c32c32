//! Notification channels (admins only), as Admin → Notifications uses them: list, save, delete,
//! send a test message, and each channel's delivery log with "Retry now".

// The channel form has a field per argument; the server macro copies the signature into the
// browser's stub, where no attribute on the function reaches.
#![allow(
    clippy::too_many_arguments,
    reason = "one server function argument per form field"
)]

use leptos::prelude::*;

use crate::model::AppError;
use crate::model::notification::{ChannelView, DeliveryView, TestOutcome};

/// The session key carrying a test message's outcome from a plain form post (JavaScript off)
/// to the page it goes back to, which takes it out at once.
#[cfg(feature = "ssr")]
const TEST_KEY: &str = "channel_test";

/// Every channel with how its deliveries go (admin).
#[server(endpoint = "list_channels")]
pub async fn list_channels() -> Result<Vec<ChannelView>, AppError> {
    use crate::server::{auth, service::notifications};
    let actor = auth::require_role(crate::model::Role::Admin).await?;
    let state = auth::app_state()?;
    notifications::channels(&state.pool, &actor).await
}

/// Whether `NIGHTWATCH_PUBLIC_URL` is set, so messages link to full addresses (admin).
#[server(endpoint = "public_url_set")]
pub async fn public_url_set() -> Result<bool, AppError> {
    use crate::server::auth;
    auth::require_role(crate::model::Role::Admin).await?;
    Ok(auth::app_state()?.config.public_url.is_some())
}

/// Saves a channel from its form (admin); an empty `id` adds one. `events` are the ticked
/// events' codes; `services` comma-separated; a blank URL or secret on an edit keeps the
/// stored one.
#[server(endpoint = "save_channel")]
pub async fn save_channel(
    id: String,
    kind: String,
    name: String,
    channel_url: String,
    #[server(default)] secret: String,
    #[server(default)] events: Vec<String>,
    #[server(default)] services: String,
    #[server(default)] min_severity: String,
    #[server(default)] enabled: Option<String>,
) -> Result<(), AppError> {
    use crate::model::notification::ChannelInput;
    use crate::server::{auth, service::notifications};
    let actor = auth::require_role(crate::model::Role::Admin).await?;
    let state = auth::app_state()?;
    let input = ChannelInput::from_form(
        &kind,
        &name,
        &channel_url,
        &secret,
        &events,
        &services,
        &min_severity,
        enabled.is_some(),
    )?;
    let id = Some(id.trim()).filter(|i| !i.is_empty());
    notifications::save_channel(&state.pool, &state.config.step_networks, &actor, id, &input)
        .await?;
    Ok(())
}

/// Deletes a channel with its delivery log (admin).
#[server(endpoint = "delete_channel")]
pub async fn delete_channel(id: String) -> Result<(), AppError> {
    use crate::server::{auth, service::notifications};
    let actor = auth::require_role(crate::model::Role::Admin).await?;
    let state = auth::app_state()?;
    notifications::delete_channel(&state.pool, &actor, id.trim()).await
}

/// Sends a test message to a channel at once and answers how it went (admin).
#[server(endpoint = "test_channel")]
pub async fn test_channel(id: String) -> Result<(String, TestOutcome), AppError> {
    use crate::server::{auth, service::notifications};
    let actor = auth::require_role(crate::model::Role::Admin).await?;
    let state = auth::app_state()?;
    let id = id.trim().to_owned();
    let outcome = notifications::test_channel(&state.pool, &state.outbox, &actor, &id).await?;
    let answer = (id, outcome);
    if super::ssr::is_plain_form_post() {
        auth::current_session()?
            .insert(TEST_KEY, &answer)
            .await
            .map_err(super::ssr::internal)?;
        super::ssr::redirect_plain_form(&format!("/admin/notifications#channel-{}", answer.0));
    }
    Ok(answer)
}

/// The outcome of a test a plain form post just sent, taken out of the session (admin).
#[server(endpoint = "take_channel_test")]
pub async fn take_channel_test() -> Result<Option<(String, TestOutcome)>, AppError> {
    use crate::server::auth;
    auth::require_role(crate::model::Role::Admin).await?;
    auth::current_session()?
        .remove::<(String, TestOutcome)>(TEST_KEY)
        .await
        .map_err(super::ssr::internal)
}

/// Channel `id` and its deliveries, newest first, in `state` (blank: all) (admin).
#[server(endpoint = "channel_log")]
pub async fn channel_log(
    id: String,
    state: String,
) -> Result<(ChannelView, Vec<DeliveryView>), AppError> {
    use crate::server::{auth, service::notifications};
    let actor = auth::require_role(crate::model::Role::Admin).await?;
    let app = auth::app_state()?;
    // An unknown state shows everything rather than refusing the page.
    let state = state.parse().ok();
    let channel = notifications::channel(&app.pool, &actor, id.trim()).await?;
    let log = notifications::deliveries(&app.pool, &actor, id.trim(), state).await?;
    Ok((channel, log))
}

/// Sends dead delivery `delivery` of channel `channel` again now (admin).
#[server(endpoint = "retry_delivery")]
pub async fn retry_delivery(channel: String, delivery: String) -> Result<(), AppError> {
    use crate::server::{auth, service::notifications};
    let actor = auth::require_role(crate::model::Role::Admin).await?;
    let state = auth::app_state()?;
    notifications::retry_delivery(&state.pool, &actor, channel.trim(), delivery.trim()).await
}

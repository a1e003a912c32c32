//! `/api/v1/notification-channels`: the channels Nightwatch notifies (admin), a test message
//! sent at once, and each channel's delivery log with "retry now" — over the same service as
//! Admin → Notifications.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::openapi::{Doc, Op};
use super::{ApiJson, ApiQuery, Problem, Route, caller, created, route};
use crate::model::Role;
use crate::model::notification::{
    ChannelInput, ChannelView, DeliveryState, DeliveryView, TestOutcome,
};
use crate::server::AppState;
use crate::server::actor::Actor;
use crate::server::service::notifications as service;

pub(super) fn routes() -> Vec<Route> {
    vec![
        route(Method::GET, "/notification-channels", list),
        route(Method::POST, "/notification-channels", create),
        route(Method::GET, "/notification-channels/{channel}", read),
        route(Method::PUT, "/notification-channels/{channel}", update),
        route(Method::DELETE, "/notification-channels/{channel}", delete),
        route(Method::POST, "/notification-channels/{channel}/test", test),
        route(
            Method::GET,
            "/notification-channels/{channel}/deliveries",
            deliveries,
        ),
        route(
            Method::POST,
            "/notification-channels/{channel}/deliveries/{delivery}/retry",
            retry,
        ),
    ]
}

/// The operations of this module, for the OpenAPI description.
pub(super) fn describe(doc: &Doc) {
    let channel = doc.schema::<ChannelView>();
    doc.op(Op::new(
        "get",
        "/notification-channels",
        "listNotificationChannels",
        "Every notification channel, by name, with how its deliveries go (secrets never shown; URLs masked).",
        Role::Admin,
        doc.schema::<ChannelList>(),
    ));
    doc.op(Op {
        body: Some(doc.schema::<ChannelInput>()),
        ok: (201, Some(channel.clone())),
        ..Op::new(
            "post",
            "/notification-channels",
            "createNotificationChannel",
            "Add a channel: a signed webhook (whsec_ secret), Slack, Feishu / Lark, DingTalk or WeCom.",
            Role::Admin,
            Value::Null,
        )
    });
    doc.op(Op::new(
        "get",
        "/notification-channels/{channel}",
        "getNotificationChannel",
        "One channel.",
        Role::Admin,
        channel.clone(),
    ));
    doc.op(Op {
        body: Some(doc.schema::<ChannelInput>()),
        ..Op::new(
            "put",
            "/notification-channels/{channel}",
            "replaceNotificationChannel",
            "Replace a channel; a blank url or a missing secret keeps the stored one.",
            Role::Admin,
            channel,
        )
    });
    doc.op(Op {
        ok: (204, None),
        ..Op::new(
            "delete",
            "/notification-channels/{channel}",
            "deleteNotificationChannel",
            "Delete a channel with its delivery log.",
            Role::Admin,
            Value::Null,
        )
    });
    doc.op(Op::new(
        "post",
        "/notification-channels/{channel}/test",
        "testNotificationChannel",
        "Send a test message at once (not through the outbox) and show the receiver's answer.",
        Role::Admin,
        doc.schema::<TestOutcome>(),
    ));
    doc.op(Op {
        query: Some(doc.inline::<DeliveryQuery>()),
        ..Op::new(
            "get",
            "/notification-channels/{channel}/deliveries",
            "listNotificationDeliveries",
            "A channel's deliveries, newest first, at most 200.",
            Role::Admin,
            doc.schema::<DeliveryList>(),
        )
    });
    doc.op(Op {
        ok: (204, None),
        ..Op::new(
            "post",
            "/notification-channels/{channel}/deliveries/{delivery}/retry",
            "retryNotificationDelivery",
            "Send a dead delivery again now (409 when it is not dead).",
            Role::Admin,
            Value::Null,
        )
    });
}

/// Channels, as the API lists them.
#[derive(Serialize, schemars::JsonSchema)]
struct ChannelList {
    items: Vec<ChannelView>,
}

/// Deliveries, as the API lists them.
#[derive(Serialize, schemars::JsonSchema)]
struct DeliveryList {
    items: Vec<DeliveryView>,
}

/// Filters of a delivery log.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct DeliveryQuery {
    /// Only deliveries in this state.
    #[serde(default)]
    state: Option<DeliveryState>,
}

/// `GET /api/v1/notification-channels` (admin).
async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<Json<ChannelList>, Problem> {
    let actor = caller(&actor, Role::Admin)?;
    Ok(Json(ChannelList {
        items: service::channels(&state.pool, &actor).await?,
    }))
}

/// `POST /api/v1/notification-channels` (admin): 201 with the channel.
async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(input): ApiJson<ChannelInput>,
) -> Result<Response, Problem> {
    let actor = caller(&actor, Role::Admin)?;
    let channel = service::save_channel(
        &state.pool,
        &state.config.step_networks,
        &actor,
        None,
        &input,
    )
    .await?;
    Ok(created(
        &format!("/api/v1/notification-channels/{}", channel.id),
        channel,
    ))
}

/// `GET /api/v1/notification-channels/{channel}` (admin).
async fn read(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<ChannelView>, Problem> {
    let actor = caller(&actor, Role::Admin)?;
    Ok(Json(
        service::channel(&state.pool, &actor, id.trim()).await?,
    ))
}

/// `PUT /api/v1/notification-channels/{channel}` (admin).
async fn update(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ChannelInput>,
) -> Result<Json<ChannelView>, Problem> {
    let actor = caller(&actor, Role::Admin)?;
    Ok(Json(
        service::save_channel(
            &state.pool,
            &state.config.step_networks,
            &actor,
            Some(id.trim()),
            &input,
        )
        .await?,
    ))
}

/// `DELETE /api/v1/notification-channels/{channel}` (admin): 204.
async fn delete(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let actor = caller(&actor, Role::Admin)?;
    service::delete_channel(&state.pool, &actor, id.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/notification-channels/{channel}/test` (admin).
async fn test(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<TestOutcome>, Problem> {
    let actor = caller(&actor, Role::Admin)?;
    Ok(Json(
        service::test_channel(&state.pool, &state.outbox, &actor, id.trim()).await?,
    ))
}

/// `GET /api/v1/notification-channels/{channel}/deliveries` (admin).
async fn deliveries(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<DeliveryQuery>,
) -> Result<Json<DeliveryList>, Problem> {
    let actor = caller(&actor, Role::Admin)?;
    Ok(Json(DeliveryList {
        items: service::deliveries(&state.pool, &actor, id.trim(), query.state).await?,
    }))
}

/// `POST /api/v1/notification-channels/{channel}/deliveries/{delivery}/retry` (admin): 204.
async fn retry(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    let actor = caller(&actor, Role::Admin)?;
    service::retry_delivery(&state.pool, &actor, id.trim(), delivery.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `/api/v1/alerts…`: the alert intake. Alertmanager (and Grafana) webhooks, Nightwatch's generic
//! form, and PagerDuty's Events API v2. A delivery is stored in one transaction and answered 202;
//! a malformed one is a 4xx problem (the sender must not retry it); when the database cannot be
//! reached the answer is 503, which Alertmanager retries, so nothing is lost.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use serde_json::Value;

use super::openapi::{Doc, Op};
use super::{ALERT_BODY_LIMIT, ApiJson, Problem, Route, route};
use crate::model::alert::{AlertmanagerPayload, EventsV2, GenericAlert, IncomingAlert};
use crate::model::api_token::TokenScope;
use crate::model::{AppError, FieldError, Role};
use crate::server::AppState;
use crate::server::actor::Actor;
use crate::server::service::alert_rules;
use crate::server::service::alerts::{self, Intake};

pub(super) fn routes() -> Vec<Route> {
    vec![
        route(Method::POST, "/alerts", generic),
        route(Method::POST, "/alerts/alertmanager", alertmanager),
        route(Method::POST, "/alerts/events-v2", events_v2),
    ]
}

/// The operations of this module, for the OpenAPI description.
pub(super) fn describe(doc: &Doc) {
    let answer = doc.schema::<IntakeAnswer>();
    doc.op(Op {
        body: Some(doc.schema::<GenericBody>()),
        ok: (202, Some(answer.clone())),
        ..Op::new(
            "post",
            "/alerts",
            "sendAlerts",
            "Send one alert or a list in Nightwatch's generic form (a token with scope alerts:write, or responder+).",
            Role::Responder,
            Value::Null,
        )
    });
    doc.op(Op {
        body: Some(doc.schema::<AlertmanagerPayload>()),
        ok: (202, Some(answer)),
        ..Op::new(
            "post",
            "/alerts/alertmanager",
            "sendAlertmanagerAlerts",
            "Alertmanager's webhook (webhook_configs url, with http_config.authorization.credentials set to the token), or Grafana Alerting's.",
            Role::Responder,
            Value::Null,
        )
    });
    doc.op(Op {
        body: Some(doc.schema::<EventsV2>()),
        ok: (202, Some(doc.schema::<EventsV2Answer>())),
        ..Op::new(
            "post",
            "/alerts/events-v2",
            "sendEventsV2",
            "A PagerDuty Events API v2 event; the token may come as routing_key instead of an Authorization header.",
            Role::Responder,
            Value::Null,
        )
    });
}

/// One generic alert or a list of them.
#[derive(schemars::JsonSchema)]
#[expect(dead_code, reason = "describes the body for the OpenAPI document only")]
#[serde(untagged)]
enum GenericBody {
    One(GenericAlert),
    Many(Vec<GenericAlert>),
}

/// What a delivery did.
#[derive(Serialize, schemars::JsonSchema)]
struct IntakeAnswer {
    /// Alerts received.
    received: usize,
    /// Risk events opened (their numbers).
    opened: Vec<i64>,
    /// Open events that received their alert again.
    updated: usize,
    /// Risk events resolved.
    resolved: Vec<i64>,
    /// Alerts that touched no event (a resolve of one already resolved).
    ignored: usize,
    /// Alerts of an Alertmanager group that could not be read, by their place: the rest of
    /// the group is stored all the same (a group is refused only when none of it is usable).
    rejected: Vec<FieldError>,
}

impl From<Intake> for IntakeAnswer {
    fn from(i: Intake) -> Self {
        Self {
            received: i.received,
            opened: i.opened,
            updated: i.updated,
            resolved: i.resolved,
            ignored: i.ignored,
            rejected: Vec::new(),
        }
    }
}

/// The Events API v2 answer, as PagerDuty words it.
#[derive(Serialize, schemars::JsonSchema)]
struct EventsV2Answer {
    /// `success`.
    status: &'static str,
    /// `Event processed`.
    message: &'static str,
    /// The alert's identity (made from the payload when the event had none).
    dedup_key: String,
}

/// Who may send alerts: a token scoped to alerts, or one whose role is responder or higher.
fn sender(actor: &Actor) -> Result<(), Problem> {
    let scoped = actor
        .token
        .as_ref()
        .is_some_and(|t| t.scope == TokenScope::AlertsWrite);
    if scoped || actor.allows(Role::Responder) {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "Sending alerts needs a token with scope alerts:write, or a responder's.",
        ))
    }
}

/// Stores a delivery, then lets the rules act on what fired. The delivery is answered once it is
/// stored: a rule that fails is logged (and tried again by the clock), never a reason for the
/// sender to retry.
async fn take(
    state: &AppState,
    actor: &Actor,
    alerts: Vec<IncomingAlert>,
) -> Result<Intake, Problem> {
    let turn = match &state.intake_turns {
        Some(turns) => Some(turns.lock().await),
        None => None,
    };
    let intake = alerts::ingest(&state.pool, actor, alerts).await?;
    drop(turn);
    let firing = intake.firing();
    if !firing.is_empty()
        && let Err(e) = alert_rules::evaluate(state, Some(&firing), chrono::Utc::now()).await
    {
        tracing::warn!(error = e.summary(), "alert rules could not be applied");
    }
    Ok(intake)
}

/// `POST /api/v1/alerts`: one generic alert or a list.
async fn generic(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(body): ApiJson<Value, ALERT_BODY_LIMIT>,
) -> Result<Response, Problem> {
    sender(&actor)?;
    let (items, many) = match body {
        Value::Array(items) => (items, true),
        one @ Value::Object(_) => (vec![one], false),
        _ => {
            return Err(
                AppError::BadRequest("Send an alert object or a list of them.".into()).into(),
            );
        }
    };
    if items.len() > crate::model::alert::BATCH_MAX {
        return Err(AppError::field(
            ".",
            format!(
                "Send at most {} alerts at once.",
                crate::model::alert::BATCH_MAX
            ),
        )
        .into());
    }
    let mut alerts = Vec::with_capacity(items.len());
    let mut errors: Vec<FieldError> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let prefix = if many {
            format!("[{i}].")
        } else {
            String::new()
        };
        match serde_path_to_error::deserialize::<_, GenericAlert>(item) {
            Ok(alert) => match alert.read(&prefix) {
                Ok(alert) => alerts.push(alert),
                Err(mut e) => errors.append(&mut e),
            },
            Err(e) => {
                let path = e.path().to_string();
                let message = e.into_inner().to_string();
                let field = if path == "." {
                    super::missing_field(&message)
                } else {
                    path
                };
                errors.push(FieldError {
                    field: format!("{prefix}{field}").trim_end_matches('.').to_owned(),
                    message,
                });
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors).into());
    }
    let intake = take(&state, &actor, alerts).await?;
    Ok((StatusCode::ACCEPTED, Json(IntakeAnswer::from(intake))).into_response())
}

/// `POST /api/v1/alerts/alertmanager`: Alertmanager's (or Grafana's) webhook.
async fn alertmanager(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(payload): ApiJson<AlertmanagerPayload, ALERT_BODY_LIMIT>,
) -> Result<Response, Problem> {
    sender(&actor)?;
    if let Some(left_out) = payload.truncated_alerts.filter(|n| *n > 0) {
        tracing::warn!(
            left_out,
            "Alertmanager left alerts out of a group (its max_alerts)"
        );
    }
    let (alerts, rejected) = payload.alerts()?;
    if !rejected.is_empty() {
        tracing::warn!(
            rejected = rejected.len(),
            first = %rejected[0].field,
            "alerts of an Alertmanager group could not be read; the rest is stored"
        );
    }
    let intake = take(&state, &actor, alerts).await?;
    let answer = IntakeAnswer {
        rejected,
        ..IntakeAnswer::from(intake)
    };
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}

/// `POST /api/v1/alerts/events-v2`: a PagerDuty Events API v2 event.
async fn events_v2(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(event): ApiJson<EventsV2, ALERT_BODY_LIMIT>,
) -> Result<Response, Problem> {
    sender(&actor)?;
    let alert = event.read()?;
    let dedup_key = alert.fingerprint.clone();
    take(&state, &actor, vec![alert]).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(EventsV2Answer {
            status: "success",
            message: "Event processed",
            dedup_key,
        }),
    )
        .into_response())
}

//! `/api/v1/risk-events`, `/api/v1/silences` and `/api/v1/inhibit-rules`: the risk board's
//! events, acknowledged by people; silences (responder+) and inhibition rules (admin) that mute
//! them, over the same services as the pages.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::{Extension, Json};
use serde::Serialize;
use serde_json::Value;

use super::openapi::{Doc, Op};
use super::{ApiJson, ApiQuery, Problem, Route, caller, created, route};
use crate::model::alert::{RiskEvent, RiskQuery};
use crate::model::alert_rule::{AlertRule, RuleInput};
use crate::model::matcher::{InhibitRule, Matcher, NewSilence, Silence};
use crate::model::{AppError, Role};
use crate::server::AppState;
use crate::server::actor::Actor;
use crate::server::service::{alert_rules, alerts};

pub(super) fn routes() -> Vec<Route> {
    vec![
        route(Method::GET, "/risk-events", list_events),
        route(Method::GET, "/risk-events/{number}", read_event),
        route(
            Method::POST,
            "/risk-events/{number}/acknowledge",
            acknowledge_event,
        ),
        route(Method::GET, "/silences", list_silences),
        route(Method::POST, "/silences", create_silence),
        route(Method::GET, "/silences/{silence}", read_silence),
        route(Method::DELETE, "/silences/{silence}", end_silence),
        route(Method::GET, "/inhibit-rules", list_rules),
        route(Method::POST, "/inhibit-rules", create_rule),
        route(Method::DELETE, "/inhibit-rules/{rule}", delete_rule),
        route(Method::GET, "/alert-rules", list_alert_rules),
        route(Method::POST, "/alert-rules", create_alert_rule),
        route(Method::PUT, "/alert-rules/{rule}", update_alert_rule),
        route(Method::DELETE, "/alert-rules/{rule}", delete_alert_rule),
    ]
}

/// The operations of this module, for the OpenAPI description.
pub(super) fn describe(doc: &Doc) {
    let event = doc.schema::<RiskEvent>();
    let silence = doc.schema::<Silence>();
    let rule = doc.schema::<InhibitRule>();
    doc.op(Op {
        query: Some(doc.inline::<RiskQuery>()),
        ..Op::new(
            "get",
            "/risk-events",
            "listRiskEvents",
            "Risk events of one tab (open by default), most severe and most recent first, at most 500.",
            Role::Viewer,
            doc.schema::<EventList>(),
        )
    });
    doc.op(Op::new(
        "get",
        "/risk-events/{number}",
        "getRiskEvent",
        "One risk event.",
        Role::Viewer,
        event.clone(),
    ));
    doc.op(Op::new(
        "post",
        "/risk-events/{number}/acknowledge",
        "acknowledgeRiskEvent",
        "Say someone is on it (again is a no-op; a resolved event is a 409).",
        Role::Responder,
        event,
    ));
    doc.op(Op::new(
        "get",
        "/silences",
        "listSilences",
        "Silences active, pending, or ended in the last day.",
        Role::Viewer,
        doc.schema::<SilenceList>(),
    ));
    doc.op(Op {
        body: Some(doc.schema::<NewSilence>()),
        ok: (201, Some(silence.clone())),
        ..Op::new(
            "post",
            "/silences",
            "createSilence",
            "Mute alerts matching every matcher from starts_at (default now) to ends_at.",
            Role::Responder,
            Value::Null,
        )
    });
    doc.op(Op::new(
        "get",
        "/silences/{silence}",
        "getSilence",
        "One silence.",
        Role::Viewer,
        silence.clone(),
    ));
    doc.op(Op::new(
        "delete",
        "/silences/{silence}",
        "endSilence",
        "End a silence now (ending one already over changes nothing).",
        Role::Responder,
        silence,
    ));
    doc.op(Op::new(
        "get",
        "/inhibit-rules",
        "listInhibitRules",
        "Every inhibition rule.",
        Role::Viewer,
        doc.schema::<RuleList>(),
    ));
    doc.op(Op {
        body: Some(doc.schema::<NewRule>()),
        ok: (201, Some(rule)),
        ..Op::new(
            "post",
            "/inhibit-rules",
            "createInhibitRule",
            "While an alert matching source_matchers fires, mute alerts matching target_matchers that agree with it on every equal label.",
            Role::Admin,
            Value::Null,
        )
    });
    let alert_rule = doc.schema::<AlertRule>();
    doc.op(Op::new(
        "get",
        "/alert-rules",
        "listAlertRules",
        "Every alert rule, in the order they are tried (the first matching rule decides).",
        Role::Viewer,
        doc.schema::<AlertRuleList>(),
    ));
    doc.op(Op {
        body: Some(doc.schema::<RuleInput>()),
        ok: (201, Some(alert_rule.clone())),
        ..Op::new(
            "post",
            "/alert-rules",
            "createAlertRule",
            "Declare an incident and/or run a self-recovery plan for events matching every matcher.",
            Role::Admin,
            Value::Null,
        )
    });
    doc.op(Op {
        body: Some(doc.schema::<RuleInput>()),
        ..Op::new(
            "put",
            "/alert-rules/{rule}",
            "replaceAlertRule",
            "Replace an alert rule.",
            Role::Admin,
            alert_rule,
        )
    });
    doc.op(Op {
        ok: (204, None),
        ..Op::new(
            "delete",
            "/alert-rules/{rule}",
            "deleteAlertRule",
            "Delete an alert rule.",
            Role::Admin,
            Value::Null,
        )
    });
    doc.op(Op {
        ok: (204, None),
        ..Op::new(
            "delete",
            "/inhibit-rules/{rule}",
            "deleteInhibitRule",
            "Delete an inhibition rule: what it muted is unmuted.",
            Role::Admin,
            Value::Null,
        )
    });
}

/// Alert rules, as the API lists them (in order).
#[derive(Serialize, schemars::JsonSchema)]
struct AlertRuleList {
    items: Vec<AlertRule>,
}

/// Risk events, as the API lists them.
#[derive(Serialize, schemars::JsonSchema)]
struct EventList {
    items: Vec<RiskEvent>,
}

/// Silences, as the API lists them.
#[derive(Serialize, schemars::JsonSchema)]
struct SilenceList {
    items: Vec<Silence>,
}

/// Inhibition rules, as the API lists them.
#[derive(Serialize, schemars::JsonSchema)]
struct RuleList {
    items: Vec<InhibitRule>,
}

/// A new inhibition rule.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewRule {
    /// A name to recognise it by.
    name: String,
    /// What the muting alert matches.
    source_matchers: Vec<Matcher>,
    /// What the muted alerts match.
    target_matchers: Vec<Matcher>,
    /// Labels source and target must agree on.
    #[serde(default)]
    equal: Vec<String>,
}

/// `RISK-7` or `7`.
fn number(raw: &str) -> Result<i64, Problem> {
    crate::model::alert::parse_risk_number(raw).ok_or_else(|| Problem::from(AppError::NotFound))
}

/// `GET /api/v1/risk-events` (viewer+).
async fn list_events(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiQuery(query): ApiQuery<RiskQuery>,
) -> Result<Json<EventList>, Problem> {
    caller(&actor, Role::Viewer)?;
    let filter = query.check()?;
    Ok(Json(EventList {
        items: alerts::list(&state.pool, &filter).await?,
    }))
}

/// `GET /api/v1/risk-events/{number}` (viewer+).
async fn read_event(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
) -> Result<Json<RiskEvent>, Problem> {
    caller(&actor, Role::Viewer)?;
    Ok(Json(alerts::read(&state.pool, number(&raw)?).await?))
}

/// `POST /api/v1/risk-events/{number}/acknowledge` (responder+).
async fn acknowledge_event(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
) -> Result<Json<RiskEvent>, Problem> {
    let actor = caller(&actor, Role::Responder)?;
    Ok(Json(
        alerts::acknowledge(&state.pool, &actor, number(&raw)?).await?,
    ))
}

/// `GET /api/v1/silences` (viewer+).
async fn list_silences(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<Json<SilenceList>, Problem> {
    caller(&actor, Role::Viewer)?;
    Ok(Json(SilenceList {
        items: alerts::silences(&state.pool).await?,
    }))
}

/// `POST /api/v1/silences` (responder+): 201 with the silence.
async fn create_silence(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(new): ApiJson<NewSilence>,
) -> Result<Response, Problem> {
    let actor = caller(&actor, Role::Responder)?;
    let silence = alerts::create_silence(&state.pool, &actor, &new).await?;
    Ok(created(
        &format!("/api/v1/silences/{}", silence.id),
        silence,
    ))
}

/// `GET /api/v1/silences/{silence}` (viewer+).
async fn read_silence(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Silence>, Problem> {
    caller(&actor, Role::Viewer)?;
    Ok(Json(alerts::silence(&state.pool, id.trim()).await?))
}

/// `DELETE /api/v1/silences/{silence}` (responder+): ends it now.
async fn end_silence(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Silence>, Problem> {
    let actor = caller(&actor, Role::Responder)?;
    Ok(Json(
        alerts::end_silence(&state.pool, &actor, id.trim()).await?,
    ))
}

/// `GET /api/v1/inhibit-rules` (viewer+).
async fn list_rules(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<Json<RuleList>, Problem> {
    caller(&actor, Role::Viewer)?;
    Ok(Json(RuleList {
        items: alerts::inhibit_rules(&state.pool).await?,
    }))
}

/// `POST /api/v1/inhibit-rules` (admin): 201 with the rule.
async fn create_rule(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(new): ApiJson<NewRule>,
) -> Result<Response, Problem> {
    let actor = caller(&actor, Role::Admin)?;
    let rule = alerts::save_inhibit_rule(
        &state.pool,
        &actor,
        InhibitRule {
            id: String::new(),
            name: new.name,
            source_matchers: new.source_matchers,
            target_matchers: new.target_matchers,
            equal: new.equal,
        },
    )
    .await?;
    Ok(created(&format!("/api/v1/inhibit-rules/{}", rule.id), rule))
}

/// `DELETE /api/v1/inhibit-rules/{rule}` (admin): 204.
async fn delete_rule(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, Problem> {
    let actor = caller(&actor, Role::Admin)?;
    alerts::delete_inhibit_rule(&state.pool, &actor, id.trim()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `GET /api/v1/alert-rules` (viewer+).
async fn list_alert_rules(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<Json<AlertRuleList>, Problem> {
    caller(&actor, Role::Viewer)?;
    Ok(Json(AlertRuleList {
        items: alert_rules::list(&state.pool).await?,
    }))
}

/// `POST /api/v1/alert-rules` (admin): 201 with the rule.
async fn create_alert_rule(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<Response, Problem> {
    let actor = caller(&actor, Role::Admin)?;
    let rule = alert_rules::save(&state.pool, &actor, None, &input).await?;
    Ok(created(&format!("/api/v1/alert-rules/{}", rule.id), rule))
}

/// `PUT /api/v1/alert-rules/{rule}` (admin).
async fn update_alert_rule(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<Json<AlertRule>, Problem> {
    let actor = caller(&actor, Role::Admin)?;
    Ok(Json(
        alert_rules::save(&state.pool, &actor, Some(id.trim()), &input).await?,
    ))
}

/// `DELETE /api/v1/alert-rules/{rule}` (admin): 204.
async fn delete_alert_rule(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, Problem> {
    let actor = caller(&actor, Role::Admin)?;
    alert_rules::delete(&state.pool, &actor, id.trim()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

//! `/api/v1/incidents`: list, declare, read, and every change a commander or responder makes,
//! over the same services as the incident pages.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::openapi::{Doc, Op};
use super::{ApiJson, ApiQuery, Problem, Route, caller, created, route};
use crate::model::incident::{IncidentNumber, IncidentRole, IncidentStatus, Severity};
use crate::model::incident_input::NewIncident;
use crate::model::incident_views::{IncidentDetail, IncidentFilter, IncidentSummary};
use crate::model::timeline::{EventData, TimelineEvent};
use crate::model::{AppError, Role};
use crate::server::AppState;
use crate::server::actor::Actor;
use crate::server::repo::incidents as repo;
use crate::server::service::{incidents, postmortems};
use serde_json::Value;

pub(super) fn routes() -> Vec<Route> {
    vec![
        route(Method::GET, "/incidents", list),
        route(Method::POST, "/incidents", declare),
        route(Method::GET, "/incidents/{number}", read),
        route(Method::POST, "/incidents/{number}/transitions", transition),
        route(Method::POST, "/incidents/{number}/notes", add_note),
        route(
            Method::POST,
            "/incidents/{number}/severity",
            change_severity,
        ),
        route(Method::POST, "/incidents/{number}/roles", assign_role),
        route(Method::GET, "/incidents/{number}/timeline", timeline),
        route(Method::GET, "/incidents/{number}/postmortem", postmortem),
        route(
            Method::GET,
            "/incidents/{number}/postmortem.md",
            postmortem_markdown,
        ),
    ]
}

/// The operations of this module, for the OpenAPI description.
pub(super) fn describe(doc: &Doc) {
    let incident = doc.schema::<IncidentJson>();
    doc.op(Op {
        query: Some(doc.inline::<IncidentFilter>()),
        ..Op::new("get", "/incidents", "listIncidents", "A page of incidents, newest first, with counts per status and the next page's address.", Role::Viewer, doc.schema::<IncidentPage>())
    });
    doc.op(Op {
        body: Some(doc.schema::<Declaration>()),
        ok: (201, Some(incident.clone())),
        ..Op::new(
            "post",
            "/incidents",
            "declareIncident",
            "Declare an incident.",
            Role::Responder,
            Value::Null,
        )
    });
    doc.op(Op::new(
        "get",
        "/incidents/{number}",
        "getIncident",
        "One incident with its version and lifecycle instants.",
        Role::Viewer,
        incident.clone(),
    ));
    doc.op(Op {
        body: Some(doc.schema::<Transition>()),
        ..Op::new(
            "post",
            "/incidents/{number}/transitions",
            "transitionIncident",
            "Move the incident to another status, with a note.",
            Role::Commander,
            incident.clone(),
        )
    });
    doc.op(Op {
        body: Some(doc.schema::<Note>()),
        ok: (201, Some(doc.schema::<EntryJson>())),
        ..Op::new(
            "post",
            "/incidents/{number}/notes",
            "addNote",
            "Add a note (or a correction of an entry) to the timeline.",
            Role::Responder,
            Value::Null,
        )
    });
    doc.op(Op {
        body: Some(doc.schema::<SeverityChange>()),
        ..Op::new(
            "post",
            "/incidents/{number}/severity",
            "changeSeverity",
            "Change the severity, with a note.",
            Role::Commander,
            incident.clone(),
        )
    });
    doc.op(Op {
        body: Some(doc.schema::<RoleChange>()),
        ..Op::new(
            "post",
            "/incidents/{number}/roles",
            "assignRole",
            "Give a role to a person, or clear it.",
            Role::Commander,
            incident,
        )
    });
    doc.op(Op::new(
        "get",
        "/incidents/{number}/timeline",
        "getTimeline",
        "The timeline, in the order things happened.",
        Role::Viewer,
        doc.schema::<Timeline>(),
    ));
    doc.op(Op::new(
        "get",
        "/incidents/{number}/postmortem",
        "getPostmortem",
        "The postmortem: state, version, document, durations and action items.",
        Role::Viewer,
        doc.schema::<PostmortemJson>(),
    ));
    doc.op(Op {
        ok: (200, None),
        ..Op::new(
            "get",
            "/incidents/{number}/postmortem.md",
            "getPostmortemMarkdown",
            "The postmortem report as Markdown.",
            Role::Viewer,
            Value::Null,
        )
    });
}

/// An incident as the API shows it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct IncidentJson {
    /// `INC-42`.
    pub number: String,
    /// Title.
    pub title: String,
    /// `sev1` … `sev4`.
    pub severity: Severity,
    /// `open`, `mitigating`, `recovered`, `reviewed`.
    pub status: IncidentStatus,
    /// Affected services.
    pub services: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Usernames holding the roles.
    pub commander: Option<String>,
    /// Scribe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scribe: Option<String>,
    /// Communications lead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communications: Option<String>,
    /// Description (detail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Detected.
    pub detected_at: DateTime<Utc>,
    /// Lifecycle instants (detail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamps: Option<crate::model::incident::Timestamps>,
    /// Moves with every change of a fact; send it as `based_on_version` to refuse a change
    /// made on a stale view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// Whether its postmortem is published (detail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postmortem_published: Option<bool>,
    /// Its address in the API.
    pub url: String,
}

impl From<&IncidentSummary> for IncidentJson {
    fn from(s: &IncidentSummary) -> Self {
        Self {
            number: s.number.to_string(),
            title: s.title.clone(),
            severity: s.severity,
            status: s.status,
            services: s.services.clone(),
            tags: s.tags.clone(),
            commander: s.commander.clone(),
            scribe: None,
            communications: None,
            description: None,
            detected_at: s.detected_at,
            timestamps: None,
            version: None,
            postmortem_published: None,
            url: url(s.number),
        }
    }
}

impl From<&IncidentDetail> for IncidentJson {
    fn from(d: &IncidentDetail) -> Self {
        Self {
            scribe: d.scribe.clone(),
            communications: d.communications.clone(),
            description: Some(d.description.clone()),
            timestamps: Some(d.timestamps),
            version: Some(d.version),
            postmortem_published: Some(d.postmortem_published),
            ..Self::from(&d.summary)
        }
    }
}

/// A timeline entry as the API shows it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct EntryJson {
    /// Its number on the incident's timeline (1, 2, …).
    pub seq: i64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When it was written.
    pub recorded_at: DateTime<Utc>,
    /// Who wrote it (`system` for the server itself).
    pub author: String,
    /// The `seq` of the entry it corrects, if it is a correction.
    pub corrects: Option<i64>,
    /// What happened: `kind` and its fields.
    pub event: EventData,
}

fn entries(timeline: &[TimelineEvent]) -> Vec<EntryJson> {
    timeline
        .iter()
        .map(|e| EntryJson {
            seq: e.seq,
            occurred_at: e.occurred_at,
            recorded_at: e.recorded_at,
            author: e.author.clone().unwrap_or_else(|| "system".to_owned()),
            corrects: e
                .corrects
                .and_then(|id| timeline.iter().find(|c| c.id == id).map(|c| c.seq)),
            event: e.data.clone(),
        })
        .collect()
}

/// The API address of incident `number`.
pub fn url(number: IncidentNumber) -> String {
    format!("/api/v1/incidents/{number}")
}

fn number(raw: &str) -> Result<IncidentNumber, Problem> {
    raw.parse().map_err(|_| Problem::from(AppError::NotFound))
}

async fn detail(state: &AppState, number: IncidentNumber) -> Result<IncidentDetail, Problem> {
    Ok(repo::find_detail(&state.pool, number)
        .await?
        .ok_or(AppError::NotFound)?)
}

/// A page of incidents.
#[derive(Serialize, schemars::JsonSchema)]
struct IncidentPage {
    items: Vec<IncidentJson>,
    /// How many match the other filters, per status.
    counts: std::collections::BTreeMap<&'static str, i64>,
    /// The next page's address, or null on the last page.
    next: Option<String>,
}

/// `GET /api/v1/incidents`: newest first unless `sort` says otherwise; `next` (and a `Link:
/// rel="next"` header) leads to the following page.
async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiQuery(filter): ApiQuery<IncidentFilter>,
) -> Result<Response, Problem> {
    caller(&actor, Role::Viewer)?;
    filter.check()?;
    let page = repo::list(&state.pool, &filter).await?;
    let next = page.next.as_ref().map(|cursor| {
        let params: Vec<(&str, &str)> = [
            ("status", filter.status.as_str()),
            ("severity", filter.severity.as_str()),
            ("service", filter.service.as_str()),
            ("tag", filter.tag.as_str()),
            ("q", filter.q.as_str()),
            ("sort", filter.sort.as_str()),
            ("after", cursor.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        format!("/api/v1/incidents?{query}")
    });
    let body = IncidentPage {
        items: page.items.iter().map(IncidentJson::from).collect(),
        counts: page.counts.iter().map(|(s, n)| (s.as_str(), *n)).collect(),
        next: next.clone(),
    };
    let mut res = Json(body).into_response();
    if let Some(link) =
        next.and_then(|n| HeaderValue::from_str(&format!("<{n}>; rel=\"next\"")).ok())
    {
        res.headers_mut().insert(header::LINK, link);
    }
    Ok(res)
}

/// A declaration: as the declare form, with lists as lists.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Declaration {
    /// What is wrong, in a few words.
    title: String,
    /// What is known so far.
    #[serde(default)]
    description: String,
    /// `sev1` (worst) … `sev4`.
    #[schemars(with = "Severity")]
    severity: String,
    /// Affected services (at least one).
    services: Vec<String>,
    /// Free tags.
    #[serde(default)]
    tags: Vec<String>,
    /// When it was detected (RFC 3339, not in the future); now when absent.
    #[serde(default)]
    #[schemars(with = "Option<DateTime<Utc>>")]
    detected_at: Option<String>,
    /// When customer impact began (RFC 3339, at or before detection), if known.
    #[serde(default)]
    #[schemars(with = "Option<DateTime<Utc>>")]
    impact_started_at: Option<String>,
}

/// `POST /api/v1/incidents` (responder+): 201 with the incident and its `Location`.
async fn declare(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(body): ApiJson<Declaration>,
) -> Result<Response, Problem> {
    let actor = caller(&actor, Role::Responder)?;
    let new = NewIncident::parse_with_impact(
        &body.title,
        &body.description,
        &body.severity,
        &body.services.join(","),
        &body.tags.join(","),
        body.detected_at.as_deref().unwrap_or(""),
        body.impact_started_at.as_deref().unwrap_or(""),
        Utc::now(),
    )?;
    let number = incidents::declare(&state.pool, &actor, &new).await?;
    let incident = detail(&state, number).await?;
    Ok(created(&url(number), IncidentJson::from(&incident)))
}

/// `GET /api/v1/incidents/{number}` (viewer+): `INC-42` or `42`.
async fn read(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
) -> Result<Json<IncidentJson>, Problem> {
    caller(&actor, Role::Viewer)?;
    as_it_stands(&state, number(&raw)?).await
}

/// The incident a change starts from, refused when the caller sent a `based_on_version` it has
/// moved past.
async fn seen_at(
    state: &AppState,
    number: IncidentNumber,
    based_on: Option<i64>,
) -> Result<IncidentDetail, Problem> {
    let incident = detail(state, number).await?;
    match based_on {
        Some(v) if v != incident.version => Err(AppError::Conflict(format!(
            "{} changed since version {v} (it is at version {} now): read it again, then decide.",
            incident.summary.number, incident.version
        ))
        .into()),
        _ => Ok(incident),
    }
}

/// The answer to a change: the incident as it now stands.
async fn as_it_stands(
    state: &AppState,
    number: IncidentNumber,
) -> Result<Json<IncidentJson>, Problem> {
    Ok(Json(IncidentJson::from(&detail(state, number).await?)))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Transition {
    /// The status to move to.
    #[schemars(with = "IncidentStatus")]
    to: String,
    note: String,
    #[serde(default)]
    based_on_version: Option<i64>,
}

/// `POST /api/v1/incidents/{number}/transitions` (commander+): the same moves as the page.
async fn transition(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Transition>,
) -> Result<Json<IncidentJson>, Problem> {
    let actor = caller(&actor, Role::Commander)?;
    let number = number(&raw)?;
    let to: IncidentStatus = AppError::parse_field("to", &body.to)?;
    let seen = seen_at(&state, number, body.based_on_version).await?;
    incidents::transition(
        &state.pool,
        &actor,
        number,
        seen.summary.status,
        to,
        &body.note,
    )
    .await?;
    as_it_stands(&state, number).await
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Note {
    /// The note.
    body: String,
    /// When it happened (RFC 3339, not in the future); now when absent.
    #[serde(default)]
    #[schemars(with = "Option<DateTime<Utc>>")]
    occurred_at: Option<String>,
    /// The `seq` of the entry this note corrects.
    #[serde(default)]
    corrects: Option<i64>,
}

/// `POST /api/v1/incidents/{number}/notes` (responder+): 201 with the timeline.
async fn add_note(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Note>,
) -> Result<Response, Problem> {
    let actor = caller(&actor, Role::Responder)?;
    let number = number(&raw)?;
    let corrects = match body.corrects {
        None => None,
        Some(seq) => {
            let seen = detail(&state, number).await?;
            Some(
                seen.timeline
                    .iter()
                    .find(|e| e.seq == seq)
                    .map(|e| e.id.to_string())
                    .ok_or_else(|| {
                        AppError::field("corrects", "There is no such entry on this timeline.")
                    })?,
            )
        }
    };
    let written = incidents::add_note(
        &state.pool,
        &actor,
        number,
        &body.body,
        body.occurred_at.as_deref().unwrap_or(""),
        corrects.as_deref(),
    )
    .await?;
    let incident = detail(&state, number).await?;
    let position = incident
        .timeline
        .iter()
        .position(|e| e.id == written)
        .ok_or(AppError::Internal)?;
    let entry = entries(&incident.timeline).swap_remove(position);
    Ok(created(&format!("{}/timeline", url(number)), entry))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SeverityChange {
    /// The new severity.
    #[schemars(with = "Severity")]
    severity: String,
    note: String,
    #[serde(default)]
    based_on_version: Option<i64>,
}

/// `POST /api/v1/incidents/{number}/severity` (commander+).
async fn change_severity(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<SeverityChange>,
) -> Result<Json<IncidentJson>, Problem> {
    let actor = caller(&actor, Role::Commander)?;
    let number = number(&raw)?;
    let to: Severity = AppError::parse_field("severity", &body.severity)?;
    let seen = seen_at(&state, number, body.based_on_version).await?;
    incidents::change_severity(
        &state.pool,
        &actor,
        number,
        seen.summary.severity,
        to,
        &body.note,
    )
    .await?;
    as_it_stands(&state, number).await
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RoleChange {
    /// `commander`, `scribe` or `communications`.
    #[schemars(with = "IncidentRole")]
    role: String,
    /// Who takes it; null or empty clears it.
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    based_on_version: Option<i64>,
}

/// `POST /api/v1/incidents/{number}/roles` (commander+).
async fn assign_role(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<RoleChange>,
) -> Result<Json<IncidentJson>, Problem> {
    let actor = caller(&actor, Role::Commander)?;
    let number = number(&raw)?;
    let role: IncidentRole = AppError::parse_field("role", &body.role)?;
    let seen = seen_at(&state, number, body.based_on_version).await?;
    let holder = match role {
        IncidentRole::Commander => seen.summary.commander.clone(),
        IncidentRole::Scribe => seen.scribe.clone(),
        IncidentRole::Communications => seen.communications.clone(),
    };
    incidents::assign_role(
        &state.pool,
        &actor,
        number,
        role,
        holder.as_deref().unwrap_or(""),
        body.username.as_deref().unwrap_or(""),
    )
    .await?;
    as_it_stands(&state, number).await
}

#[derive(Serialize, schemars::JsonSchema)]
struct Timeline {
    items: Vec<EntryJson>,
}

/// `GET /api/v1/incidents/{number}/timeline` (viewer+), in the order things happened.
async fn timeline(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
) -> Result<Json<Timeline>, Problem> {
    caller(&actor, Role::Viewer)?;
    let incident = detail(&state, number(&raw)?).await?;
    Ok(Json(Timeline {
        items: entries(&incident.timeline),
    }))
}

/// An incident's postmortem as the API shows it.
#[derive(Serialize, schemars::JsonSchema)]
struct PostmortemJson {
    /// `INC-42`.
    incident: String,
    /// `draft`, `in_review` or `published`.
    state: crate::model::postmortem::PostmortemState,
    /// Moves with every save.
    version: i64,
    /// Impact, timeline picks, five whys, root causes, lessons.
    document: crate::model::postmortem::PostmortemDoc,
    /// Detected → mitigated / recovered.
    durations: crate::model::postmortem::ImpactDurations,
    /// Its corrective and preventive actions.
    action_items: Vec<crate::model::action_item::ActionItemView>,
}

/// `GET /api/v1/incidents/{number}/postmortem` (viewer+): the document, its state and version.
async fn postmortem(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
) -> Result<Response, Problem> {
    let actor = caller(&actor, Role::Viewer)?;
    let page = postmortems::page(&state.pool, &actor, number(&raw)?).await?;
    let postmortem = page.postmortem.ok_or(AppError::NotFound)?;
    Ok(Json(PostmortemJson {
        incident: page.incident.summary.number.to_string(),
        state: postmortem.state,
        version: postmortem.version,
        document: postmortem.doc,
        durations: page.durations,
        action_items: page.actions,
    })
    .into_response())
}

/// `GET /api/v1/incidents/{number}/postmortem.md` (viewer+): the report as Markdown.
async fn postmortem_markdown(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
) -> Result<Response, Problem> {
    caller(&actor, Role::Viewer)?;
    let (name, body) = postmortems::markdown(&state.pool, number(&raw)?).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

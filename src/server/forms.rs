//! HTTP endpoints that are not server functions: the postmortem form's plain submit (JavaScript
//! off: repeated and indexed fields that server functions' encodings do not read) and the
//! postmortem's Markdown download.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::model::incident::IncidentNumber;
use crate::model::postmortem_form::{PostmortemForm, WhyOp};
use crate::model::{AppError, Role};
use crate::server::AppState;
use crate::server::actor::Actor;
use crate::server::auth::{check_role, session_user};
use crate::server::plain_forms;
use crate::server::router::see_other;
use crate::server::service::postmortems;

async fn caller(state: &AppState, session: &Session, role: Role) -> Result<Actor, AppError> {
    check_role(
        session_user(&state.pool, session).await?.map(Actor::from),
        role,
    )
}

/// The first value of field `name` in a posted form.
fn first_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn number(raw: &str) -> Result<IncidentNumber, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// `POST /incidents/{number}/postmortem/save`: the form without JavaScript. Saves the document
/// (applying a 5-whys button's edit first) and sends the browser back to the form; a save that
/// is refused is kept for its author, and the form shows it beside the stored version.
pub async fn save_postmortem(
    State(state): State<AppState>,
    session: Session,
    Path(raw): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let value = |name: &str| first_value(&pairs, name);
    let result = async {
        let actor = caller(&state, &session, Role::Responder).await?;
        let number = number(&raw)?;
        let page = format!("/incidents/{number}/postmortem");
        if value("intent") == Some("discard") {
            postmortems::discard_draft(&state.pool, &actor, number).await?;
            return Ok(page);
        }
        let based_on: i64 = value("version")
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| AppError::BadRequest("the form has no version".into()))?;
        let mut form = PostmortemForm::from_pairs(&pairs);
        let op = value("op").and_then(WhyOp::parse);
        // A full chain refuses to grow; the save below still keeps the rest of the text.
        let _ = op.map(|op| op.apply(&mut form.whys));
        let doc = form.to_doc().map_err(|m| AppError::field("whys", m))?;
        // A refused save (someone saved first, a section too long) is kept for its author and
        // shown by the page beside the stored version: back to the form, without "saved". Any
        // other failure kept nothing and is answered as the error it is.
        let saved = match postmortems::save(&state.pool, &actor, number, &doc, based_on).await {
            Ok(_) => true,
            Err(AppError::Conflict(_) | AppError::Validation(_)) => false,
            Err(e) => return Err(e),
        };
        Ok(match (op, saved) {
            (Some(_), _) => format!("{page}#whys"),
            (None, true) => format!("{page}?saved"),
            (None, false) => page,
        })
    }
    .await;
    match result {
        Ok(location) => see_other(&location),
        Err(AppError::Unauthorized) => see_other("/login"),
        Err(e) => e.into_response(),
    }
}

/// `GET /incidents/{number}/postmortem.md`: the report as a Markdown download (viewer+).
pub async fn postmortem_markdown(
    State(state): State<AppState>,
    session: Session,
    Path(raw): Path<String>,
) -> Response {
    let result = async {
        caller(&state, &session, Role::Viewer).await?;
        let number = number(raw.trim_end_matches(".md"))?;
        crate::server::service::postmortems::markdown(&state.pool, number).await
    }
    .await;
    match result {
        Ok((name, body)) => (
            [
                (
                    header::CONTENT_TYPE,
                    "text/markdown; charset=utf-8".to_owned(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            body,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /plans/{number}/run`: "Run now" (responder+). Every `steps.N.name` field answers an open
/// parameter, `incident` names the incident it runs for. Goes to the new run's page; refused
/// answers go back to the plan's form with each message beside its field and the values typed
/// kept (secrets excepted: they are never put in a URL).
pub async fn run_plan(
    State(state): State<AppState>,
    session: Session,
    Path(plan): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let answers: std::collections::BTreeMap<String, String> = pairs
        .iter()
        .filter(|(k, _)| k.starts_with("steps."))
        .cloned()
        .collect();
    let incident = first_value(&pairs, "incident")
        .filter(|v| !v.trim().is_empty())
        .map(str::to_owned);
    let result = async {
        let actor = caller(&state, &session, Role::Responder).await?;
        crate::server::service::runs::start(&state, &actor, plan, &answers, incident.as_deref())
            .await
    }
    .await;
    // Refused answers go back to the plan's form, signed, with each message beside its field
    // and what was typed (secrets excepted).
    let back = async |error: &AppError| {
        let mut target = format!("/plans/{plan}");
        if let Some(i) = &incident {
            target.push_str("?incident=");
            target.extend(url::form_urlencoded::byte_serialize(i.as_bytes()));
        }
        target.push_str("#run");
        match state.feedback_key().await {
            Ok(key) => see_other(&plain_forms::location(
                &key,
                &target,
                "run_plan",
                Err(error),
                &pairs,
            )),
            Err(e) => e.into_response(),
        }
    };
    match result {
        Ok(run) => see_other(&format!("/runs/{run}")),
        Err(AppError::Unauthorized) => see_other("/login"),
        Err(AppError::NotFound) => AppError::NotFound.into_response(),
        Err(AppError::Forbidden) => {
            back(&AppError::Conflict(
                "Running a plan needs the responder role.".into(),
            ))
            .await
        }
        Err(e) => back(&e).await,
    }
}

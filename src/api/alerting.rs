//! Silences (responder+), inhibition rules and alert rules (admin), as their pages use them, with
//! the preview of which firing events a set of matchers picks out.

// The rule form has a field per argument; the server macro copies the signature into the
// browser's stub, where no attribute on the function reaches.
#![allow(
    clippy::too_many_arguments,
    reason = "one server function argument per form field"
)]

use leptos::prelude::*;

use crate::model::AppError;
use crate::model::alert_rule::AlertRule;
use crate::model::matcher::{InhibitRule, Silence};

/// Silences active, pending, or ended in the last day (viewer+).
#[server(endpoint = "list_silences")]
pub async fn list_silences() -> Result<Vec<Silence>, AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::alerts};
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    alerts::silences(&state.pool).await
}

/// The firing events `matchers` (one per line) would match now: number and summary (viewer+).
#[server(endpoint = "preview_matchers")]
pub async fn preview_matchers(matchers: String) -> Result<Vec<(i64, String)>, AppError> {
    use crate::model::Role;
    use crate::model::matcher::{MatcherSet, parse_matchers};
    use crate::server::{auth, service::alerts};
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    let parsed = parse_matchers(&matchers).map_err(|m| AppError::field("matchers", m))?;
    let set = MatcherSet::compile(&parsed, "matchers")?;
    let numbers = alerts::preview(&state.pool, &set).await?;
    let mut out = Vec::new();
    for n in numbers.into_iter().take(50) {
        if let Ok(e) = alerts::read(&state.pool, n).await {
            out.push((n, e.summary));
        }
    }
    Ok(out)
}

/// Silences what `matchers` match for `hours` (responder+).
#[server(endpoint = "create_silence")]
pub async fn create_silence(
    matchers: String,
    hours: String,
    comment: String,
) -> Result<(), AppError> {
    silence_from_form(&matchers, &hours, comment).await
}

/// A silence from its form's fields (matchers one per line, hours from now), as the caller
/// (responder+).
#[cfg(feature = "ssr")]
pub(crate) async fn silence_from_form(
    matchers: &str,
    hours: &str,
    comment: String,
) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::model::matcher::{NewSilence, parse_matchers};
    use crate::server::{auth, service::alerts};
    let actor = auth::require_role(Role::Responder).await?;
    let state = auth::app_state()?;
    let matchers = parse_matchers(matchers).map_err(|m| AppError::field("matchers", m))?;
    let ends_at = super::ssr::hours_from_now(hours)?;
    let new = NewSilence {
        matchers,
        starts_at: None,
        ends_at,
        comment,
    };
    alerts::create_silence(&state.pool, &actor, &new).await?;
    Ok(())
}

/// Ends a silence now (responder+).
#[server(endpoint = "end_silence")]
pub async fn end_silence(id: String) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::alerts};
    let actor = auth::require_role(Role::Responder).await?;
    let state = auth::app_state()?;
    alerts::end_silence(&state.pool, &actor, id.trim()).await?;
    Ok(())
}

/// Every inhibition rule (viewer+).
#[server(endpoint = "list_inhibit_rules")]
pub async fn list_inhibit_rules() -> Result<Vec<InhibitRule>, AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::alerts};
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    alerts::inhibit_rules(&state.pool).await
}

/// Adds an inhibition rule (admin): matchers one per line, `equal` labels comma-separated.
#[server(endpoint = "create_inhibit_rule")]
pub async fn create_inhibit_rule(
    name: String,
    source_matchers: String,
    target_matchers: String,
    equal: String,
) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::model::matcher::parse_matchers;
    use crate::server::{auth, service::alerts};
    let actor = auth::require_role(Role::Admin).await?;
    let state = auth::app_state()?;
    let mut errors = Vec::new();
    let mut read = |field: &str, text: &str| match parse_matchers(text) {
        Ok(m) => m,
        Err(message) => {
            errors.push(crate::model::FieldError {
                field: field.to_owned(),
                message,
            });
            Vec::new()
        }
    };
    let source = read("source_matchers", &source_matchers);
    let target = read("target_matchers", &target_matchers);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let equal = equal
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    alerts::save_inhibit_rule(
        &state.pool,
        &actor,
        InhibitRule {
            id: String::new(),
            name,
            source_matchers: source,
            target_matchers: target,
            equal,
        },
    )
    .await?;
    Ok(())
}

/// Deletes an inhibition rule (admin).
#[server(endpoint = "delete_inhibit_rule")]
pub async fn delete_inhibit_rule(id: String) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::alerts};
    let actor = auth::require_role(Role::Admin).await?;
    let state = auth::app_state()?;
    alerts::delete_inhibit_rule(&state.pool, &actor, id.trim()).await
}

/// Every alert rule, in order (viewer+).
#[server(endpoint = "list_alert_rules")]
pub async fn list_alert_rules() -> Result<Vec<AlertRule>, AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::alert_rules};
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    alert_rules::list(&state.pool).await
}

/// Saves an alert rule from its form (admin); an empty `id` adds one at the end.
#[server(endpoint = "save_alert_rule")]
pub async fn save_alert_rule(
    id: String,
    name: String,
    matchers: String,
    severity_map: String,
    #[server(default)] declare_incident: Option<String>,
    after_occurrences: String,
    after_minutes_firing: String,
    plan: String,
    cooldown_minutes: String,
    #[server(default)] notify: Vec<String>,
    #[server(default)] enabled: Option<String>,
) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::model::alert_rule::RuleInput;
    use crate::model::matcher::parse_matchers;
    use crate::server::{auth, service::alert_rules};
    let actor = auth::require_role(Role::Admin).await?;
    let state = auth::app_state()?;
    let mut errors = Vec::new();
    let mut push = |field: &str, message: String| {
        errors.push(crate::model::FieldError {
            field: field.to_owned(),
            message,
        })
    };
    let matchers = parse_matchers(&matchers).unwrap_or_else(|m| {
        push("matchers", m);
        Vec::new()
    });
    let mut map = std::collections::BTreeMap::new();
    for pair in severity_map
        .split([',', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match pair
            .split_once('=')
            .map(|(k, v)| (k.trim(), v.trim().parse()))
        {
            Some((word, Ok(severity))) if !word.is_empty() => {
                map.insert(word.to_ascii_lowercase(), severity);
            }
            _ => push(
                "severity_map",
                format!("{pair:?} is not word=severity, like critical=sev1."),
            ),
        }
    }
    let mut number = |field: &str, text: &str, default: u32| -> u32 {
        let text = text.trim();
        if text.is_empty() {
            return default;
        }
        text.parse().unwrap_or_else(|_| {
            push(field, "Give a whole number.".into());
            default
        })
    };
    let after_occurrences = number("after_occurrences", &after_occurrences, 1);
    let after_minutes_firing = number("after_minutes_firing", &after_minutes_firing, 0);
    let cooldown_minutes = number("cooldown_minutes", &cooldown_minutes, 30);
    let plan = match plan.trim().trim_start_matches("PLAN-") {
        "" => None,
        n => match n.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                push("plan", "Choose a plan.".into());
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let input = RuleInput {
        name,
        matchers,
        severity_map: map,
        declare_incident: declare_incident.is_some(),
        after_occurrences,
        after_minutes_firing,
        plan,
        cooldown_minutes,
        notify,
        enabled: enabled.is_some(),
        position: None,
    };
    let id = id.trim();
    alert_rules::save(&state.pool, &actor, (!id.is_empty()).then_some(id), &input).await?;
    Ok(())
}

/// Deletes an alert rule (admin).
#[server(endpoint = "delete_alert_rule")]
pub async fn delete_alert_rule(id: String) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::alert_rules};
    let actor = auth::require_role(Role::Admin).await?;
    let state = auth::app_state()?;
    alert_rules::delete(&state.pool, &actor, id.trim()).await
}

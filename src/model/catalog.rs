//! The atomic action catalog (原子操作): every action a plan step can run, defined in code with
//! its stable code, name, category, the plan scenes it supports, display order, typed parameters
//! (label, help, type, required, default, validation) and the settings it depends on. The palette,
//! the step editor and the server all read this one table; adding an action is adding a variant
//! here and its executor on the server.

use serde::{Deserialize, Serialize};

code_enum!(
    /// Where in the stack an action works (the palette groups by it).
    Category {
        /// People and time: checks, waits.
        General => "general", "General",
        /// The product as users see it.
        Product => "product", "Product",
        /// Network paths, DNS, load balancers.
        Network => "network", "Network",
        /// Application processes and endpoints.
        Application => "application", "Application",
        /// Services and their dependencies.
        Service => "service", "Service",
        /// Databases, caches, queues.
        Data => "data", "Data",
        /// Hosts, clusters, regions.
        Infrastructure => "infrastructure", "Infrastructure",
    }
);

code_enum!(
    /// What a plan is for.
    Scene {
        /// A drill (演练): practice on purpose.
        Drill => "drill", "Drill",
        /// An emergency plan (应急预案): run during an incident.
        Emergency => "emergency", "Emergency plan",
        /// A self-recovery plan (自愈预案).
        SelfRecovery => "self_recovery", "Self-recovery",
        /// A disaster-recovery plan (容灾预案), in three fixed phases.
        DisasterRecovery => "disaster_recovery", "Disaster recovery",
        /// An inspection (自动巡检): checks run on a schedule; a failure raises a risk event.
        Inspection => "inspection", "Inspection",
    }
);

impl Scene {
    /// Whether plans of this scene may run on a schedule (drills and inspections).
    pub fn schedulable(self) -> bool {
        matches!(self, Self::Drill | Self::Inspection)
    }
}

code_enum!(
    /// The built-in atomic actions. Codes are stored in plans and runs: never rename one.
    ActionCode {
        /// A person checks something and marks pass or fail with a comment.
        ManualCheck => "manual_check", "Manual check",
        /// An HTTP request whose answer is checked.
        HttpRequest => "http_request", "HTTP request with assertions",
        /// A JSON POST to another system (e.g. a fault-injection platform).
        Webhook => "webhook", "Outgoing webhook",
        /// Waits a while.
        Wait => "wait", "Wait",
        /// Calls a URL every few seconds until its answer holds or a deadline passes.
        PollUntil => "poll_until", "Poll until",
    }
);

/// What a parameter holds, and so how it is typed and checked.
/// (Serialized for the database's copy of the catalog; the client has the catalog compiled in.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ParamKind {
    /// One line of text.
    Text,
    /// Several lines of text.
    Multiline,
    /// A whole number in a range.
    Number {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// A duration like `30s`, `5m`, `1h30m`.
    Duration,
    /// An `http` or `https` URL.
    Url,
    /// One of a fixed list.
    Choice {
        /// The allowed values.
        options: &'static [&'static str],
    },
    /// A secret: stored, never shown back, masked in outputs.
    Secret,
    /// A JSON document.
    Json,
}

/// One parameter of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ParamSpec {
    /// The key in a step's parameters.
    pub name: &'static str,
    /// The label in the step editor.
    pub label: &'static str,
    /// A line of help under the label.
    pub help: &'static str,
    /// Its type.
    pub kind: ParamKind,
    /// Whether a value (or "ask at run time") is needed.
    pub required: bool,
    /// The value a new step starts with.
    pub default: Option<&'static str>,
}

/// One action of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ActionSpec {
    /// Its stable code.
    pub code: ActionCode,
    /// What it does, in a sentence.
    pub description: &'static str,
    /// Palette group.
    pub category: Category,
    /// The plan scenes it may be used in.
    pub scenes: &'static [Scene],
    /// Position in the palette.
    pub order: u32,
    /// Its parameters, in editor order.
    pub params: &'static [ParamSpec],
    /// Settings (`NIGHTWATCH_*` variables) it needs; without them it is hidden from the palette.
    pub settings: &'static [&'static str],
}

const ALL_SCENES: &[Scene] = Scene::ALL;
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

const fn param(
    name: &'static str,
    label: &'static str,
    help: &'static str,
    kind: ParamKind,
    required: bool,
    default: Option<&'static str>,
) -> ParamSpec {
    ParamSpec {
        name,
        label,
        help,
        kind,
        required,
        default,
    }
}

const STATUS: ParamKind = ParamKind::Number { min: 100, max: 599 };
const URL_PARAM: ParamSpec = param(
    "url",
    "URL",
    "http:// or https://",
    ParamKind::Url,
    true,
    None,
);
const EXPECT_STATUS: ParamSpec = param(
    "expect_status",
    "Expected status",
    "The step fails on any other status.",
    STATUS,
    true,
    Some("200"),
);
const BODY_CONTAINS: ParamSpec = param(
    "body_contains",
    "Body contains",
    "Optional: text the answer must contain.",
    ParamKind::Text,
    false,
    None,
);

const MANUAL_CHECK: ActionSpec = ActionSpec {
    code: ActionCode::ManualCheck,
    description: "A person checks something and marks it passed or failed, with a comment.",
    category: Category::General,
    scenes: ALL_SCENES,
    order: 10,
    params: &[param(
        "instructions",
        "What to check",
        "Written for the person doing it: what to look at and what counts as passing.",
        ParamKind::Multiline,
        true,
        None,
    )],
    settings: &[],
};

const HTTP_REQUEST: ActionSpec = ActionSpec {
    code: ActionCode::HttpRequest,
    description: "Sends an HTTP request and checks the status, the body and how long it took.",
    category: Category::Application,
    scenes: ALL_SCENES,
    order: 20,
    params: &[
        param(
            "method",
            "Method",
            "",
            ParamKind::Choice { options: METHODS },
            true,
            Some("GET"),
        ),
        URL_PARAM,
        param(
            "headers",
            "Headers",
            "One per line, as Name: value.",
            ParamKind::Multiline,
            false,
            None,
        ),
        param(
            "body",
            "Body",
            "Sent as is.",
            ParamKind::Multiline,
            false,
            None,
        ),
        EXPECT_STATUS,
        BODY_CONTAINS,
        param(
            "max_latency",
            "Latency bound",
            "Optional: the step fails if the answer takes longer, e.g. 500ms or 2s.",
            ParamKind::Duration,
            false,
            None,
        ),
    ],
    settings: &[],
};

const WEBHOOK: ActionSpec = ActionSpec {
    code: ActionCode::Webhook,
    description: "POSTs a JSON document to another system, e.g. to start a fault on a fault-injection platform.",
    category: Category::Service,
    scenes: ALL_SCENES,
    order: 30,
    params: &[
        URL_PARAM,
        param(
            "payload",
            "JSON payload",
            "Sent as the request body.",
            ParamKind::Json,
            true,
            Some("{}"),
        ),
        param(
            "secret",
            "Signing secret",
            "Optional: the body is signed with HMAC-SHA256 in X-Nightwatch-Signature.",
            ParamKind::Secret,
            false,
            None,
        ),
        EXPECT_STATUS,
    ],
    settings: &[],
};

const WAIT: ActionSpec = ActionSpec {
    code: ActionCode::Wait,
    description: "Waits, e.g. for a fault to take effect or traffic to settle.",
    category: Category::General,
    scenes: ALL_SCENES,
    order: 40,
    params: &[param(
        "duration",
        "How long",
        "e.g. 30s, 5m, 1h30m.",
        ParamKind::Duration,
        true,
        Some("30s"),
    )],
    settings: &[],
};

const POLL_UNTIL: ActionSpec = ActionSpec {
    code: ActionCode::PollUntil,
    description: "Calls a URL every few seconds until the answer holds or a deadline passes: how a scale-out or a failover is watched.",
    category: Category::Infrastructure,
    scenes: ALL_SCENES,
    order: 50,
    params: &[
        URL_PARAM,
        param(
            "interval",
            "Every",
            "Time between calls, e.g. 10s.",
            ParamKind::Duration,
            true,
            Some("10s"),
        ),
        param(
            "deadline",
            "Give up after",
            "The step fails if the answer does not hold by then, e.g. 5m.",
            ParamKind::Duration,
            true,
            Some("5m"),
        ),
        EXPECT_STATUS,
        BODY_CONTAINS,
    ],
    settings: &[],
};

impl ActionCode {
    /// The action's catalog entry.
    pub fn spec(self) -> &'static ActionSpec {
        match self {
            ActionCode::ManualCheck => &MANUAL_CHECK,
            ActionCode::HttpRequest => &HTTP_REQUEST,
            ActionCode::Webhook => &WEBHOOK,
            ActionCode::Wait => &WAIT,
            ActionCode::PollUntil => &POLL_UNTIL,
        }
    }
}

impl ActionSpec {
    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// The longest duration a step parameter may hold: a day, a step's longest timeout.
pub const MAX_DURATION: std::time::Duration = std::time::Duration::from_secs(86_400);

/// Parses `30s`, `5m`, `1h30m`, `500ms` or a bare number of seconds, up to [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let d = parse_any_duration(text)?;
    if d > MAX_DURATION {
        return Err(format!(
            "{:?} is longer than a day, the longest a step may take.",
            text.trim()
        ));
    }
    Ok(d)
}

fn parse_any_duration(text: &str) -> Result<std::time::Duration, String> {
    let bad = || {
        format!(
            "{} is not a duration: write it like 30s, 5m or 1h30m.",
            super::error::quoted(text)
        )
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(secs));
    }
    let mut total = std::time::Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let part = match &rest[..unit_len] {
            "ms" => std::time::Duration::from_millis(n),
            "s" => std::time::Duration::from_secs(n),
            "m" => std::time::Duration::from_secs(n.saturating_mul(60)),
            "h" => std::time::Duration::from_secs(n.saturating_mul(3600)),
            _ => return Err(bad()),
        };
        total = total.saturating_add(part);
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// Checks one parameter value against its spec; the message says how to fix it.
pub fn check_value(spec: &ParamSpec, value: &str) -> Result<(), String> {
    let value = value.trim();
    if value.is_empty() {
        return if spec.required {
            Err(format!(
                "{} is required (or ask for it at run time).",
                spec.label
            ))
        } else {
            Ok(())
        };
    }
    match spec.kind {
        ParamKind::Text | ParamKind::Multiline | ParamKind::Secret => {
            if value.chars().count() > 10_000 {
                Err("At most 10,000 characters.".to_owned())
            } else {
                Ok(())
            }
        }
        ParamKind::Number { min, max } => match value.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(()),
            _ => Err(format!("A whole number from {min} to {max}.")),
        },
        ParamKind::Duration => parse_duration(value).map(|_| ()),
        ParamKind::Url => match url::Url::parse(value) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(()),
            _ => Err("A URL starting with http:// or https://.".to_owned()),
        },
        ParamKind::Choice { options } => {
            if options.contains(&value) {
                Ok(())
            } else {
                Err(format!("One of {}.", options.join(", ")))
            }
        }
        ParamKind::Json => serde_json::from_str::<serde_json::Value>(value)
            .map(|_| ())
            .map_err(|e| format!("Not valid JSON: {e}.")),
    }
}

/// The catalog's actions a palette offers for `scene`, given which settings are configured.
pub fn palette(scene: Scene, configured: &dyn Fn(&str) -> bool) -> Vec<&'static ActionSpec> {
    available(ActionCode::ALL.iter().map(|c| c.spec()), scene, configured)
}

/// Of `actions`, those usable in `scene` whose settings are all configured, by category and order.
pub fn available<'a>(
    actions: impl IntoIterator<Item = &'a ActionSpec>,
    scene: Scene,
    configured: &dyn Fn(&str) -> bool,
) -> Vec<&'a ActionSpec> {
    let mut actions: Vec<_> = actions
        .into_iter()
        .filter(|a| a.scenes.contains(&scene) && a.settings.iter().all(|s| configured(s)))
        .collect();
    actions.sort_by_key(|a| (a.category, a.order));
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn codes_are_stable_and_round_trip() {
        for code in ActionCode::ALL {
            assert_eq!(code.as_str().parse::<ActionCode>(), Ok(*code));
            assert_eq!(code.spec().code, *code, "each spec names its own code");
        }
        assert_eq!(ActionCode::HttpRequest.as_str(), "http_request");
        assert!("fly_to_the_moon".parse::<ActionCode>().is_err());
    }

    #[test]
    fn every_default_passes_its_own_validation() {
        for code in ActionCode::ALL {
            for p in code.spec().params {
                if let Some(default) = p.default {
                    assert_eq!(
                        check_value(p, default),
                        Ok(()),
                        "{}.{}",
                        code.as_str(),
                        p.name
                    );
                }
            }
        }
    }

    #[test]
    fn parameter_names_are_unique_within_an_action() {
        for code in ActionCode::ALL {
            let mut names: Vec<_> = code.spec().params.iter().map(|p| p.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), code.spec().params.len(), "{}", code.as_str());
        }
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("24h"), Ok(MAX_DURATION));
        for absurd in ["18446744073709551615", "86401", "24h1s", "9999999999h"] {
            assert!(parse_duration(absurd).is_err(), "{absurd:?}");
        }
        for bad in ["", "s", "5 minutes", "1d", "m5", "-3s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn values_are_checked_by_type() {
        let spec = ActionCode::HttpRequest.spec();
        let p = |name| spec.param(name).unwrap();
        assert!(check_value(p("url"), "https://shop.example/health").is_ok());
        assert!(check_value(p("url"), "ftp://shop.example").is_err());
        assert!(check_value(p("url"), "").unwrap_err().contains("required"));
        assert!(check_value(p("expect_status"), "204").is_ok());
        assert!(check_value(p("expect_status"), "99").is_err());
        assert!(check_value(p("method"), "GET").is_ok());
        assert!(check_value(p("method"), "FETCH").is_err());
        assert!(check_value(p("body_contains"), "").is_ok(), "optional");
        let payload = ActionCode::Webhook.spec().param("payload").unwrap();
        assert!(check_value(payload, r#"{"fault": "latency"}"#).is_ok());
        assert!(
            check_value(payload, "{fault")
                .unwrap_err()
                .starts_with("Not valid JSON")
        );
    }

    #[test]
    fn the_palette_hides_actions_whose_settings_are_missing_or_scene_differs() {
        const CHAOS: ActionSpec = ActionSpec {
            settings: &["NIGHTWATCH_CHAOS_URL"],
            category: Category::Infrastructure,
            ..WAIT
        };
        const DR_ONLY: ActionSpec = ActionSpec {
            scenes: &[Scene::DisasterRecovery],
            ..HTTP_REQUEST
        };
        let actions = [&CHAOS, &DR_ONLY, &WAIT];
        let codes = |list: Vec<&ActionSpec>| list.iter().map(|a| a.category).collect::<Vec<_>>();
        assert_eq!(
            codes(available(actions, Scene::Drill, &|_| false)),
            [Category::General]
        );
        assert_eq!(
            codes(available(actions, Scene::Drill, &|s| s == "NIGHTWATCH_CHAOS_URL")),
            [Category::General, Category::Infrastructure],
            "grouped by category"
        );
        assert_eq!(
            available(actions, Scene::DisasterRecovery, &|_| false).len(),
            2
        );
        assert_eq!(
            palette(Scene::Drill, &|_| false).len(),
            ActionCode::ALL.len(),
            "built-ins need no settings"
        );
    }
}

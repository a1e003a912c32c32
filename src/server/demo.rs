//! `nightwatch demo-data`: fills an empty database with a realistic, deterministic set of
//! incidents across services, severities and states, each with a believable timeline, so a new
//! user sees a living app.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sqlx::AnyPool;

use crate::model::action_item::ItemSource;
use crate::model::incident::{
    IncidentId, IncidentNumber, IncidentRole, IncidentStatus, Severity, Timestamps,
};
use crate::model::incident_input::NewIncident;
use crate::model::postmortem::PostmortemDoc;
use crate::model::timeline::EventData;
use crate::model::{AppError, Role, UserId};
use crate::server::actor::Actor;
use crate::server::db::to_millis;
use crate::server::repo::incidents::IncidentState;
use crate::server::repo::users::{self, UserRecord};
use crate::server::service::accounts;

mod bulk;

const SERVICES: [&str; 8] = [
    "payments",
    "checkout",
    "search",
    "auth",
    "api-gateway",
    "notifications",
    "orders-db",
    "mobile-api",
];
const TAGS: [&str; 8] = [
    "deploy",
    "database",
    "network",
    "capacity",
    "config",
    "third-party",
    "certificate",
    "dns",
];
/// A demo incident's story, so its timeline matches its title: the title, what a responder
/// noticed, and how the impact was mitigated.
const SCENARIOS: [(&str, &str, &str); 8] = [
    (
        "{s}: elevated 5xx error rate",
        "Graphs show the 5xx rise started at the last deploy",
        "Rolled back the last deploy",
    ),
    (
        "{s}: p99 latency above SLO",
        "One client doubled its traffic; every region is slower",
        "Rate-limited the noisy client",
    ),
    (
        "{s}: pods crash-looping after deploy",
        "The new image fails its readiness probe",
        "Rolled back the last deploy",
    ),
    (
        "Connection pool exhausted on {s}",
        "Workers wait on the pool while the database itself is idle",
        "Raised the connection pool limit and restarted workers",
    ),
    (
        "TLS certificate expired on {s}",
        "Clients report certificate errors since midnight",
        "Renewed the certificate and reloaded the ingress",
    ),
    (
        "Queue backlog growing in {s}",
        "Consumers process half their usual rate",
        "Scaled the consumers from 6 to 12 replicas",
    ),
    (
        "DNS resolution failures for {s}",
        "Lookups time out from two of three zones",
        "Failed over to the standby resolvers",
    ),
    (
        "Disk almost full on {s} primary",
        "Write-ahead logs are not being archived",
        "Archived the old write-ahead logs to free space",
    ),
];

/// How many of the newest incidents get postmortems written through the services (slow, one
/// at a time, as users would); older ones are archived in bulk.
const RECENT: usize = 150;

/// What `fill` added.
#[derive(Debug)]
pub struct DemoSummary {
    /// Incidents created.
    pub incidents: usize,
    /// Demo accounts created, with the password they share (none when they existed already).
    pub password: Option<String>,
}

/// Adds `count` incidents (deterministic for a `seed`) and the demo users they mention. Refuses a
/// database that already has incidents.
pub async fn fill(pool: &AnyPool, count: usize, seed: u64) -> Result<DemoSummary, AppError> {
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM incidents")
        .fetch_one(pool)
        .await?;
    if existing > 0 {
        return Err(AppError::Conflict(format!(
            "the database already has {existing} incidents: demo data only goes into an empty one"
        )));
    }
    let (people, password) = demo_users(pool).await?;
    let mut rng = StdRng::seed_from_u64(seed);
    let now = Utc::now();
    // Up to 250 incidents a day: a million span about eleven years, forty the last 60 days.
    let span_minutes = (count as i64 * 24 * 60 / 250).max(60 * 24 * 60);
    let mut detections: Vec<DateTime<Utc>> = (0..count)
        .map(|_| now - Duration::minutes(rng.gen_range(20..span_minutes)))
        .collect();
    detections.sort();
    // A larger estate has more services than the eight of a small demo.
    let services: Vec<String> = SERVICES
        .iter()
        .map(|s| (*s).to_owned())
        .chain((1..=(count / 2_000).min(400)).map(|k| format!("service-{k:03}")))
        .collect();
    // The newest incidents get their postmortems through the services, as users would write
    // them; every older one is archived by the bulk writer (most reviewed, with a published
    // postmortem and often action items).
    let archived = count.saturating_sub(RECENT);
    let doc = serde_json::to_string(&sample_doc()?).map_err(|_| AppError::Internal)?;
    let mut writer = bulk::Writer::new(pool, doc);
    for (k, detected) in detections.into_iter().enumerate() {
        let number = IncidentNumber(k as i64 + 1);
        let mut story = story(&mut rng, &people, &services, number, detected, now)?;
        let items = if k < archived {
            bulk::archive(&mut rng, &mut story, &people, now)
        } else {
            Vec::new()
        };
        writer.push(story, items).await?;
    }
    writer.finish(count as i64).await?;
    add_postmortems(pool, &mut rng, &people, now, archived as i64).await?;
    add_plans(pool, &people).await?;
    Ok(DemoSummary {
        incidents: count,
        password,
    })
}

async fn demo_users(pool: &AnyPool) -> Result<(Vec<UserRecord>, Option<String>), AppError> {
    let password = crate::server::auth::generate_password();
    let mut created = false;
    let mut people = Vec::new();
    for (name, role) in [
        ("alice", Role::Commander),
        ("bob", Role::Responder),
        ("carol", Role::Commander),
        ("dave", Role::Responder),
        ("erin", Role::Viewer),
    ] {
        let user = match users::find_by_username(pool, name).await? {
            Some(u) => u,
            None => {
                created = true;
                let new = accounts::parse_new_user(name, role.as_str(), &password)?;
                accounts::create_user(pool, &new).await?
            }
        };
        if user.role.allows(Role::Responder) {
            people.push(user);
        }
    }
    Ok((people, created.then_some(password)))
}

/// One incident with its life story: what the bulk writer puts in the database.
pub(crate) struct Story {
    /// The incident as declared.
    pub new: NewIncident,
    /// Who declared it.
    pub declared_by: UserId,
    /// When it was declared (ms).
    pub created_at: i64,
    /// Where it got to.
    pub state: IncidentState,
    /// Its timeline: instant, author, entry.
    pub events: Vec<(DateTime<Utc>, UserId, EventData)>,
}

/// The life story of incident `number`, detected at `detected`, drawn from `rng`; `services`
/// is the pool of service names.
fn story(
    rng: &mut StdRng,
    people: &[UserRecord],
    services_pool: &[String],
    number: IncidentNumber,
    detected: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Story, AppError> {
    let pick_service = |rng: &mut StdRng| {
        services_pool
            .choose(rng)
            .cloned()
            .unwrap_or_else(|| "payments".to_owned())
    };
    let service = pick_service(rng);
    let mut services = vec![service.clone()];
    if rng.gen_bool(0.3) {
        let other = pick_service(rng);
        if other != service {
            services.push(other);
        }
    }
    let service = service.as_str();
    let tag_count = rng.gen_range(0..3);
    let tags: Vec<String> = TAGS
        .choose_multiple(rng, tag_count)
        .map(|t| (*t).to_owned())
        .collect();
    let severity = *[
        Severity::Sev1,
        Severity::Sev2,
        Severity::Sev2,
        Severity::Sev3,
        Severity::Sev3,
        Severity::Sev3,
        Severity::Sev4,
    ]
    .choose(rng)
    .unwrap_or(&Severity::Sev3);
    let (title, noticed, mitigation) = *SCENARIOS.choose(rng).unwrap_or(&SCENARIOS[0]);
    let title = title.replace("{s}", service);
    let new = NewIncident {
        title,
        description: format!("Alert fired for {service}; see the timeline for what happened."),
        severity,
        services,
        tags,
        detected_at: detected,
        // Customers felt it a few minutes before the alert fired (derived, not drawn, so the
        // generator's random stream stays as it was).
        impact_started_at: Some(detected - Duration::minutes(2 + detected.timestamp() % 11)),
    };
    let pick = |rng: &mut StdRng| people.choose(rng).cloned().ok_or(AppError::Internal);
    let declarer = pick(rng)?;
    let commander = people
        .iter()
        .filter(|p| p.role.allows(Role::Commander))
        .collect::<Vec<_>>()
        .choose(rng)
        .map(|p| (*p).clone())
        .unwrap_or_else(|| declarer.clone());

    let mut at = detected + Duration::minutes(rng.gen_range(1..12));
    let created_at = to_millis(at);
    let id = IncidentId(bulk::time_uuid(rng, created_at));
    let mut events: Vec<(DateTime<Utc>, UserId, EventData)> = vec![(
        at,
        declarer.id,
        EventData::Declared {
            title: new.title.clone(),
            severity,
            services: new.services.clone(),
        },
    )];
    let mut state = IncidentState {
        id,
        number,
        status: IncidentStatus::Open,
        severity,
        timestamps: Timestamps::detected(detected),
        commander_id: None,
        scribe_id: None,
        communications_id: None,
        holder_names: [None, None, None],
        version: 1,
    };
    let age = now - detected;
    // How far this incident got: recent ones may still be running.
    let stage = if age < Duration::hours(2) {
        rng.gen_range(0..3)
    } else if age < Duration::days(1) {
        rng.gen_range(2..4)
    } else {
        3
    };
    let step = |rng: &mut StdRng, at: &mut DateTime<Utc>, min: i64, max: i64| {
        *at = (*at + Duration::minutes(rng.gen_range(min..max))).min(now - Duration::minutes(1));
        *at
    };

    if stage >= 1 {
        let t = step(rng, &mut at, 1, 6);
        state.commander_id = Some(commander.id.to_string());
        state.timestamps.acknowledge(t);
        events.push((
            t,
            commander.id,
            EventData::RoleAssigned {
                role: IncidentRole::Commander,
                user: Some(commander.username.clone()),
                previous: None,
            },
        ));
    }
    if stage >= 2 {
        let t = step(rng, &mut at, 1, 10);
        state
            .timestamps
            .apply_transition(IncidentStatus::Open, IncidentStatus::Mitigating, t);
        state.status = IncidentStatus::Mitigating;
        events.push((
            t,
            commander.id,
            EventData::StatusChanged {
                from: IncidentStatus::Open,
                to: IncidentStatus::Mitigating,
                note: "Investigating; paging the owning team".into(),
            },
        ));
        if rng.gen_bool(0.6) {
            let t = step(rng, &mut at, 2, 20);
            let author = pick(rng)?;
            events.push((
                t,
                author.id,
                EventData::NoteAdded {
                    body: noticed.to_owned(),
                },
            ));
        }
        if rng.gen_bool(0.2) {
            let t = step(rng, &mut at, 1, 15);
            let to = if severity == Severity::Sev1 {
                Severity::Sev2
            } else {
                Severity::Sev1
            };
            events.push((
                t,
                commander.id,
                EventData::SeverityChanged {
                    from: state.severity,
                    to,
                    note: "Impact is wider than first thought".into(),
                },
            ));
            state.severity = to;
        }
        if rng.gen_bool(0.7) {
            let t = step(rng, &mut at, 5, 90);
            state.timestamps.mitigate(t);
            events.push((
                t,
                commander.id,
                EventData::Mitigated {
                    note: mitigation.to_owned(),
                },
            ));
        }
    }
    if stage >= 3 {
        let t = step(rng, &mut at, 5, 240);
        state
            .timestamps
            .apply_transition(IncidentStatus::Mitigating, IncidentStatus::Recovered, t);
        state.status = IncidentStatus::Recovered;
        events.push((
            t,
            commander.id,
            EventData::StatusChanged {
                from: IncidentStatus::Mitigating,
                to: IncidentStatus::Recovered,
                note: "Error rate and latency back to normal for 15 minutes".into(),
            },
        ));
        if rng.gen_bool(0.12) {
            let t = step(rng, &mut at, 10, 120);
            state.timestamps.apply_transition(
                IncidentStatus::Recovered,
                IncidentStatus::Mitigating,
                t,
            );
            events.push((
                t,
                commander.id,
                EventData::StatusChanged {
                    from: IncidentStatus::Recovered,
                    to: IncidentStatus::Mitigating,
                    note: "Errors are back after the cache warmed up".into(),
                },
            ));
            let t = step(rng, &mut at, 10, 90);
            state.timestamps.apply_transition(
                IncidentStatus::Mitigating,
                IncidentStatus::Recovered,
                t,
            );
            events.push((
                t,
                commander.id,
                EventData::StatusChanged {
                    from: IncidentStatus::Mitigating,
                    to: IncidentStatus::Recovered,
                    note: "Stable again after the second fix".into(),
                },
            ));
        }
    }
    Ok(Story {
        new,
        declared_by: declarer.id,
        created_at,
        state,
        events,
    })
}

const ACTIONS: &[&str] = &[
    "Alert on certificate expiry 30 days ahead",
    "Add a canary stage to the deploy pipeline",
    "Raise the connection pool limit and alert at 80 %",
    "Write a runbook for cache warm-up",
    "Load-test the new query plan before rollout",
    "Add a circuit breaker around the payment provider",
];

/// The postmortem every demo incident gets (the same words: demo data is about volume).
pub(crate) fn sample_doc() -> Result<PostmortemDoc, AppError> {
    use crate::model::postmortem::{Why, WhyChain};
    Ok(PostmortemDoc {
        summary: "Customers saw errors until the change was rolled back.".into(),
        impact: "Part of the traffic of the affected service failed; no data was lost.".into(),
        root_causes: vec!["A configuration change went out to every region at once".into()],
        contributing_factors: vec!["No canary stage for configuration changes".into()],
        whys: WhyChain::new(vec![
            Why {
                why: "Why did requests fail?".into(),
                because: "The service could not reach its dependency.".into(),
            },
            Why {
                why: "Why could it not reach it?".into(),
                because: "A configuration change pointed it at the wrong address.".into(),
            },
            Why {
                why: "Why did the change reach production?".into(),
                because: "Configuration is not tested before rollout.".into(),
            },
        ])
        .map_err(|_| AppError::Internal)?,
        went_well: vec!["The on-call engineer was paged within two minutes".into()],
        went_wrong: vec!["The rollback took longer than it should have".into()],
        got_lucky: vec!["It happened outside peak hours".into()],
        ..Default::default()
    })
}

/// Postmortems for most incidents recovered more than a week ago (published, with action items
/// due around today — some overdue — and the incident then marked reviewed), and drafts for a
/// few recent ones. Written through the services, as users would.
async fn add_postmortems(
    pool: &AnyPool,
    rng: &mut StdRng,
    people: &[UserRecord],
    now: DateTime<Utc>,
    archived: i64,
) -> Result<(), AppError> {
    use crate::model::action_item::NewActionItem;
    use crate::model::postmortem::PostmortemState;
    use crate::server::service::{action_items, incidents, postmortems};

    // The incidents after the archived ones (numbered in detection order).
    let recovered: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT number, resolved_at FROM incidents WHERE status = 'recovered' AND number > $1 \
         ORDER BY number",
    )
    .bind(archived)
    .fetch_all(pool)
    .await?;
    let Some(author) = people.iter().find(|p| p.role.allows(Role::Commander)) else {
        return Ok(());
    };
    let author = &Actor::person(author);
    for (number, resolved_at) in recovered {
        let number = IncidentNumber(number);
        let old = resolved_at < to_millis(now - Duration::days(7));
        if !rng.gen_bool(if old { 0.7 } else { 0.3 }) {
            continue;
        }
        let pm = postmortems::open(pool, author, number).await?;
        let doc = sample_doc()?;
        let saved = postmortems::save(pool, author, number, &doc, pm.version).await?;
        for _ in 0..rng.gen_range(1..3) {
            let owner = people.choose(rng).ok_or(AppError::Internal)?;
            let due = (now + Duration::days(rng.gen_range(-10..20))).format("%Y-%m-%d");
            let priority = *["p1", "p2", "p3"].choose(rng).unwrap_or(&"p2");
            let kind = *["corrective", "preventive"]
                .choose(rng)
                .unwrap_or(&"preventive");
            let title = *ACTIONS.choose(rng).unwrap_or(&ACTIONS[0]);
            let new =
                NewActionItem::parse(title, &owner.username, &due.to_string(), priority, kind)?;
            action_items::create(pool, author, ItemSource::Incident(number), &new).await?;
        }
        if !old {
            continue;
        }
        let review = postmortems::change_state(
            pool,
            author,
            number,
            PostmortemState::InReview,
            saved.version,
        )
        .await?;
        postmortems::change_state(
            pool,
            author,
            number,
            PostmortemState::Published,
            review.version,
        )
        .await?;
        incidents::transition(
            pool,
            author,
            number,
            IncidentStatus::Recovered,
            IncidentStatus::Reviewed,
            "Postmortem reviewed with the team",
        )
        .await?;
    }
    Ok(())
}

/// Three plans to read: a drill (fault by webhook, wait, watch the recovery), a
/// disaster-recovery plan in its three phases, with a parameter asked at run time, and an
/// inspection on a (paused) schedule.
async fn add_plans(pool: &AnyPool, people: &[UserRecord]) -> Result<(), AppError> {
    use crate::model::catalog::{ActionCode, Scene};
    use crate::model::plan::{ParamValue, Phase, PlanDraft, Step, StepMark};
    use crate::model::schedule::{Concurrency, PlanSchedule};
    use crate::server::service::plans;

    let Some(author) = people.iter().find(|p| p.role.allows(Role::Commander)) else {
        return Ok(());
    };
    let author = &Actor::person(author);
    let step = |id: &str,
                action: ActionCode,
                name: &str,
                phase: Option<Phase>,
                params: &[(&str, ParamValue)]| {
        let mut s = Step::new(id.to_owned(), action, phase);
        s.name = name.to_owned();
        for (k, v) in params {
            s.params.insert((*k).to_owned(), v.clone());
        }
        s
    };
    let set = |v: &str| ParamValue::Set(v.to_owned());
    let mut kill = step(
        "kill",
        ActionCode::Webhook,
        "Kill one checkout pod",
        None,
        &[
            ("url", set("https://chaos.example.internal/api/faults")),
            (
                "payload",
                set(r#"{"target": "checkout", "fault": "pod-kill", "count": 1}"#),
            ),
        ],
    );
    kill.pre_confirm = true;
    kill.mark = Some(StepMark::Inject);
    let mut check = step(
        "check",
        ActionCode::HttpRequest,
        "Checkout answers",
        None,
        &[
            ("url", set("https://checkout.example.internal/health")),
            ("max_latency", set("500ms")),
        ],
    );
    check.mark = Some(StepMark::RecoveryCheck);
    let drill = PlanDraft {
        name: "Checkout survives losing a pod".into(),
        description: "Kills one checkout pod and checks that traffic is served throughout and the pod comes back.".into(),
        scene: Scene::Drill,
        service: "checkout".into(),
        scenario: "A pod is lost".into(),
        rto_secs: Some(120),
        rpo_secs: None,
        schedule: Some(PlanSchedule {
            cron: "0 10 * * TUE".into(),
            zone: "Europe/Berlin".into(),
            concurrency: Concurrency::Forbid,
        }),
        enabled: true,
        steps: vec![
            kill,
            step("settle", ActionCode::Wait, "Let the fault take effect", None, &[("duration", set("30s"))]),
            step("watch", ActionCode::PollUntil, "Wait for all replicas to be ready", None, &[
                ("url", set("https://checkout.example.internal/ready")),
            ]),
            check,
        ],
    };
    plans::create(pool, author, drill).await?;
    let dr = PlanDraft {
        name: "Fail the orders database over to the second region".into(),
        description: "The yearly disaster-recovery exercise for orders-db.".into(),
        scene: Scene::DisasterRecovery,
        service: "orders-db".into(),
        scenario: "Primary region lost".into(),
        rto_secs: Some(900),
        rpo_secs: Some(60),
        schedule: None,
        enabled: true,
        steps: vec![
            step(
                "promote",
                ActionCode::ManualCheck,
                "Promote the replica in region B",
                Some(Phase::SwitchOver),
                &[(
                    "instructions",
                    set("Run the promote runbook; confirm the replica accepts writes."),
                )],
            ),
            step(
                "writes",
                ActionCode::HttpRequest,
                "Orders accept writes",
                Some(Phase::Recovery),
                &[
                    ("url", ParamValue::AskAtRun),
                    ("method", set("POST")),
                    ("expect_status", set("201")),
                ],
            ),
            step(
                "back",
                ActionCode::ManualCheck,
                "Switch traffic back to region A",
                Some(Phase::SwitchBack),
                &[(
                    "instructions",
                    set("Move traffic back once region A has caught up; confirm lag is zero."),
                )],
            ),
        ],
    };
    plans::create(pool, author, dr).await?;
    let inspection = PlanDraft {
        name: "Checkout health every 15 minutes".into(),
        description: "Checks that checkout answers and its readiness endpoint says ready; a failure raises a risk event.".into(),
        scene: Scene::Inspection,
        service: "checkout".into(),
        scenario: String::new(),
        rto_secs: None,
        rpo_secs: None,
        schedule: Some(PlanSchedule {
            cron: "*/15 * * * *".into(),
            zone: "UTC".into(),
            concurrency: Concurrency::Forbid,
        }),
        enabled: true,
        steps: vec![
            step("health", ActionCode::HttpRequest, "Checkout answers", None, &[
                ("url", set("https://checkout.example.internal/health")),
                ("max_latency", set("500ms")),
            ]),
            step("ready", ActionCode::HttpRequest, "Checkout is ready", None, &[
                ("url", set("https://checkout.example.internal/ready")),
                ("body_contains", set("ready")),
            ]),
        ],
    };
    // Paused: its example host does not exist here, and a demo should not page anyone.
    let number = plans::create(pool, author, inspection).await?;
    plans::set_paused(pool, author, number, true).await?;
    Ok(())
}

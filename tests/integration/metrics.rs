//! The metrics board's database aggregates equal the model's reference computations (which load
//! every incident, as the board never does) on random data, for several filters, on both
//! databases.

use chrono::Utc;
use nightwatch::model::incident::Severity;
use nightwatch::model::metrics::{
    BoardFilter, DurationStats, IncidentFacts, Measure, duration_stats, recurrences, repeats,
};
use nightwatch::server::db::to_millis;
use nightwatch::server::repo::metrics::Breakdown;
use nightwatch::server::{demo, repo};
use sqlx::AnyPool;

/// One incident as the reference sees it: detected, the three end instants, severity, services,
/// tags, status.
type Row = (
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    String,
    String,
    String,
    String,
);

async fn rows(pool: &AnyPool) -> Vec<Row> {
    sqlx::query_as(
        "SELECT detected_at, acknowledged_at, mitigated_at, resolved_at, severity, services, tags, status FROM incidents",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

fn in_filter<'a>(rows: &'a [Row], filter: &'a BoardFilter) -> impl Iterator<Item = &'a Row> {
    rows.iter()
        .filter(|(d, ..)| *d >= filter.from && *d < filter.until)
        .filter(|r| filter.severity.is_none_or(|s| r.4 == s.as_str()))
        .filter(|r| {
            filter
                .service
                .as_ref()
                .is_none_or(|s| r.5.split(',').any(|x| x.trim() == s))
        })
}

fn facts(row: &Row) -> IncidentFacts {
    let set = |text: &str| {
        text.split(',')
            .map(|x| x.trim().to_owned())
            .filter(|x| !x.is_empty())
            .collect()
    };
    IncidentFacts {
        detected_at: row.0,
        services: set(&row.5),
        tags: set(&row.6),
    }
}

/// Every incident's stored `repeats` flag equals the model's rule against all incidents; returns
/// how many repeat.
async fn assert_repeats_flags(pool: &AnyPool) -> usize {
    let stored: Vec<(i64, String, String, i64)> =
        sqlx::query_as("SELECT detected_at, services, tags, repeats FROM incidents")
            .fetch_all(pool)
            .await
            .unwrap();
    let all: Vec<IncidentFacts> = stored
        .iter()
        .map(|(d, services, tags, _)| {
            facts(&(
                *d,
                None,
                None,
                None,
                String::new(),
                services.clone(),
                tags.clone(),
                String::new(),
            ))
        })
        .collect();
    let mut repeating = 0;
    for (f, (.., flag)) in all.iter().zip(&stored) {
        let expected = all.iter().any(|h| repeats(f, h));
        assert_eq!(*flag == 1, expected, "repeats flag of {f:?}");
        repeating += usize::from(expected);
    }
    repeating
}

fn reference(rows: &[Row], measure: Measure, filter: &BoardFilter) -> DurationStats {
    let values: Vec<i64> = in_filter(rows, filter)
        .filter_map(|(d, ack, mit, rec, ..)| {
            let end = match measure {
                Measure::Mtta => *ack,
                Measure::Mttm => *mit,
                Measure::Mttr => *rec,
            };
            end.map(|e| e - d)
        })
        .collect();
    duration_stats(&values)
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-6 * a.abs().max(1.0),
        (None, None) => true,
        _ => false,
    }
}

db_test! {
    async fn duration_statistics_in_sql_equal_the_reference_on_random_incidents(db) {
        for seed in [3u64, 11] {
            // A fresh set per seed: demo data only goes into an empty database.
            for table in ["reminders", "action_items", "postmortem_drafts", "postmortems", "incident_events",
                          "incident_services", "incident_tags", "incidents"] {
                sqlx::query(&format!("DELETE FROM {table}")).execute(&db.pool).await.unwrap();
            }
            demo::fill(&db.pool, 60, seed).await.unwrap();
            let all = rows(&db.pool).await;
            let now = to_millis(Utc::now());
            let filters = [
                BoardFilter { from: 0, until: now + 1, ..Default::default() },
                BoardFilter { from: now - 10 * 86_400_000, until: now + 1, ..Default::default() },
                BoardFilter { from: 0, until: now + 1, severity: Some(Severity::Sev2), ..Default::default() },
                BoardFilter { from: 0, until: now + 1, service: Some("checkout".into()), ..Default::default() },
                BoardFilter { from: now, until: now + 1, ..Default::default() },
            ];
            for filter in &filters {
                for measure in Measure::ALL {
                    let expected = reference(&all, *measure, filter);
                    let got = repo::metrics::duration_stats(&db.pool, *measure, filter).await.unwrap();
                    assert_eq!(got.count, expected.count, "{measure:?} {filter:?}");
                    for (g, e) in [(got.mean_ms, expected.mean_ms), (got.median_ms, expected.median_ms), (got.p90_ms, expected.p90_ms)] {
                        assert!(close(g, e), "{measure:?} {filter:?}: {got:?} ≠ {expected:?}");
                    }
                }
            }
            assert!(reference(&all, Measure::Mttr, &filters[0]).count > 10, "the data set has recovered incidents");

            // Recurrence: the filter's incidents against every incident before them.
            let history: Vec<IncidentFacts> = all.iter().map(facts).collect();
            for filter in &filters {
                let subjects: Vec<IncidentFacts> = in_filter(&all, filter).map(facts).collect();
                let expected = (recurrences(&subjects, &history), subjects.len() as u64);
                let got = repo::metrics::recurrence(&db.pool, filter).await.unwrap();
                assert_eq!(got, expected, "recurrence {filter:?}");
            }
            assert!(recurrences(&history, &history) > 0, "the data set has recurrences");
            assert!(assert_repeats_flags(&db.pool).await > 0);

            // Breakdowns: severity and status counts equal counting the rows.
            for filter in &filters {
                let severity: fn(&Row) -> &String = |r| &r.4;
                let status: fn(&Row) -> &String = |r| &r.7;
                for (breakdown, key) in [(Breakdown::Severity, severity), (Breakdown::Status, status)] {
                    let got = repo::metrics::count_by(&db.pool, breakdown, filter).await.unwrap();
                    let mut expected = std::collections::BTreeMap::<String, u64>::new();
                    for row in in_filter(&all, filter) {
                        *expected.entry(key(row).clone()).or_default() += 1;
                    }
                    let got: std::collections::BTreeMap<String, u64> = got.into_iter().collect();
                    assert_eq!(got, expected, "{breakdown:?} {filter:?}");
                }
                let services = repo::metrics::count_by(&db.pool, Breakdown::Service, filter).await.unwrap();
                for (service, n) in services {
                    let expected = in_filter(&all, filter).filter(|r| r.5.split(',').any(|x| x.trim() == service)).count() as u64;
                    assert_eq!(n, expected, "{service} {filter:?}");
                }
            }
        }
    }
}

db_test! {
    async fn drill_pass_rate_and_mean_score_count_scored_drill_runs_that_ended_in_the_range(db) {
        use nightwatch::model::catalog::{ActionCode, Scene};
        use nightwatch::model::plan::{ParamValue, PlanDraft, Step};
        use nightwatch::model::run::Trigger;
        use nightwatch::model::Role;
        use nightwatch::server::service::{plans, runs};
        let rita = crate::support::user(&db.pool, "rita", Role::Responder, crate::support::PASSWORD).await;
        let plan = |service: &str, scene: Scene| {
            let mut wait = Step::new("w".into(), ActionCode::Wait, None);
            wait.params.insert("duration".into(), ParamValue::Set("1ms".into()));
            PlanDraft {
                name: format!("{service} plan"), description: String::new(), scene,
                service: service.into(), scenario: "x".into(), rto_secs: None, rpo_secs: None,
                enabled: true, steps: vec![wait], schedule: None,
            }
        };
        let cache = plans::create(&db.pool, &rita, plan("cache", Scene::Drill)).await.unwrap();
        let checkout = plans::create(&db.pool, &rita, plan("checkout", Scene::Drill)).await.unwrap();
        let emergency = plans::create(&db.pool, &rita, plan("cache", Scene::Emergency)).await.unwrap();
        // (plan, score, verdict, finished day): the emergency run and the unscored one don't count.
        let day = 86_400_000i64;
        let runs_made = [
            (cache, Some(100), "pass", 1), (cache, Some(80), "fail", 2), (checkout, Some(60), "fail", 2),
            (cache, Some(100), "pass", 9), (emergency, Some(100), "pass", 2), (cache, None, "", 2),
        ];
        for (plan, score, verdict, finished) in runs_made {
            let n = runs::create(&db.pool, Some(&rita), plan, Trigger::Manual, &Default::default(), None).await.unwrap().number;
            sqlx::query("UPDATE runs SET status = 'passed', score = $1, verdict = $2, finished_at = $3 WHERE number = $4")
                .bind(score).bind((!verdict.is_empty()).then_some(verdict)).bind(finished * day).bind(n)
                .execute(&db.pool).await.unwrap();
        }
        let range = |service: Option<&str>| BoardFilter { from: day, until: 3 * day, service: service.map(str::to_owned), ..Default::default() };
        let all = repo::metrics::drill_stats(&db.pool, &range(None)).await.unwrap();
        assert_eq!((all.scored, all.passed, all.mean_score), (3, 1, Some(80.0)));
        assert_eq!(all.pass_rate().map(f64::round), Some(33.0));
        let cache_only = repo::metrics::drill_stats(&db.pool, &range(Some("cache"))).await.unwrap();
        assert_eq!((cache_only.scored, cache_only.passed, cache_only.mean_score), (2, 1, Some(90.0)));
        let empty = repo::metrics::drill_stats(&db.pool, &BoardFilter { from: 20 * day, until: 21 * day, ..Default::default() }).await.unwrap();
        assert_eq!((empty.scored, empty.mean_score), (0, None));
    }
}

db_test! {
    async fn action_item_figures_and_trends_in_sql_equal_the_reference(db) {
        use chrono::NaiveDate;
        use nightwatch::model::board::{BoardQuery, Period, buckets, day_start};
        use nightwatch::model::metrics::{DAY_MS, done_on_time};
        // 400: the 250 oldest are archived by the bulk writer (reviewed, items done early or late).
        demo::fill(&db.pool, 400, 5).await.unwrap();
        // Close items around the end of their due day: a millisecond before, at it, days after.
        let items: Vec<(String, String)> =
            sqlx::query_as("SELECT id, due_on FROM action_items ORDER BY id").fetch_all(&db.pool).await.unwrap();
        assert!(items.len() >= 8, "the demo has action items: {}", items.len());
        for (k, (id, due)) in items.iter().enumerate() {
            let end = day_start(NaiveDate::parse_from_str(due, "%Y-%m-%d").unwrap()) + DAY_MS;
            let done_at = match k % 4 {
                0 => continue,
                1 => end - 1,
                2 => end,
                _ => end + 5 * DAY_MS,
            };
            sqlx::query("UPDATE action_items SET state = 'done', done_at = $1 WHERE id = $2")
                .bind(done_at).bind(id).execute(&db.pool).await.unwrap();
        }
        type Item = (String, String, Option<i64>, i64, String, String);
        let all_items: Vec<Item> = sqlx::query_as(
            "SELECT a.state, a.due_on, a.done_at, i.detected_at, i.severity, i.services \
             FROM action_items a JOIN incidents i ON i.id = a.incident_id",
        ).fetch_all(&db.pool).await.unwrap();
        let today = Utc::now().date_naive();
        let today_text = today.format("%Y-%m-%d").to_string();
        let now = to_millis(Utc::now());
        let filters = [
            BoardFilter { from: 0, until: now + 1, ..Default::default() },
            BoardFilter { from: now - 20 * DAY_MS, until: now + 1, ..Default::default() },
            BoardFilter { from: 0, until: now + 1, severity: Some(Severity::Sev3), ..Default::default() },
            BoardFilter { from: 0, until: now + 1, service: Some("payments".into()), ..Default::default() },
        ];
        for filter in &filters {
            let mine = all_items.iter().filter(|(_, _, _, d, sev, services)| {
                *d >= filter.from && *d < filter.until
                    && filter.severity.is_none_or(|s| sev == s.as_str())
                    && filter.service.as_ref().is_none_or(|s| services.split(',').any(|x| x == s))
            });
            let mut expected = nightwatch::model::metrics::ActionFigures::default();
            for (state, due, done_at, ..) in mine {
                if state == "done" {
                    expected.closed += 1;
                    if done_on_time(done_at.unwrap(), due).unwrap() {
                        expected.closed_on_time += 1;
                    }
                } else {
                    expected.open += 1;
                    if due.as_str() < today_text.as_str() {
                        expected.overdue += 1;
                    }
                }
            }
            let got = repo::metrics::action_figures(&db.pool, filter, &today_text).await.unwrap();
            assert_eq!(got, expected, "{filter:?}");
        }
        let everything = repo::metrics::action_figures(&db.pool, &filters[0], &today_text).await.unwrap();
        assert!(everything.closed_on_time > 0 && everything.closed_on_time < everything.closed, "{everything:?}");

        // Trends: each week's and month's counts and mean recovery equal the rows', and add up.
        let all = rows(&db.pool).await;
        for period in [Period::Week, Period::Month] {
            for severity in ["", "sev2"] {
                let query = BoardQuery {
                    from: (today - chrono::Duration::days(69)).format("%Y-%m-%d").to_string(),
                    severity: severity.into(),
                    period: period.as_str().into(),
                    ..Default::default()
                };
                let request = query.check(today).unwrap();
                let points = buckets(period, request.first, request.last);
                let got = repo::metrics::trend(&db.pool, &request.filter, &points).await.unwrap();
                assert_eq!(got.len(), points.len());
                for point in &got {
                    let bucket = BoardFilter { from: point.bucket.start, until: point.bucket.end, ..request.filter.clone() };
                    let rows: Vec<&Row> = in_filter(&all, &bucket).collect();
                    let recovered: Vec<i64> = rows.iter().filter_map(|r| r.3.map(|e| e - r.0)).collect();
                    assert_eq!(point.incidents, rows.len() as u64, "{period:?} {}", point.bucket.label);
                    assert_eq!(point.recovered, recovered.len() as u64);
                    assert!(close(point.mttr_mean_ms, duration_stats(&recovered).mean_ms), "{point:?}");
                }
                let total: u64 = got.iter().map(|p| p.incidents).sum();
                assert_eq!(total, in_filter(&all, &request.filter).count() as u64, "{period:?} adds up");
            }
        }
    }
}

db_test! {
    async fn declarations_in_any_order_keep_every_repeats_flag_true(db) {
        use chrono::Duration;
        use nightwatch::model::Role;
        use nightwatch::model::incident_input::NewIncident;
        use nightwatch::server::service::incidents as service;
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};

        let cmdr = crate::support::user(&db.pool, "cmdr", Role::Commander, crate::support::PASSWORD).await;
        let mut rng = StdRng::seed_from_u64(17);
        let now = Utc::now();
        let pick = |rng: &mut StdRng, from: &[&str]| {
            from.iter().filter(|_| rng.gen_bool(0.4)).copied().collect::<Vec<_>>().join(",")
        };
        // Detected at random over 120 days, declared in random order: a backdated declaration
        // makes later incidents repeats. Some days repeat exactly (ties are not "earlier").
        for k in 0..70 {
            let day = rng.gen_range(0..120i64);
            let minutes = if k % 7 == 0 { 0 } else { rng.gen_range(0..1_440i64) };
            let detected = (now - Duration::days(day) - Duration::minutes(minutes)).format("%Y-%m-%dT%H:%M").to_string();
            let mut services = pick(&mut rng, &["api", "db", "cdn"]);
            if services.is_empty() {
                services = "api".into();
            }
            let tags = pick(&mut rng, &["latency", "deploy", "disk"]);
            let new = NewIncident::parse(&format!("Incident {k}"), "", "sev3", &services, &tags, &detected, now).unwrap();
            service::declare(&db.pool, &cmdr, &new).await.unwrap();
        }
        let repeating = assert_repeats_flags(&db.pool).await;
        assert!(repeating > 5 && repeating < 70, "a mixed data set: {repeating} repeat");
        let all = rows(&db.pool).await;
        let history: Vec<IncidentFacts> = all.iter().map(facts).collect();
        for filter in [
            BoardFilter { from: 0, until: to_millis(now) + 1, ..Default::default() },
            BoardFilter { from: to_millis(now) - 30 * 86_400_000, until: to_millis(now) + 1, service: Some("db".into()), ..Default::default() },
        ] {
            let subjects: Vec<IncidentFacts> = in_filter(&all, &filter).map(facts).collect();
            let expected = (recurrences(&subjects, &history), subjects.len() as u64);
            assert_eq!(repo::metrics::recurrence(&db.pool, &filter).await.unwrap(), expected, "{filter:?}");
        }
    }
}

db_test! {
    async fn identical_board_views_at_once_are_computed_once_and_equal_a_board_alone(db) {
        use nightwatch::model::board::BoardQuery;
        use nightwatch::server::service::metrics::{Boards, board};

        demo::fill(&db.pool, 300, 7).await.unwrap();
        let today = Utc::now().date_naive();
        let request = BoardQuery::default().check(today).unwrap();
        let alone = board(&db.pool, &request, today).await.unwrap();
        assert!(alone.incidents > 0, "the default view has incidents");

        // Eight viewers at once, the board's queries on one connection: one computation, shared.
        let boards = Boards::with_slots(1);
        let views =
            futures::future::join_all((0..8).map(|_| boards.view(&db.pool, &request, today)))
                .await;
        for view in views {
            assert_eq!(view.unwrap(), alone);
        }
        assert_eq!(boards.computed(), 1);
        assert_eq!(boards.computing(), 0, "a finished view is not kept");

        // A later request computes afresh and sees what was written since.
        sqlx::query("UPDATE incidents SET severity = 'sev1' WHERE severity <> 'sev1'")
            .execute(&db.pool)
            .await
            .unwrap();
        let later = boards.view(&db.pool, &request, today).await.unwrap();
        assert_eq!(boards.computed(), 2);
        let sev1 = later.by_severity.iter().find(|(s, _)| s == "sev1").unwrap().1;
        assert_eq!(sev1, later.incidents);
    }
}

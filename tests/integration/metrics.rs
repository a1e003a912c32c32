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

db_test! {
    async fn with_a_service_chosen_the_board_offers_every_service_of_the_range_to_switch_to(db) {
        use nightwatch::model::board::BoardQuery;
        use nightwatch::model::Role;
        use nightwatch::server::service::incidents as service;
        use nightwatch::server::service::metrics::board;

        let cmdr = crate::support::user(&db.pool, "cmdr", Role::Commander, crate::support::PASSWORD).await;
        // Incidents 15 days apart over a year, so the range holds whole months (read from the
        // rollups) and parts of months (counted from the incidents).
        let more: Vec<String> = (10..30).map(|i| format!("svc-{i}")).collect();
        let all = ["payments,checkout", "search", "ledger"].into_iter().chain(more.iter().map(String::as_str));
        for (i, services) in all.enumerate() {
            let detected = (Utc::now() - chrono::Duration::days(15 * i as i64 + 1)).format("%Y-%m-%dT%H:%M:%S").to_string();
            let new = nightwatch::model::incident_input::NewIncident::parse(
                &format!("Service {i}"), "", "sev2", services, "", &detected, Utc::now(),
            ).unwrap();
            service::declare(&db.pool, &cmdr, &new).await.unwrap();
        }
        let today = Utc::now().date_naive();
        let from = (today - chrono::Duration::days(365)).format("%Y-%m-%d").to_string();
        let query = |service: &str| BoardQuery { from: from.clone(), service: service.into(), ..BoardQuery::default() };

        let chosen = board(&db.pool, &query("payments").check(today).unwrap(), today).await.unwrap();

        let names: Vec<&str> = chosen.by_service.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(names, ["checkout", "payments"], "the breakdown counts the chosen service's incidents");
        let mut every: Vec<&str> = vec!["checkout", "ledger", "payments", "search"];
        every.extend(more.iter().map(String::as_str));
        every.sort();
        assert_eq!(chosen.services, every, "every service of the range, not only the 20 largest");
        let any = board(&db.pool, &query("").check(today).unwrap(), today).await.unwrap();
        assert_eq!(any.services, every);
        assert_eq!(any.by_service.len(), 20, "the breakdown shows the 20 largest");
    }
}

db_test! {
    async fn the_board_offers_the_200_services_with_the_most_incidents_and_the_chosen_one(db) {
        use nightwatch::model::board::BoardQuery;
        use nightwatch::model::Role;
        use nightwatch::server::service::incidents as service;
        use nightwatch::server::service::metrics::{SERVICES_OFFERED, board};

        let cmdr = crate::support::user(&db.pool, "cmdr", Role::Commander, crate::support::PASSWORD).await;
        // 23 incidents naming "busy" and nine services of their own each: 208 services.
        for i in 0..23 {
            let own: Vec<String> = (0..9).map(|k| format!("s-{:03}", i * 9 + k)).collect();
            let services = format!("busy,{}", own.join(","));
            let new = nightwatch::model::incident_input::NewIncident::parse(
                &format!("Many services {i}"), "", "sev3", &services, "", "", Utc::now(),
            ).unwrap();
            service::declare(&db.pool, &cmdr, &new).await.unwrap();
        }
        let today = Utc::now().date_naive();
        let query = |service: &str| BoardQuery { service: service.into(), ..BoardQuery::default() };

        let any = board(&db.pool, &query("").check(today).unwrap(), today).await.unwrap();
        assert_eq!(any.services.len(), SERVICES_OFFERED);
        assert!(any.services.contains(&"busy".to_owned()), "the largest is offered");
        assert!(!any.services.contains(&"s-206".to_owned()), "the last by name of the smallest is not");

        let chosen = board(&db.pool, &query("s-206").check(today).unwrap(), today).await.unwrap();
        assert_eq!(chosen.incidents, 1);
        assert_eq!(chosen.services.len(), SERVICES_OFFERED + 1, "the chosen one is offered too");
        assert!(chosen.services.contains(&"s-206".to_owned()));
    }
}

type MonthRows = Vec<Vec<i64>>;
type HistogramRows = Vec<(String, i64, String, i64, i64)>;

/// The monthly rollups as kept and as counting every incident gives them: (month, severity,
/// status, n, repeats, acknowledged, ms, mitigated, ms, resolved, ms) and the histograms
/// (measure, month, severity, bucket, n), zero rows left out.
async fn rollups_kept_and_counted(
    pool: &AnyPool,
) -> ((MonthRows, HistogramRows), (MonthRows, HistogramRows)) {
    use nightwatch::model::rollup::{bucket_of, month_of};
    use std::collections::BTreeMap;
    type Incident = (
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        String,
        String,
        i64,
    );
    let incidents: Vec<Incident> = sqlx::query_as(
        "SELECT detected_at, acknowledged_at, mitigated_at, resolved_at, severity, status, repeats FROM incidents",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let severities = ["sev1", "sev2", "sev3", "sev4"];
    let statuses = ["open", "mitigating", "recovered", "reviewed"];
    let code = |list: &[&str], s: &str| list.iter().position(|x| *x == s).unwrap() as i64;
    let mut months: BTreeMap<(i64, i64, i64), [i64; 8]> = BTreeMap::new();
    let mut histograms: BTreeMap<(String, i64, String, i64), i64> = BTreeMap::new();
    for (d, ack, mit, res, severity, status, repeats) in &incidents {
        let month = month_of(*d);
        let row = months
            .entry((month, code(&severities, severity), code(&statuses, status)))
            .or_default();
        row[0] += 1;
        row[1] += repeats;
        for (k, (end, measure)) in [(ack, "mtta"), (mit, "mttm"), (res, "mttr")]
            .into_iter()
            .enumerate()
        {
            if let Some(end) = end {
                row[2 + 2 * k] += 1;
                row[3 + 2 * k] += end - d;
                *histograms
                    .entry((
                        measure.to_owned(),
                        month,
                        severity.clone(),
                        bucket_of(end - d),
                    ))
                    .or_default() += 1;
            }
        }
    }
    let counted_months: MonthRows = months
        .into_iter()
        .map(|((m, sev, st), v)| [vec![m, sev, st], v.to_vec()].concat())
        .collect();
    let counted_histograms = histograms
        .into_iter()
        .map(|((a, b, c, d), n)| (a, b, c, d, n))
        .collect();
    let kept: Vec<nightwatch::server::repo::rollups::Figures> = sqlx::query_as(
        "SELECT month, severity, status, n, repeats, acknowledged, acknowledged_ms, mitigated, mitigated_ms, resolved, resolved_ms \
         FROM incident_months WHERE n <> 0 OR acknowledged_ms <> 0 OR mitigated_ms <> 0 OR resolved_ms <> 0 OR repeats <> 0",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut kept_months: MonthRows = kept
        .into_iter()
        .map(|f| {
            vec![
                f.month,
                code(&severities, &f.severity),
                code(&statuses, &f.status),
                f.n,
                f.repeats,
                f.acknowledged,
                f.acknowledged_ms,
                f.mitigated,
                f.mitigated_ms,
                f.resolved,
                f.resolved_ms,
            ]
        })
        .collect();
    kept_months.sort();
    let mut kept_histograms: HistogramRows = sqlx::query_as(
        "SELECT measure, month, severity, lo, n FROM incident_month_durations WHERE n <> 0",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    kept_histograms.sort();
    (
        (kept_months, kept_histograms),
        (counted_months, counted_histograms),
    )
}

db_test! {
    async fn boards_read_from_the_monthly_rollups_equal_boards_counted_from_every_incident(db) {
        use nightwatch::model::board::{Board, BoardQuery};
        use nightwatch::model::incident::{IncidentNumber, IncidentStatus::*};
        use nightwatch::model::Role;
        use nightwatch::server::service::incidents as service;
        use nightwatch::server::service::metrics::Boards;

        // The demo generator's bulk insert (about two months), then the app's own writes from
        // two instances at once: moves forward and back and severity changes crossing on the
        // same rollup rows, and a deletion.
        demo::fill(&db.pool, 400, 9).await.unwrap();
        let cmdr = crate::support::user(&db.pool, "cmdr", Role::Commander, crate::support::PASSWORD).await;
        let second = nightwatch::server::db::connect(&db.url, 5).await.unwrap();
        // Declared through the app across the last 70 days (detection is kept as declared).
        let mut open = Vec::new();
        for i in 0..12i64 {
            let severity = ["sev1", "sev2", "sev3", "sev4"][i as usize % 4];
            let detected = (Utc::now() - chrono::Duration::hours(i * 140 + 1)).format("%Y-%m-%dT%H:%M:%S").to_string();
            let new = nightwatch::model::incident_input::NewIncident::parse(
                &format!("Rolled up {i}"), "", severity, "api", "db", &detected, Utc::now(),
            ).unwrap();
            let n = service::declare(&db.pool, &cmdr, &new).await.unwrap();
            open.push((n.0, severity.to_owned()));
        }
        let moves = open.iter().enumerate().map(|(i, (n, severity))| {
            let pool = if i % 2 == 0 { db.pool.clone() } else { second.clone() };
            let cmdr = cmdr.clone();
            let (n, from) = (IncidentNumber(*n), severity.parse::<Severity>().unwrap());
            async move {
                service::transition(&pool, &cmdr, n, Open, Mitigating, "on it").await.unwrap();
                service::transition(&pool, &cmdr, n, Mitigating, Recovered, "fixed").await.unwrap();
                if i % 3 == 0 {
                    service::transition(&pool, &cmdr, n, Recovered, Mitigating, "relapsed").await.unwrap();
                }
                let to = if from == Severity::Sev1 { Severity::Sev4 } else { Severity::Sev1 };
                service::change_severity(&pool, &cmdr, n, from, to, "re-rated").await.unwrap();
            }
        });
        futures::future::join_all(moves).await;
        second.close().await;
        let gone: String = sqlx::query_scalar("SELECT id FROM incidents ORDER BY number DESC LIMIT 1")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        for table in ["incident_events", "incident_services", "incident_tags"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE incident_id = $1")).bind(&gone).execute(&db.pool).await.unwrap();
        }
        sqlx::query("DELETE FROM incidents WHERE id = $1").bind(&gone).execute(&db.pool).await.unwrap();

        // Action items done (some after their due day), postponed, and one moved to another
        // incident, written as the app writes them: the incidents' item figures move with them.
        let now = to_millis(Utc::now());
        sqlx::query("UPDATE action_items SET state = 'done', done_at = $1 WHERE id IN (SELECT id FROM action_items WHERE state <> 'done' ORDER BY id LIMIT 5)")
            .bind(now).execute(&db.pool).await.unwrap();
        sqlx::query("UPDATE action_items SET due_on = '2030-01-01' WHERE id IN (SELECT id FROM action_items WHERE state <> 'done' ORDER BY id LIMIT 3)")
            .execute(&db.pool).await.unwrap();
        let newest: String = sqlx::query_scalar("SELECT id FROM incidents ORDER BY detected_at DESC LIMIT 1 OFFSET 1")
            .fetch_one(&db.pool).await.unwrap();
        sqlx::query("UPDATE action_items SET incident_id = $1 WHERE id IN (SELECT id FROM action_items WHERE incident_id IS NOT NULL ORDER BY id LIMIT 2)")
            .bind(&newest).execute(&db.pool).await.unwrap();

        let (kept, counted) = rollups_kept_and_counted(&db.pool).await;
        assert_eq!(kept.0, counted.0, "the monthly figures");
        assert_eq!(kept.1, counted.1, "the histograms");
        let services = |sql: &'static str| {
            let pool = db.pool.clone();
            async move {
                let mut rows: Vec<(i64, String, String, i64)> = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
                rows.sort();
                rows
            }
        };
        // Incidents per month (as the model numbers months), service and severity, counted.
        let pairs: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT s.detected_at, s.service, i.severity FROM incident_services s JOIN incidents i ON i.id = s.incident_id",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        let mut expected: std::collections::BTreeMap<(i64, String, String), i64> = Default::default();
        for (d, service, severity) in pairs {
            *expected.entry((nightwatch::model::rollup::month_of(d), service, severity)).or_default() += 1;
        }
        let expected: Vec<(i64, String, String, i64)> = expected.into_iter().map(|((m, s, v), n)| (m, s, v, n)).collect();
        let kept_services = services("SELECT month, service, severity, n FROM incident_service_months WHERE n <> 0").await;
        assert_eq!(kept_services, expected, "the services per month");

        // Views with whole months in them (and parts outside them), by week and by month, of
        // one severity: read from the rollups, they equal the board counted from every incident.
        let today = Utc::now().date_naive();
        let day = |days: i64| (today - chrono::Duration::days(days)).format("%Y-%m-%d").to_string();
        let views = [
            BoardQuery { from: day(400), period: "month".into(), ..Default::default() },
            BoardQuery { from: day(75), ..Default::default() },
            BoardQuery { from: day(75), severity: "sev2".into(), period: "month".into(), ..Default::default() },
            BoardQuery::default(),
        ];
        let approximated = |b: &Board| b.measures.iter().filter(|m| m.stats.approximate).count();
        for query in &views {
            let request = query.check(today).unwrap();
            let counted = Boards::with_slots(4).without_rollups().view(&db.pool, &request, today).await.unwrap();
            assert!(counted.incidents > 0, "{query:?}");
            if query.from == day(400) {
                assert!(counted.actions.open > 0 && counted.actions.closed > 0, "{:?}", counted.actions);
            }
            let rolled = Boards::with_slots(4).view(&db.pool, &request, today).await.unwrap();
            assert_eq!(rolled, counted, "{query:?}");
            assert_eq!(approximated(&rolled), 0);

            // Past the exact bound, the median and p90 come from the histogram: within 5 % (or a
            // second) of the ranked figures, and the board says they are approximated.
            let approx = Boards::with_slots(4).exact_up_to(0).view(&db.pool, &request, today).await.unwrap();
            assert_eq!(approximated(&approx), 3, "{query:?}");
            for (a, c) in approx.measures.iter().zip(&counted.measures) {
                assert_eq!((a.stats.count, a.stats.mean_ms), (c.stats.count, c.stats.mean_ms));
                for (x, e) in [(a.stats.median_ms, c.stats.median_ms), (a.stats.p90_ms, c.stats.p90_ms)] {
                    let (x, e) = (x.unwrap(), e.unwrap());
                    assert!((x - e).abs() <= e * 0.05 + 1000.0, "{query:?} {:?}: {x} vs {e}", a.measure);
                }
            }
            assert_eq!((approx.trend, approx.by_status), (counted.trend, counted.by_status));
        }
    }
}

db_test! {
    async fn an_action_item_done_while_its_incident_is_re_rated_is_counted_once_under_the_new_severity(db) {
        use nightwatch::model::Role;
        use nightwatch::model::action_item::{ItemSource, NewActionItem};
        use nightwatch::server::service::{action_items, incidents as service};
        // Two transactions at once, as two instances make them: one marks an item done and
        // commits a moment later, the other re-rates the item's incident meanwhile. On
        // PostgreSQL each trigger read the other's old state and the item was counted twice,
        // under both severities.
        let ada = crate::support::user(&db.pool, "ada", Role::Commander, crate::support::PASSWORD).await;
        let detected = (Utc::now() - chrono::Duration::days(40)).format("%Y-%m-%dT%H:%M:%S").to_string();
        let new = nightwatch::model::incident_input::NewIncident::parse("Re-rated", "", "sev3", "api", "", &detected, Utc::now()).unwrap();
        let number = service::declare(&db.pool, &ada, &new).await.unwrap();
        let due = Utc::now().date_naive().format("%Y-%m-%d").to_string();
        let item = NewActionItem::parse("Add an alarm", "ada", &due, "p2", "corrective").unwrap();
        action_items::create(&db.pool, &ada, ItemSource::Incident(number), &item).await.unwrap();
        let (item_id, incident_id): (String, String) =
            sqlx::query_as("SELECT a.id, a.incident_id FROM action_items a").fetch_one(&db.pool).await.unwrap();

        let second = nightwatch::server::db::connect(&db.url, 2).await.unwrap();
        let pool = db.pool.clone();
        let done = tokio::spawn(async move {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("UPDATE action_items SET state = 'done', done_at = $1 WHERE id = $2")
                .bind(to_millis(Utc::now()))
                .bind(&item_id)
                .execute(&mut *tx)
                .await
                .unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(400)).await;
            tx.commit().await.unwrap();
        });
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        sqlx::query("UPDATE incidents SET severity = 'sev1' WHERE id = $1")
            .bind(&incident_id)
            .execute(&second)
            .await
            .unwrap();
        done.await.unwrap();
        second.close().await;

        let mut kept: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT severity, done, CAST(SUM(n) AS BIGINT) FROM incident_item_months GROUP BY severity, done HAVING SUM(n) <> 0",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        kept.sort();
        assert_eq!(kept, [("sev1".to_owned(), 1, 1)], "one item, done, under the incident's new severity");
        let negative: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM incident_item_months WHERE n < 0")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(negative, 0);
    }
}

//! The metrics board through the router: viewers read it, the filter travels in the URL, bad
//! filters are refused beside their fields (page and server function), anonymous readers sign in.

use axum::http::StatusCode;
use chrono::Utc;
use nightwatch::model::Role;
use nightwatch::model::board::Board;
use nightwatch::server::db::to_millis;
use nightwatch::server::demo;

use crate::support::{PASSWORD, TestApp, text, user};

db_test! {
    async fn a_viewer_reads_the_board_and_bad_filters_are_refused_beside_their_fields(db) {
        demo::fill(&db.pool, 40, 2).await.unwrap();
        user(&db.pool, "vic", Role::Viewer, PASSWORD).await;
        let app = TestApp::new(&db);
        let anonymous = app.get("/board", None).await;
        assert!(anonymous.status().is_redirection(), "{}", anonymous.status());

        let cookie = app.sign_in("vic", PASSWORD).await;
        let page = app.get("/board", Some(&cookie)).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = text(page).await;
        let since = to_millis(Utc::now() - chrono::Duration::days(89)) / 86_400_000 * 86_400_000;
        let (in_range,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM incidents WHERE detected_at >= $1")
            .bind(since).fetch_one(&db.pool).await.unwrap();
        for expected in [
            "MTTA", "MTTM", "MTTR", "Mean time to acknowledge: from detection", "Recurrence",
            "Drill pass rate", "Action items", "Incidents per week", "Mean time to recover per week",
            "By severity", "By status", "By service", &format!("{in_range} incidents detected"),
        ] {
            assert!(html.contains(expected), "missing {expected:?}");
        }
        assert!(html.contains("<svg"), "charts are drawn on the server");

        let bad = text(app.get("/board?from=yesterday&severity=sev9&period=month", Some(&cookie)).await).await;
        assert!(bad.contains("is not a date: write it as YYYY-MM-DD"), "{bad}");
        assert!(bad.contains("is not a severity."));
        assert!(!bad.contains("Incidents per month"), "no figures for a refused filter");

        let res = app.call("board", &[("query[severity]", "sev2"), ("query[period]", "month")], Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let board: Board = serde_json::from_str(&text(res).await).unwrap();
        let (sev2,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM incidents WHERE detected_at >= $1 AND severity = 'sev2'")
            .bind(since).fetch_one(&db.pool).await.unwrap();
        assert_eq!(board.incidents, sev2 as u64);
        assert_eq!(board.by_severity.iter().map(|(_, n)| *n).sum::<u64>(), sev2 as u64);
        assert_eq!(board.trend.iter().map(|p| p.incidents).sum::<u64>(), sev2 as u64);

        let res = app.call("board", &[("query[until]", "2026-02-30")], Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}

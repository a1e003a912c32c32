//! Security through the real router, as an attacker would try it: hostile text on every page
//! that shows user text, the page policy and its nonces, sign-in redirects that must stay on the
//! site, a burst of wrong passwords, made-up methods against `/metrics`, NUL bytes and absurd
//! values at the edge, and what a viewer may read of a run.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use chrono::Utc;
use nightwatch::model::action_item::{ItemSource, NewActionItem};
use nightwatch::model::catalog::{ActionCode, Scene};
use nightwatch::model::incident::IncidentNumber;
use nightwatch::model::incident_input::NewIncident;
use nightwatch::model::plan::{ParamValue, PlanDraft, Step};
use nightwatch::model::postmortem::{PostmortemDoc, Why, WhyChain};
use nightwatch::model::run::{RunStatus, RunView, Trigger};
use nightwatch::model::{AppError, Role};
use nightwatch::server::config::Config;
use nightwatch::server::security::DEFAULT_POLICY;
use nightwatch::server::service::{action_items, incidents, plans, postmortems, runs};

use crate::support::{PASSWORD, TestApp, TestDb, call_json, text, user};

/// Text that would run script in a reader's browser if it reached a page as markup.
const HOSTILE: &str = r#"E</title><script>alert(1)</script><img src=x onerror=alert(2)>"'</textarea><SCRIPT>alert(3)</SCRIPT>"#;

/// The nonce of a page's policy.
fn nonce(res: &Response<Body>) -> String {
    let policy = res
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .expect("a page has a Content-Security-Policy")
        .to_str()
        .unwrap();
    let start = policy.find("'nonce-").expect("the policy names a nonce") + "'nonce-".len();
    let len = policy[start..].find('\'').unwrap();
    policy[start..start + len].to_owned()
}

/// Fails unless every `<script` of `html` carries `nonce` and no tag from `HOSTILE` is there.
fn assert_only_our_scripts(page: &str, html: &str, nonce: &str) {
    let lower = html.to_ascii_lowercase();
    let mut scripts = 0;
    for (i, _) in lower.match_indices("<script") {
        let end = html[i..].find('>').map_or(html.len(), |e| i + e + 1);
        let tag = &html[i..end];
        assert!(
            tag.contains(&format!("nonce=\"{nonce}\"")),
            "{page}: a script without this response's nonce: {tag} in …{}…",
            &html[i.saturating_sub(300)..(end + 300).min(html.len())]
        );
        scripts += 1;
    }
    assert!(scripts > 0, "{page}: the hydration script is there");
    assert!(
        !lower.contains("<img src=x"),
        "{page}: a hostile tag survived"
    );
    assert!(
        !lower.contains("</textarea><script"),
        "{page}: a hostile tag survived"
    );
    let title_start = lower.find("<title>").expect("a title") + "<title>".len();
    let title_end = title_start + lower[title_start..].find("</title>").unwrap();
    let title = &html[title_start..title_end];
    assert!(!title.contains('<'), "{page}: markup in the title: {title}");
}

db_test! {
    async fn hostile_text_never_reaches_a_page_as_markup_and_every_script_carries_the_nonce(db) {
        let admin = user(&db.pool, "ada", Role::Admin, PASSWORD).await;
        let new = NewIncident::parse(HOSTILE, HOSTILE, "sev1", "payments", "eu", "", Utc::now()).unwrap();
        let n = incidents::declare(&db.pool, &admin, &new).await.unwrap();
        incidents::add_note(&db.pool, &admin, n, HOSTILE, "", None).await.unwrap();
        let item = NewActionItem::parse(HOSTILE, "ada", "2030-01-01", "p2", "corrective").unwrap();
        action_items::create(&db.pool, &admin, ItemSource::Incident(n), &item).await.unwrap();
        let pm = postmortems::open(&db.pool, &admin, n).await.unwrap();
        let doc = PostmortemDoc {
            summary: HOSTILE.into(),
            impact: HOSTILE.into(),
            root_causes: vec![HOSTILE.into()],
            whys: WhyChain::new(vec![Why { why: HOSTILE.into(), because: HOSTILE.into() }]).unwrap(),
            went_well: vec![HOSTILE.into()],
            ..PostmortemDoc::default()
        };
        postmortems::save(&db.pool, &admin, n, &doc, pm.version).await.unwrap();
        let mut step = Step::new(HOSTILE.into(), ActionCode::ManualCheck, None);
        step.params.insert("instructions".into(), ParamValue::Set(HOSTILE.into()));
        let draft = PlanDraft {
            name: HOSTILE.into(), description: HOSTILE.into(), scene: Scene::Drill,
            service: "payments".into(), scenario: HOSTILE.into(), rto_secs: None, rpo_secs: None,
            schedule: None, enabled: true, steps: vec![step],
        };
        let plan = plans::create(&db.pool, &admin, draft).await.unwrap();
        let run = runs::create(&db.pool, Some(&admin), plan, Trigger::Manual, &BTreeMap::new(), None).await.unwrap();
        runs::finish(&db.pool, run.number, RunStatus::Passed, Utc::now()).await.unwrap();
        runs::review(&db.pool, &admin, run.number, HOSTILE, HOSTILE).await.unwrap();

        let app = TestApp::new(&db);
        let cookie = app.sign_in("ada", PASSWORD).await;
        for page in [
            "/".to_owned(), "/incidents".into(), format!("/incidents/{n}"), format!("/incidents/{n}/postmortem"),
            format!("/incidents/{n}/postmortem/report"), "/plans".into(), format!("/plans/{plan}"),
            format!("/plans/{plan}/edit"), "/runs".into(), format!("/runs/{}", run.number), "/actions".into(),
            "/board".into(), "/admin/users".into(), "/account".into(),
        ] {
            let res = app.get(&page, Some(&cookie)).await;
            assert_eq!(res.status(), StatusCode::OK, "{page}");
            let nonce = nonce(&res);
            let html = text(res).await;
            assert_only_our_scripts(&page, &html, &nonce);
        }
    }
}

db_test! {
    async fn every_page_gets_a_fresh_nonce_and_other_answers_the_strict_policy(db) {
        let app = TestApp::new(&db);
        let first = app.get("/login", None).await;
        let second = app.get("/login", None).await;
        assert_ne!(nonce(&first), nonce(&second), "a nonce is never reused");
        for res in [&first, &second] {
            let h = res.headers();
            assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(h[header::REFERRER_POLICY], "same-origin");
            let policy = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
            assert!(!policy.contains("script-src 'unsafe-inline'"), "{policy}");
        }
        let json = app.call("current_user", &[], None).await;
        assert_eq!(json.headers()[header::CONTENT_SECURITY_POLICY], DEFAULT_POLICY);
        assert_eq!(json.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
}

db_test! {
    async fn sign_in_never_sends_the_browser_off_the_site(db) {
        user(&db.pool, "alice", Role::Viewer, PASSWORD).await;
        let app = TestApp::new(&db);
        for next in ["/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/ /evil.example", "/.//evil.example", "//evil.example", "/\\evil.example"] {
            let req = app.form_request("login", &[("username", "alice"), ("password", PASSWORD), ("next", next)], None, "text/html");
            let res = app.send(req).await;
            assert_eq!(res.status(), StatusCode::FOUND, "{next:?}");
            let to = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
            assert!(to.starts_with('/') && !to.starts_with("//") && !to.starts_with("/\\"), "{next:?} sent the browser to {to}");
        }
        let cookie = app.sign_in("alice", PASSWORD).await;
        for query in ["next=/%09/127.0.0.1:3299/landed", "next=/%0A/evil.example", "next=/%0D%0ASet-Cookie:x=1", "next=%2F%2Fevil.example"] {
            let res = app.get(&format!("/login?{query}"), Some(&cookie)).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{query}");
            let to = res.headers()[header::LOCATION].to_str().unwrap();
            assert!(to.starts_with('/') && !to.starts_with("//"), "{query} sent the browser to {to}");
        }
    }
}

db_test! {
    async fn a_burst_of_wrong_passwords_is_throttled_before_any_is_checked(db) {
        user(&db.pool, "alice", Role::Viewer, PASSWORD).await;
        let app = TestApp::new(&db);
        let attempts = (0..15).map(|i| {
            let app = &app;
            async move {
                let password = format!("wrong password {i}");
                app.call("login", &[("username", "alice"), ("password", &password)], None).await
            }
        });
        let answers = futures::future::join_all(attempts).await;
        let checked = answers.iter().filter(|r| r.status() == StatusCode::UNAUTHORIZED).count();
        let throttled: Vec<_> = answers.iter().filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS).collect();
        assert_eq!(checked, 5, "only the free attempts reach the password check");
        assert_eq!(throttled.len(), 10);
        for res in throttled {
            let wait: u64 = res.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
            assert!(wait >= 1, "Retry-After says when to come back");
        }
    }
}

db_test! {
    async fn made_up_methods_and_paths_add_no_metric_series(db) {
        let app = TestApp::new(&db);
        for i in 0..40 {
            let req = Request::builder()
                .method(format!("BREW{i}").as_str())
                .uri(format!("/made/up/{i}"))
                .header(header::HOST, "localhost")
                .body(Body::empty())
                .unwrap();
            app.send(req).await;
        }
        let body = text(app.get("/metrics", None).await).await;
        assert!(!body.contains("BREW"), "each made-up method became a series");
        assert!(!body.contains("/made/up"), "each unknown path became a series");
        assert!(body.contains("method=\"other\""), "they are counted together");
    }
}

db_test! {
    async fn a_metrics_token_keeps_metrics_from_anyone_without_it(db) {
        let config = Config { metrics_token: Some("s3cret-scrape".into()), ..Config::for_database(db.url.clone()) };
        let app = TestApp::with_config(&db, config);
        let res = app.get("/metrics", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().starts_with("Bearer"));
        let wrong = Request::get("/metrics").header(header::HOST, "localhost")
            .header(header::AUTHORIZATION, "Bearer s3cret-scrapf").body(Body::empty()).unwrap();
        assert_eq!(app.send(wrong).await.status(), StatusCode::UNAUTHORIZED);
        let right = Request::get("/metrics").header(header::HOST, "localhost")
            .header(header::AUTHORIZATION, "Bearer s3cret-scrape").body(Body::empty()).unwrap();
        assert_eq!(app.send(right).await.status(), StatusCode::OK);
    }
}

/// The field a 422 answer names.
async fn refused_field(res: Response<Body>) -> String {
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    match serde_json::from_str::<AppError>(&text(res).await).unwrap() {
        AppError::Validation(fields) => fields[0].field.clone(),
        other => panic!("not a validation error: {other:?}"),
    }
}

db_test! {
    async fn a_nul_character_is_refused_with_422_beside_its_field_everywhere(db) {
        user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        let app = TestApp::new(&db);
        let cookie = app.sign_in("rita", PASSWORD).await;
        let declared = app.call("declare_incident", &[("title", "Disk\0full"), ("description", ""), ("severity", "sev2"),
            ("services", "db"), ("tags", ""), ("detected_at", "")], Some(&cookie)).await;
        assert_eq!(refused_field(declared).await, "title");
        let listed = app.call("list_incidents", &[("status", ""), ("severity", ""), ("service", "a\0"), ("tag", ""),
            ("q", ""), ("sort", ""), ("after", "")], Some(&cookie)).await;
        assert_eq!(refused_field(listed).await, "service");
        let signed_in = app.call("login", &[("username", "rita\0"), ("password", PASSWORD)], None).await;
        assert_eq!(refused_field(signed_in).await, "username");
        assert_eq!(refused_field(app.get("/incidents?q=%00", Some(&cookie)).await).await, "q");
        let (status, body) = call_json(&app, "start_run", serde_json::json!({"plan": 1, "answers": {"steps.0.url": "x\u{0}"}}), &cookie).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(incidents_count(&db.pool).await == 0, "nothing was declared");
    }
}

db_test! {
    async fn a_browser_refused_for_a_nul_gets_a_page_that_names_the_field_escaped(db) {
        user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        let app = TestApp::new(&db);
        let cookie = app.sign_in("rita", PASSWORD).await;
        let req = Request::get("/board?%3Cscript%3Ex=%00").header(header::HOST, "localhost")
            .header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
            .header(header::COOKIE, &cookie).body(Body::empty()).unwrap();
        let res = app.send(req).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        assert_eq!(res.headers()[header::CONTENT_SECURITY_POLICY], DEFAULT_POLICY);
        let page = text(res).await;
        assert!(page.contains("&lt;script&gt;x: Remove the NUL character"), "{page}");
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains(r#"<a href="/board">"#), "{page}");
        // The way back never leads off the site.
        for path in ["//evil.example/x?q=%00", "/%5Cevil.example?q=%00", "///evil.example?q=%00"] {
            let req = Request::get(path).header(header::HOST, "localhost").header(header::ACCEPT, "text/html")
                .body(Body::empty()).unwrap();
            let page = text(app.send(req).await).await;
            let back = page.split("<a href=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap();
            assert!(back.starts_with('/') && !back.starts_with("//") && !back.contains('\\'), "{path}: {back}");
        }
        let status = app.get("/incidents/INC-99999/postmortem", Some(&cookie)).await.status();
        assert_eq!(status, StatusCode::NOT_FOUND, "an incident that does not exist has no postmortem page");
        let report = app.get("/incidents/INC-99999/postmortem/report", Some(&cookie)).await.status();
        assert_eq!(report, StatusCode::NOT_FOUND);
    }
}

async fn incidents_count(pool: &sqlx::AnyPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM incidents")
        .fetch_one(pool)
        .await
        .unwrap()
}

db_test! {
    async fn searches_are_bounded_and_match_wildcards_as_typed(db) {
        let rita = user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        for title in ["Disk at 100% on db-1", "Queue my_jobs stuck", "Checkout slow"] {
            let new = NewIncident::parse(title, "", "sev3", "db", "", "", Utc::now()).unwrap();
            incidents::declare(&db.pool, &rita, &new).await.unwrap();
        }
        let app = TestApp::new(&db);
        let cookie = app.sign_in("rita", PASSWORD).await;
        let search = |q: String| {
            let (app, cookie) = (&app, cookie.clone());
            async move {
                app.call("list_incidents", &[("status", ""), ("severity", ""), ("service", ""), ("tag", ""),
                    ("q", &q), ("sort", ""), ("after", "")], Some(&cookie)).await
            }
        };
        let titles = |body: String| -> Vec<String> {
            let page: nightwatch::model::incident_views::IncidentPage = serde_json::from_str(&body).unwrap();
            page.items.into_iter().map(|i| i.title).collect()
        };
        assert_eq!(titles(text(search("%".into()).await).await), ["Disk at 100% on db-1"]);
        assert_eq!(titles(text(search("_".into()).await).await), ["Queue my_jobs stuck"]);
        assert_eq!(titles(text(search("\\".into()).await).await), Vec::<String>::new());
        assert_eq!(refused_field(search("x".repeat(50_000)).await).await, "q");
    }
}

db_test! {
    async fn absurd_dates_and_durations_are_refused_beside_their_fields(db) {
        user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        let app = TestApp::new(&db);
        let cookie = app.sign_in("rita", PASSWORD).await;
        let declare = |detected: &'static str| {
            let (app, cookie) = (&app, cookie.clone());
            async move {
                app.call("declare_incident", &[("title", "Disk full"), ("description", ""), ("severity", "sev2"),
                    ("services", "db"), ("tags", ""), ("detected_at", detected)], Some(&cookie)).await
            }
        };
        assert_eq!(refused_field(declare("0000-01-01T00:00").await).await, "detected_at");
        let res = declare("").await;
        assert_eq!(res.status(), StatusCode::OK);
        let number: i64 = serde_json::from_str(&text(res).await).unwrap();
        let number = format!("INC-{number}");
        let note = app.call("add_note", &[("number", &number), ("body", "x"), ("occurred_at", "-99999-01-01T00:00:00Z")], Some(&cookie)).await;
        assert_eq!(refused_field(note).await, "occurred_at");
        let item = app.call("create_action_item", &[("number", &number), ("title", "Fix it"), ("owner", "rita"),
            ("due_on", "0000-01-01"), ("priority", "p2"), ("kind", "corrective")], Some(&cookie)).await;
        assert_eq!(refused_field(item).await, "due_on");
        let plan = serde_json::json!({"plan": {
            "name": "Long wait", "description": "", "scene": "drill", "service": "db", "scenario": "",
            "rto_secs": null, "rpo_secs": null, "enabled": true,
            "steps": [{"id": "s1", "action": "wait", "name": "Wait", "timeout_secs": 60, "pre_confirm": false,
                       "on_failure": "abort", "weight": 20, "phase": null,
                       "params": {"duration": {"set": "18446744073709551615"}}}]}});
        let (status, body) = call_json(&app, "create_plan", plan, &cookie).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("steps.0.duration"), "{body}");
    }
}

db_test! {
    async fn the_markdown_export_writes_no_markup_anyone_typed(db) {
        let cmdr = user(&db.pool, "cmdr", Role::Commander, PASSWORD).await;
        let new = NewIncident::parse(HOSTILE, "", "sev2", "db", "", "", Utc::now()).unwrap();
        let n = incidents::declare(&db.pool, &cmdr, &new).await.unwrap();
        let pm = postmortems::open(&db.pool, &cmdr, n).await.unwrap();
        let doc = PostmortemDoc { summary: HOSTILE.into(), root_causes: vec![HOSTILE.into()], ..PostmortemDoc::default() };
        postmortems::save(&db.pool, &cmdr, n, &doc, pm.version).await.unwrap();
        let app = TestApp::new(&db);
        let cookie = app.sign_in("cmdr", PASSWORD).await;
        let res = app.get(&format!("/incidents/{n}/postmortem.md"), Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let md = text(res).await;
        assert!(!md.contains('<'), "{md}");
        assert!(md.contains("&lt;script>alert(1)&lt;/script>"), "the text is kept, as text: {md}");
    }
}

db_test! {
    async fn a_viewer_reads_a_run_without_what_its_steps_fetched(db) {
        let cmdr = user(&db.pool, "cmdr", Role::Commander, PASSWORD).await;
        user(&db.pool, "vera", Role::Viewer, PASSWORD).await;
        let mut step = Step::new("Check".into(), ActionCode::ManualCheck, None);
        step.params.insert("instructions".into(), ParamValue::Set("Look at it".into()));
        let draft = PlanDraft {
            name: "Probe".into(), description: String::new(), scene: Scene::Drill, service: "db".into(),
            scenario: String::new(), rto_secs: None, rpo_secs: None, schedule: None, enabled: true, steps: vec![step],
        };
        let plan = plans::create(&db.pool, &cmdr, draft).await.unwrap();
        let run = runs::create(&db.pool, Some(&cmdr), plan, Trigger::Manual, &BTreeMap::new(), None).await.unwrap();
        let update = nightwatch::server::repo::runs::StepUpdate {
            output: "HTTP 200 {\"internal\": \"secret-ish\"}".into(),
            ..nightwatch::server::repo::runs::StepUpdate::status(nightwatch::model::run::StepStatus::Passed)
        };
        nightwatch::server::repo::runs::set_step(&db.pool, run.number, 0, &update, Utc::now()).await.unwrap();
        let app = TestApp::new(&db);
        let read = |who: &'static str| {
            let app = &app;
            async move {
                let cookie = app.sign_in(who, PASSWORD).await;
                let body = text(app.call("get_run", &[("number", &run.number.to_string())], Some(&cookie)).await).await;
                serde_json::from_str::<RunView>(&body).unwrap()
            }
        };
        let seen = read("vera").await;
        assert!(seen.steps[0].output.is_empty() && seen.steps[0].output_hidden, "viewers do not read step output");
        let seen = read("cmdr").await;
        assert!(seen.steps[0].output.contains("secret-ish") && !seen.steps[0].output_hidden);
    }
}

db_test! {
    async fn enabling_a_disabled_user_again_does_not_bring_their_old_sessions_back(db) {
        let rita = user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        let app = TestApp::new(&db);
        let old = app.sign_in("rita", PASSWORD).await;
        nightwatch::server::service::accounts::set_disabled(&db.pool, rita.id, true).await.unwrap();
        nightwatch::server::service::accounts::set_disabled(&db.pool, rita.id, false).await.unwrap();
        let me = app.call("current_user", &[], Some(&old)).await;
        let me: Option<nightwatch::model::UserView> = serde_json::from_str(&text(me).await).unwrap();
        assert_eq!(me, None, "the session from before the account was disabled is over");
        app.sign_in("rita", PASSWORD).await;
    }
}

/// A router with commander "cmdr" signed in (their cookie) and an incident they declared.
async fn signed_in_commander_with_incident(db: &TestDb) -> (TestApp, String, IncidentNumber) {
    let cmdr = user(&db.pool, "cmdr", Role::Commander, PASSWORD).await;
    let new = NewIncident::parse("Disk full", "", "sev2", "db", "", "", Utc::now()).unwrap();
    let n = incidents::declare(&db.pool, &cmdr, &new).await.unwrap();
    let app = TestApp::new(db);
    let cookie = app.sign_in("cmdr", PASSWORD).await;
    (app, cookie, n)
}

/// Posts `fields` to server function `name` as a browser without JavaScript does, from `page`.
async fn plain_post(
    app: &TestApp,
    cookie: &str,
    name: &str,
    fields: &[(&str, String)],
    page: &str,
) -> Response<Body> {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut req = app.form_request(name, &fields, Some(cookie), "text/html");
    req.headers_mut().insert(
        header::REFERER,
        format!("http://localhost{page}").parse().unwrap(),
    );
    app.send(req).await
}

db_test! {
    async fn a_refused_plain_form_comes_back_signed_with_its_message_and_what_was_typed(db) {
        let (app, cookie, n) = signed_in_commander_with_incident(&db).await;
        let page = format!("/incidents/{n}");
        let fields = [("number", n.to_string()), ("body", "saw it at the edge <first>".into()), ("occurred_at", "2999-01-01T00:00".into())];
        let res = plain_post(&app, &cookie, "add_note", &fields, &format!("{page}?order=oldest")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let back = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
        assert!(back.starts_with(&format!("{page}?order=oldest&form=add_note&e.occurred_at=")), "{back}");
        let html = text(app.get(&back, Some(&cookie)).await).await;
        assert!(html.contains("This cannot be in the future."), "the message beside its field");
        assert!(html.contains("saw it at the edge &lt;first&gt;</textarea>"), "the note typed is back, as text");

        // The same feedback with its text changed (or no signature) is not shown: the page is
        // loaded without it.
        let forged = back.replace("This+cannot+be+in+the+future.", "Session+expired%3A+sign+in+at+evil.example");
        let res = app.get(&forged, Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()[header::LOCATION], format!("{page}?order=oldest").as_str());
        let unsigned = format!("{page}?form=add_note&e=Call+this+number");
        assert_eq!(app.get(&unsigned, Some(&cookie)).await.headers()[header::LOCATION], page.as_str());
    }
}

db_test! {
    async fn a_plain_post_refused_at_the_edge_goes_back_to_its_page_with_the_message(db) {
        let (app, cookie, n) = signed_in_commander_with_incident(&db).await;
        let page = format!("/incidents/{n}");
        let fields = [("number", n.to_string()), ("body", "nul\0here".into()), ("occurred_at", String::new())];
        let res = plain_post(&app, &cookie, "add_note", &fields, &format!("{page}?saved")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "not a raw JSON answer");
        let back = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
        assert!(back.starts_with(&format!("{page}?form=add_note&e.body=")), "{back}");
        let res = app.get(&back, Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::OK, "the page itself, not a refusal of its address");
        let html = text(res).await;
        assert!(html.contains("Remove the NUL character"), "the message beside its field");
        assert!(html.contains(">nulhere</textarea>"), "what was typed, without the NUL");
    }
}

db_test! {
    async fn a_username_longer_than_any_account_is_refused_without_being_remembered(db) {
        user(&db.pool, "alice", Role::Viewer, PASSWORD).await;
        let app = TestApp::new(&db);
        let long = "x".repeat(10_000);
        for _ in 0..10 {
            let res = app.call("login", &[("username", &long), ("password", "whatever it is")], None).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "refused, never counted towards a wait");
        }
        app.sign_in("alice", PASSWORD).await;
    }
}

db_test! {
    async fn hostile_alert_text_never_reaches_the_risk_pages_as_markup(db) {
        let admin = user(&db.pool, "ada", Role::Admin, PASSWORD).await;
        let sender = crate::support::token(&db.pool, "monitor", "admin", "").await;
        let app = TestApp::new(&db);
        let alert = serde_json::json!({"source": "zabbix", "summary": "disk",
            "labels": {"alertname": HOSTILE, "service": "payments", "instance": HOSTILE},
            "annotations": {"description": HOSTILE}});
        let (status, _, body) = app.api("POST", "/api/v1/alerts", Some(&sender), Some(alert)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let matcher = serde_json::json!({"matchers": [{"name": "instance", "value": HOSTILE}],
            "ends_at": (Utc::now() + chrono::Duration::hours(1)).to_rfc3339(), "comment": "x"});
        app.api("POST", "/api/v1/alert-rules", Some(&sender), Some(serde_json::json!({
            "name": "Rule", "declare_incident": true, "matchers": matcher["matchers"]}))).await;
        app.api("POST", "/api/v1/inhibit-rules", Some(&sender), Some(serde_json::json!({
            "name": "Inhibit", "source_matchers": matcher["matchers"], "target_matchers": [{"name": "a", "value": "b"}]}))).await;
        // An inspection with a hostile name and service, failing at a hostile step.
        let mut step = Step::new("s".into(), ActionCode::Wait, None);
        step.name = HOSTILE.into();
        step.params.insert("duration".into(), ParamValue::Set("1s".into()));
        let plan = plans::create(&db.pool, &admin, PlanDraft {
            name: HOSTILE.chars().take(100).collect(), description: String::new(), scene: Scene::Inspection,
            service: HOSTILE.chars().take(60).collect(), scenario: String::new(), rto_secs: None, rpo_secs: None,
            enabled: true, steps: vec![step], schedule: None,
        }).await.unwrap();
        let failed = nightwatch::model::alert::IncomingAlert {
            source: "inspection".into(), fingerprint: format!("plan-{plan}"),
            action: nightwatch::model::alert::AlertAction::Fire,
            labels: [("alertname", "InspectionFailed"), ("failed_step", HOSTILE)].iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
            annotations: Default::default(), summary: HOSTILE.into(),
            severity: nightwatch::model::incident::Severity::Sev3, starts_at: None, url: Some("/runs/1".into()),
        };
        nightwatch::server::service::alerts::ingest(&db.pool, &admin, vec![failed]).await.unwrap();
        let cookie = app.sign_in("ada", PASSWORD).await;
        let preview = format!("/silences?matchers={}", url::form_urlencoded::byte_serialize(HOSTILE.as_bytes()).collect::<String>());
        for page in ["/risks".to_owned(), "/risks/1".into(), "/risks/2".into(), "/silences".into(), preview,
            "/admin/alerting".into(), "/inspections".into()] {
            let res = app.get(&page, Some(&cookie)).await;
            assert_eq!(res.status(), StatusCode::OK, "{page}");
            let nonce = nonce(&res);
            let html = text(res).await;
            assert_only_our_scripts(&page, &html, &nonce);
        }
    }
}

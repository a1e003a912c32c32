//! The OpenAPI description against the router it describes: every reference resolves, every
//! documented operation is routed, and the reference page lists them all.

use axum::http::StatusCode;
use serde_json::Value;

use crate::support::{TestApp, token};

fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push(v.as_str().unwrap_or_default().to_owned());
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

db_test! {
    async fn the_description_is_public_openapi_3_1_and_every_reference_resolves(db) {
        let app = TestApp::new(&db);
        let (status, _, doc) = app.api("GET", "/api/v1/openapi.json", None, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(doc["openapi"], "3.1.0");
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 20, "{found:?}");
        for r in found {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r}"));
            assert!(doc["components"]["schemas"].get(name).is_some(), "{r} resolves");
        }
    }
}

#[test]
fn the_description_lists_exactly_the_routes_the_router_has() {
    let doc = nightwatch::server::rest::openapi::document();
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    let mut routed = nightwatch::server::rest::route_list();
    documented.sort();
    routed.sort();
    assert_eq!(documented, routed);
}

db_test! {
    async fn every_documented_operation_is_routed(db) {
        let admin = token(&db.pool, "contract", "admin", "").await;
        let app = TestApp::new(&db);
        let (_, _, doc) = app.api("GET", "/api/v1/openapi.json", None, None).await;
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            let concrete = path
                .replace("{number}", "1")
                .replace("{id}", "7a0c3c9e-4d8f-4b0e-9a3e-2f6a8e1d9c44")
                .replace("{index}", "0");
            for method in item.as_object().unwrap().keys() {
                operations += 1;
                let body = matches!(method.as_str(), "post" | "patch").then(|| serde_json::json!({}));
                let (status, _, answer) = app.api(&method.to_uppercase(), &concrete, Some(&admin), body).await;
                assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                let detail = answer["detail"].as_str().unwrap_or_default();
                assert!(!detail.contains("no such API path"), "{method} {path} is documented but not routed");
                assert!(status.is_success() || status.is_client_error(), "{method} {path}: {status} {answer}");
            }
        }
        assert!(operations >= 20, "{operations} operations");
    }
}

db_test! {
    async fn the_reference_page_lists_every_operation_without_a_script(db) {
        let app = TestApp::new(&db);
        let (_, _, doc) = app.api("GET", "/api/v1/openapi.json", None, None).await;
        let res = app.get("/api/docs", None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let html = crate::support::text(res).await;
        assert!(!html.contains("<script"), "nothing to run, nothing to download");
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                let id = op["operationId"].as_str().unwrap();
                assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
            }
        }
    }
}

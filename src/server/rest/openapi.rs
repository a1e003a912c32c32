//! The API's OpenAPI 3.1 description (`GET /api/v1/openapi.json`) and its reference page
//! (`GET /api/docs`, rendered on the server: no script, nothing from the internet).
//!
//! Each resource module describes its own operations next to its routes; schemas come from the
//! very types the handlers read and write (schemars, honouring their serde attributes), so the
//! description cannot drift from the code without the contract tests noticing.

use std::cell::RefCell;
use std::sync::OnceLock;

use axum::response::{Html, IntoResponse, Response};
use schemars::{JsonSchema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value, json};

use crate::model::Role;

/// One operation, as a resource module describes it.
pub(super) struct Op {
    /// `get`, `post`, `patch`.
    pub method: &'static str,
    /// The path under `/api/v1`, with `{name}` parameters.
    pub path: &'static str,
    /// A stable operation id, like `declareIncident`.
    pub id: &'static str,
    /// One line.
    pub summary: &'static str,
    /// The role the token needs.
    pub role: Role,
    /// The schema of the query string (its properties become query parameters).
    pub query: Option<Value>,
    /// The request body's schema.
    pub body: Option<Value>,
    /// The success status and its body's schema (`None`: Markdown text).
    pub ok: (u16, Option<Value>),
    /// Open without a token.
    pub public: bool,
}

impl Op {
    /// An operation with no query and no body, answering 200 with `ok`.
    pub fn new(
        method: &'static str,
        path: &'static str,
        id: &'static str,
        summary: &'static str,
        role: Role,
        ok: Value,
    ) -> Self {
        Self {
            method,
            path,
            id,
            summary,
            role,
            query: None,
            body: None,
            ok: (200, Some(ok)),
            public: false,
        }
    }
}

/// The document being built: a schema generator writing into `components/schemas`, and the
/// paths so far.
pub(super) struct Doc {
    generator: RefCell<SchemaGenerator>,
    paths: RefCell<Map<String, Value>>,
}

impl Doc {
    /// A reference to `T`'s schema (added to the components).
    pub fn schema<T: JsonSchema>(&self) -> Value {
        self.generator.borrow_mut().subschema_for::<T>().to_value()
    }

    /// `T`'s schema inlined (for query strings, whose properties become parameters).
    pub fn inline<T: JsonSchema>(&self) -> Value {
        self.generator
            .borrow_mut()
            .root_schema_for::<T>()
            .to_value()
    }

    /// Adds an operation.
    pub fn op(&self, op: Op) {
        let problem = self.schema::<super::problem::ProblemDocument>();
        let problem_response = |description: &str| {
            json!({
                "description": description,
                "content": {"application/problem+json": {"schema": problem}},
            })
        };
        let mut parameters: Vec<Value> = op
            .path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                json!({
                    "name": name,
                    "in": "path",
                    "required": true,
                    "schema": {"type": if name == "index" { "integer" } else { "string" }},
                    "description": path_parameter(name),
                })
            })
            .collect();
        if let Some(properties) = op
            .query
            .as_ref()
            .and_then(|q| q.get("properties"))
            .and_then(Value::as_object)
        {
            for (name, schema) in properties {
                let mut schema = schema.clone();
                let description = schema
                    .as_object_mut()
                    .and_then(|s| s.remove("description"))
                    .unwrap_or(Value::Null);
                let mut parameter = json!({
                    "name": name,
                    "in": "query",
                    "required": false,
                    "schema": schema,
                });
                if description.is_string() {
                    parameter["description"] = description;
                }
                parameters.push(parameter);
            }
        }
        if op.method == "post" {
            parameters.push(json!({
                "name": "Idempotency-Key",
                "in": "header",
                "required": false,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                "description": "A retry with the same key within 24 hours gets the first answer back and changes nothing.",
            }));
        }
        let mut responses = Map::new();
        let (status, schema) = op.ok;
        let content = match schema {
            Some(schema) => json!({"application/json": {"schema": schema}}),
            None => json!({"text/markdown": {"schema": {"type": "string"}}}),
        };
        let mut ok = if status == 204 {
            json!({"description": "Done."})
        } else {
            json!({"description": "Done.", "content": content})
        };
        if status == 201 {
            ok["headers"] = json!({"Location": {
                "description": "The address of what was created.",
                "schema": {"type": "string"},
            }});
        }
        responses.insert(status.to_string(), ok);
        if op.public {
            let operation = json!({
                "operationId": op.id,
                "summary": op.summary,
                "security": [],
                "responses": responses,
            });
            self.insert(op.path, op.method, operation);
            return;
        }
        responses.insert(
            "401".into(),
            json!({
                "description": "No token, or one that is unknown, revoked or expired.",
                "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
                "content": {"application/problem+json": {"schema": problem}},
            }),
        );
        responses.insert(
            "403".into(),
            problem_response("The token's role (or scope) does not allow this."),
        );
        responses.insert(
            "429".into(),
            json!({
                "description": "The token's rate is spent: retry after `Retry-After` seconds.",
                "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                "content": {"application/problem+json": {"schema": problem}},
            }),
        );
        responses.insert(
            "default".into(),
            problem_response(
                "Any other refusal: 400 unreadable, 404 not found, 409 conflict, 413 too large, \
                 415 not JSON, 422 a field (see `errors`), 500 the server failed, 503 the database is \
                 unavailable (nothing was changed: retry).",
            ),
        );
        let mut operation = json!({
            "operationId": op.id,
            "summary": op.summary,
            "description": format!("Needs a token with the {} role or higher.", op.role.as_str()),
            "parameters": parameters,
            "responses": responses,
        });
        if let Some(body) = op.body {
            operation["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": body}},
            });
        }
        self.insert(op.path, op.method, operation);
    }

    /// Files `operation` under its path (below `/api/v1`) and method.
    fn insert(&self, path: &str, method: &str, operation: Value) {
        let mut paths = self.paths.borrow_mut();
        let item = paths
            .entry(format!("/api/v1{path}"))
            .or_insert_with(|| Value::Object(Map::new()));
        item[method] = operation;
    }
}

fn path_parameter(name: &str) -> &'static str {
    match name {
        "number" => {
            "The number, with or without its prefix: INC-42 or 42, PLAN-3 or 3, RUN-12 or 12, RISK-7 or 7."
        }
        "silence" => "The silence's id.",
        "rule" => "The rule's id (an alert rule or an inhibition rule).",
        "id" => "The action item's id (a UUID).",
        "index" => "The step's position in the run, from 0.",
        "channel" => "The notification channel's id.",
        "delivery" => "The delivery's id (the message id, msg_…).",
        _ => "",
    }
}

/// The whole description, built once.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let settings = SchemaSettings::draft2020_12().with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        });
        let doc = Doc {
            generator: RefCell::new(settings.into_generator()),
            paths: RefCell::new(Map::new()),
        };
        super::incidents::describe(&doc);
        super::action_items::describe(&doc);
        super::plans::describe(&doc);
        super::board::describe(&doc);
        super::alerts::describe(&doc);
        super::risks::describe(&doc);
        super::notifications::describe(&doc);
        doc.op(Op {
            public: true,
            ..Op::new(
                "get",
                "/openapi.json",
                "getOpenApi",
                "This description (OpenAPI 3.1); no token needed.",
                Role::Viewer,
                json!({"type": "object"}),
            )
        });
        let schemas = doc.generator.borrow_mut().take_definitions(true);
        let paths = doc.paths.into_inner();
        json!({
            "openapi": "3.1.0",
            "info": {
                "title": "Nightwatch",
                "version": env!("CARGO_PKG_VERSION"),
                "description": "Incidents, postmortems, action items, plans, runs and the metrics board, \
                    for machines. Authenticate with an API token (`nightwatch token create`): \
                    `Authorization: Bearer nw_…`. Errors are RFC 9457 problem documents.",
            },
            "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
            "security": [{"bearer": []}],
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "nw_ token"},
                },
            },
        })
    })
}

/// `GET /api/v1/openapi.json` (public: it describes the API, it opens nothing).
pub async fn json() -> Response {
    axum::Json(document()).into_response()
}

/// `GET /api/docs`: every operation with its parameters, body and answers, as one page. Its
/// policy lets it load the site's stylesheet and nothing else.
pub async fn page(
    axum::extract::State(state): axum::extract::State<crate::server::state::AppState>,
) -> Response {
    let stylesheet = crate::server::assets::stylesheet(&state.leptos_options);
    (
        [(
            axum::http::header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        )],
        Html(render(document(), &stylesheet)),
    )
        .into_response()
}

/// A schema in a few words: its type (or the schema it refers to, linked), and its format.
fn type_words(schema: &Value) -> String {
    if let Some(name) = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        return format!("<a href=\"#schema-{0}\">{0}</a>", escape(name));
    }
    let kind = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any".to_owned(),
    };
    let mut words = escape(&kind);
    if let Some(format) = schema["format"].as_str() {
        words.push_str(&format!(" ({})", escape(format)));
    }
    words
}

/// Text with its `code` spans, escaped.
fn prose(text: &str) -> String {
    escape(text)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_owned()
            }
        })
        .collect()
}

fn escape(text: &str) -> String {
    crate::ui::format::escape_html(text)
}

fn render(doc: &Value, stylesheet: &str) -> String {
    let mut toc = String::new();
    let mut body = String::new();
    let empty = Map::new();
    for (path, item) in doc["paths"].as_object().unwrap_or(&empty) {
        for (method, op) in item.as_object().unwrap_or(&empty) {
            let id = op["operationId"].as_str().unwrap_or_default();
            let summary = op["summary"].as_str().unwrap_or_default();
            toc.push_str(&format!(
                "<li><a href=\"#{id}\"><code>{} {}</code></a> — {}</li>",
                method.to_uppercase(),
                escape(path),
                prose(summary)
            ));
            body.push_str(&format!(
                "<section id=\"{id}\"><h2><code>{} {}</code></h2><p>{}</p><p class=\"muted\">{}</p>",
                method.to_uppercase(),
                escape(path),
                prose(summary),
                prose(op["description"].as_str().unwrap_or_default())
            ));
            if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
                body.push_str("<div class=\"table-wrap\"><table><thead><tr><th>parameter</th><th>in</th><th>type</th><th>meaning</th></tr></thead><tbody>");
                for p in params {
                    body.push_str(&format!(
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        escape(p["name"].as_str().unwrap_or_default()),
                        escape(p["in"].as_str().unwrap_or_default()),
                        type_words(&p["schema"]),
                        prose(p["description"].as_str().unwrap_or_default()),
                    ));
                }
                body.push_str("</tbody></table></div>");
            }
            if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                body.push_str(&format!("<h3>Body</h3><p>JSON: {}</p>", type_words(schema)));
            }
            body.push_str("<h3>Answers</h3><ul>");
            for (status, answer) in op["responses"].as_object().unwrap_or(&empty) {
                let schema = answer
                    .pointer("/content/application~1json/schema")
                    .or_else(|| answer.pointer("/content/application~1problem+json/schema"))
                    .map(|s| format!(" — {}", type_words(s)))
                    .unwrap_or_default();
                body.push_str(&format!(
                    "<li><strong>{}</strong> {}{schema}</li>",
                    escape(status),
                    prose(answer["description"].as_str().unwrap_or_default())
                ));
            }
            body.push_str("</ul></section>");
        }
    }
    let mut schemas = String::new();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap_or(&empty) {
        schemas.push_str(&format!(
            "<section id=\"schema-{0}\"><h3>{0}</h3><pre>{1}</pre></section>",
            escape(name),
            escape(&pretty(schema))
        ));
    }
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\">\
         <title>Nightwatch REST API</title><link rel=\"stylesheet\" href=\"{stylesheet}\"></head>\
         <body><main class=\"api-docs\"><h1>Nightwatch REST API</h1>\
         <p>Version {version}. Send <code>Authorization: Bearer nw_…</code> with a token from \
         <code>nightwatch token create</code>. The machine-readable description is \
         <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a> (OpenAPI 3.1).</p>\
         <nav aria-label=\"Operations\"><ul>{toc}</ul></nav>{body}<h2>Schemas</h2>{schemas}</main></body></html>",
        version = escape(doc["info"]["version"].as_str().unwrap_or_default()),
        stylesheet = escape(stylesheet),
    )
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

//! `/admin/tokens`: API tokens for machines — create one (its secret shown once), see when each
//! was last used, revoke.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::tokens::{CreateApiToken, RevokeApiToken, list_api_tokens, take_new_api_token};
use crate::model::api_token::{CreatedToken, TokenScope, TokenView};
use crate::model::{AppError, Role};
use crate::ui::components::feedback::{succeeded, typed};
use crate::ui::components::form::{FormMessage, TextField, field_error, field_signal, form_error};
use crate::ui::components::shell::CurrentUser;
use crate::ui::pages::admin::{RoleField, forbidden_status};

/// The token administration page (admins only; others see why not).
#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_tokens(),
    );
    // A plain form post (JavaScript off) carries its new token through the session, once.
    let handed_over = Resource::new(|| (), |_| take_new_api_token());
    let CurrentUser(me) = expect_context::<CurrentUser>();
    // A secret may be on this page: no browser or proxy keeps a copy (Back must not show it).
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.insert_header(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
    }
    let revoked = Signal::derive(move || {
        matches!(revoke.value().get(), Some(Ok(())))
            || (revoke.value().with(Option::is_none) && succeeded::<RevokeApiToken>())
    });

    view! {
        <Title text="API tokens" />
        <div class="page-header">
            <h1>"API tokens"</h1>
            <p class="lede">
                "Machines — monitoring, chat bots, CI — use the "
                <a href="/api/docs">"REST API"</a>
                " with a token. Each acts with the role you give it, and what it does is signed “via token” on timelines."
            </p>
            <AdminNav current="tokens" />
        </div>
        <Suspense>
            {move || Suspend::new(async move {
                let from_post = handed_over.await.ok().flatten();
                view! { <NewToken create from_post /> }
            })}
        </Suspense>
        <section class="card" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"Tokens"</h2>
            <FormMessage
                error=Signal::derive(move || revoke.value().with(form_error))
                success=Signal::derive(move || revoked.get().then(|| "Revoked: its next request is refused.".to_owned()))
            />
            <Transition fallback=|| view! { <p class="muted">"Loading tokens…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty-state">"No tokens yet: create one below."</p>
                        }.into_any(),
                        Ok(list) => view! { <TokensTable tokens=list revoke /> }.into_any(),
                        Err(AppError::Forbidden) => {
                            forbidden_status();
                            view! { <p class="empty-state">"Only admins can manage API tokens."</p> }.into_any()
                        }
                        Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <Suspense>
            {move || Suspend::new(async move {
                let admin = matches!(me.await, Ok(Some(u)) if u.role == Role::Admin);
                admin.then(|| view! { <CreateTokenForm create /> })
            })}
        </Suspense>
    }
}

/// Links between the admin pages.
#[component]
pub fn AdminNav(current: &'static str) -> impl IntoView {
    let link = move |href: &'static str, key: &'static str, label: &'static str| {
        let here = (current == key).then_some("page");
        view! { <a href=href aria-current=here>{label}</a> }
    };
    view! {
        <nav class="subnav" aria-label="Administration">
            {link("/admin/users", "users", "Users")}
            {link("/admin/tokens", "tokens", "API tokens")}
            {link("/admin/alerting", "alerting", "Alerting")}
            {link("/admin/notifications", "notifications", "Notifications")}
        </nav>
    }
}

/// The secret of the token just created, with the one chance to copy it.
#[component]
fn NewToken(
    create: ServerAction<CreateApiToken>,
    from_post: Option<CreatedToken>,
) -> impl IntoView {
    let created = create.value();
    // The banner is far above the form on a phone: bring the secret into view, selected.
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(el)) = (created.get(), input.get()) {
            let _ = el.focus();
            el.select();
        }
    });
    let shown = move || match created.get() {
        Some(Ok(c)) => Some(c),
        _ => from_post.clone(),
    };
    move || {
        shown().map(|c| {
            let label = format!("Token for {}", c.view.name);
            view! {
                <section class="card callout" id="new-token" aria-labelledby="new-token-title" role="status">
                    <h2 id="new-token-title">{format!("Created {}", c.view.name)}</h2>
                    <p>
                        <strong>"Copy it now: it is not shown again."</strong>
                        " Only its SHA-256 is kept, so a lost token is revoked and replaced, never recovered."
                    </p>
                    <div class="field">
                        <label for="new-token-value">{label}</label>
                        <input id="new-token-value" node_ref=input class="secret" type="text" readonly value=c.token spellcheck="false" autocomplete="off" />
                    </div>
                    <p class="muted small">"Send it as " <code>"Authorization: Bearer nw_…"</code> "."</p>
                </section>
            }
        })
    }
}

fn when(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map_or("—".to_owned(), |at| {
        at.format("%Y-%m-%d %H:%M").to_string()
    })
}

#[component]
fn TokensTable(tokens: Vec<TokenView>, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    let now = chrono::Utc::now();
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Created"</th>
                    </tr>
                </thead>
                <tbody>
                    {tokens
                        .into_iter()
                        .map(|t| {
                            let live = t.is_live(now);
                            let state = if t.revoked_at.is_some() {
                                "Revoked"
                            } else if live {
                                "Live"
                            } else {
                                "Expired"
                            };
                            let scope = (t.scope == TokenScope::AlertsWrite)
                                .then(|| view! { <span class="badge">"alerts only"</span> });
                            let by = t.created_by.clone().map_or("the command line".to_owned(), |u| format!("by {u}"));
                            let revoke_label = format!("Revoke {}", t.name);
                            let name = t.name.clone();
                            let prefix = t.prefix.clone();
                            view! {
                                <tr>
                                    <th scope="row">
                                        <span class="username">{t.name.clone()}</span>
                                        <span class="muted small">" " <code>{t.prefix.clone()} "…"</code></span>
                                    </th>
                                    <td>
                                        <span class=if live { "badge status-on" } else { "badge status-off" }>{state}</span>
                                        {live.then(|| view! {
                                            <ActionForm action=revoke attr:class="row-form">
                                                <input type="hidden" name="name" value=name />
                                                <input type="hidden" name="prefix" value=prefix />
                                                <button type="submit" class="btn small danger" aria-label=revoke_label>"Revoke"</button>
                                            </ActionForm>
                                        })}
                                    </td>
                                    <td>{t.role.label()} " " {scope}</td>
                                    <td>{when(t.last_used_at)}</td>
                                    <td>{when(t.expires_at)}</td>
                                    <td>{when(Some(t.created_at))} <span class="muted small">" " {by}</span></td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn CreateTokenForm(create: ServerAction<CreateApiToken>) -> impl IntoView {
    let result = create.value();
    let typed_role = typed::<CreateApiToken>("role");
    let typed_scope = typed::<CreateApiToken>("scope");
    view! {
        <section class="card narrow" aria-labelledby="create-token-title">
            <h2 id="create-token-title">"Create a token"</h2>
            <ActionForm action=create>
                <TextField
                    label="Name"
                    name="name"
                    id="token-name"
                    autocomplete="off"
                    help="Where it is used, like grafana-prod: letters, digits, '-', '_' and '.'."
                    required=true
                    value={typed::<CreateApiToken>("name")}
                    error=field_signal(result, "name")
                />
                <RoleField
                    id="token-role"
                    selected=typed_role.as_deref().and_then(|r| r.parse().ok()).unwrap_or(Role::Viewer)
                    help="What it may do, as for a person: a chat bot that runs incidents needs Commander."
                    error=field_signal(result, "role")
                />
                <div class="field">
                    <label for="token-scope">"May be used for"</label>
                    <p class="help" id="token-scope-help">"“Send alerts only” is for a monitoring system (Alertmanager, Grafana, Zabbix…): such a token reaches nothing but the alert intake under /api/v1/alerts."</p>
                    <select id="token-scope" name="scope" aria-describedby="token-scope-help">
                        {TokenScope::ALL
                            .iter()
                            .map(|s| {
                                let selected = typed_scope.as_deref().map_or(*s == TokenScope::Full, |t| t == s.as_str());
                                view! { <option value=s.as_str() selected=selected>{s.label()}</option> }
                            })
                            .collect_view()}
                    </select>
                    <p class="field-error" role="alert">{move || result.with(|r| field_error(r, "scope"))}</p>
                </div>
                <TextField
                    label="Expires after (days)"
                    name="expires_days"
                    id="token-expiry"
                    autocomplete="off"
                    help="Leave empty for a token that does not expire."
                    value={typed::<CreateApiToken>("expires_days")}
                    error=field_signal(result, "expires_days")
                />
                <FormMessage error=Signal::derive(move || result.with(form_error)) success=Signal::derive(|| None::<String>) />
                <button type="submit" class="btn primary" disabled=move || create.pending().get()>
                    "Create token"
                </button>
            </ActionForm>
        </section>
    }
}

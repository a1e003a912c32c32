//! The app shell around every signed-in page: header with navigation, the user and sign-out.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

use crate::api::auth::{Logout, current_user};
use crate::api::reminders::reminder_count;
use crate::model::{AppError, Role, UserView};

/// The signed-in user, loaded once per page and shared with the pages below the shell.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<UserView>, AppError>>);

/// `children` for a signed-in user whose role allows `role`; anyone else reads `refusal` instead,
/// before they fill anything in that the server would refuse.
#[component]
pub fn ForRole(role: Role, refusal: &'static str, children: ChildrenFn) -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    view! {
        <Suspense>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    let allowed = user.await.ok().flatten().is_some_and(|u| u.role.allows(role));
                    if allowed {
                        children().into_any()
                    } else {
                        view! { <p class="alert info" role="note">{refusal}</p> }.into_any()
                    }
                })
            }}
        </Suspense>
    }
}

/// Provides [`CurrentUser`] to the pages and renders the header around them.
#[component]
pub fn AppShell() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    let reminders = Resource::new(|| (), |_| reminder_count());
    provide_context(CurrentUser(user));
    let logout = ServerAction::<Logout>::new();
    // The phone menu closes when a link in it has taken the reader to another page.
    let menu = NodeRef::<leptos::html::Details>::new();
    let location = leptos_router::hooks::use_location();
    Effect::new(move |_| {
        location.pathname.track();
        if let Some(menu) = menu.get_untracked() {
            menu.set_open(false);
        }
    });
    Effect::new(move |_| {
        if matches!(logout.value().get(), Some(Ok(()))) {
            // A full load: every resource of the old session is dropped with it.
            let _ = window().location().set_href("/login");
        }
    });

    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <div class="topbar-inner">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "Nightwatch"
                </a>
                // Wide screens: the links in a row, the user on the right.
                <nav class="mainnav" aria-label="Main">
                    <NavLinks user reminders />
                </nav>
                <div class="usermenu">
                    <UserMenu user logout />
                </div>
                // Phones: one "Menu" button (a disclosure: it works without JavaScript) over the
                // same links and the user.
                <details class="navmenu" node_ref=menu>
                    <summary>"Menu"</summary>
                    <div class="navmenu-panel" on:click=move |ev| {
                        // A followed link closes the menu at once (before the next page renders).
                        use leptos::wasm_bindgen::JsCast;
                        let on_link = ev.target()
                            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                            .and_then(|e| e.closest("a").ok().flatten())
                            .is_some();
                        if on_link && let Some(menu) = menu.get_untracked() {
                            menu.set_open(false);
                        }
                    }>
                        <nav aria-label="Main">
                            <NavLinks user reminders />
                        </nav>
                        <div class="usermenu">
                            <UserMenu user logout />
                        </div>
                    </div>
                </details>
            </div>
        </header>
        <main id="main" class="page">
            <Outlet />
        </main>
    }
}

/// The main navigation's links.
#[component]
fn NavLinks(
    user: Resource<Result<Option<UserView>, AppError>>,
    reminders: Resource<Result<i64, AppError>>,
) -> impl IntoView {
    view! {
        <A href="/incidents">"Incidents"</A>
        <A href="/risks">"Risks"</A>
        <A href="/plans">"Plans"</A>
        <A href="/runs">"Runs"</A>
        <A href="/actions">
            "Action items"
            <Suspense>
                {move || Suspend::new(async move {
                    let unread = reminders.await.unwrap_or(0);
                    (unread > 0).then(|| view! {
                        <span class="badge count" title="Unread reminders">
                            {unread}
                            <span class="visually-hidden">" unread reminders"</span>
                        </span>
                    })
                })}
            </Suspense>
        </A>
        <A href="/board">"Metrics"</A>
        <Suspense>
            {move || Suspend::new(async move {
                let is_admin = matches!(user.await, Ok(Some(u)) if u.role == Role::Admin);
                is_admin.then(|| view! { <A href="/admin/users">"Admin"</A> })
            })}
        </Suspense>
    }
}

/// The signed-in user (their account page) and "Sign out".
#[component]
fn UserMenu(
    user: Resource<Result<Option<UserView>, AppError>>,
    logout: ServerAction<Logout>,
) -> impl IntoView {
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                user.await
                    .ok()
                    .flatten()
                    .map(|u| {
                        view! {
                            <a class="whoami" href="/account" title="Your account">
                                <span class="username">{u.username.clone()}</span>
                                <span class="badge role">{u.role.label()}</span>
                            </a>
                            <ActionForm action=logout>
                                <button type="submit" class="btn ghost small">
                                    "Sign out"
                                </button>
                            </ActionForm>
                        }
                    })
            })}
        </Suspense>
    }
}

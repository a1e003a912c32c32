//! The HTML shell, `<App/>` and the route table.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{Lazy, LazyRoute, SsrMode, path};

use crate::ui::components::shell::AppShell;
use crate::ui::pages::account::account_page::AccountPage;
use crate::ui::pages::actions::actions_page::ActionsPage;
use crate::ui::pages::admin::alerting_page::AlertingPage;
use crate::ui::pages::admin::notifications_page::{ChannelLogPage, NotificationsPage};
use crate::ui::pages::admin::tokens_page::TokensPage;
use crate::ui::pages::admin::users_page::UsersPage;
use crate::ui::pages::auth::login_page::LoginPage;
use crate::ui::pages::board::board_page::BoardPage;
use crate::ui::pages::home::home_page::HomePage;
use crate::ui::pages::home::not_found_page::NotFoundPage;
use crate::ui::pages::incidents::declare_page::DeclarePage;
use crate::ui::pages::incidents::incident_page::IncidentPage;
use crate::ui::pages::incidents::incidents_page::IncidentsPage;
use crate::ui::pages::plans::editor_page::{EditPlanPage, NewPlanPage};
use crate::ui::pages::plans::plan_page::PlanPage;
use crate::ui::pages::plans::plans_page::PlansPage;
use crate::ui::pages::postmortems::postmortem_page::PostmortemPage;
use crate::ui::pages::postmortems::report_page::PostmortemReportPage;
use crate::ui::pages::risks::inspections_page::InspectionsPage;
use crate::ui::pages::risks::risk_page::RiskPage;
use crate::ui::pages::risks::risks_page::RisksPage;
use crate::ui::pages::risks::silences_page::SilencesPage;
use crate::ui::pages::runs::run_page::RunPage;
use crate::ui::pages::runs::runs_page::RunsPage;

/// The document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The stylesheet by its hashed name and the client in its hashed directory (read once),
    // linked here, outside what hydrates.
    #[cfg(feature = "ssr")]
    let (stylesheet, client) = (
        crate::server::assets::stylesheet(&options),
        crate::server::assets::client_options(&options),
    );
    #[cfg(not(feature = "ssr"))]
    let (stylesheet, client) = (
        format!("/{}/{}.css", options.site_pkg_dir, options.output_name),
        options.clone(),
    );
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <link rel="stylesheet" href=stylesheet />
                <AutoReload options=options.clone() />
                <HydrationScripts options=client />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: routes, each rendered fully on the server before it is sent (`Async`), so
/// every page works with JavaScript off. The pages a responder opens at 3 a.m. (sign-in, home,
/// the incident list, declaring, an incident) are in the client's main module; the others are
/// in five groups loaded on demand (`LazyRoute`): postmortems, plans and runs, the board and
/// action items, risks, administration. `scripts/build.sh` splits the client at these points;
/// the server links the chunks of the page it renders so the browser fetches them at once.
/// (One split point per page made hundreds of small chunks, a page needing 300 of them.)
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|page: String| crate::ui::format::document_title(&page) />
        <Router>
            {crate::ui::components::feedback::provide_form_feedback()}
            <Routes fallback=|| view! { <NotFoundPage /> <Hydrated /> }>
                <Route
                    path=path!("/login")
                    view={Lazy::<Login>::new()}
                    ssr=SsrMode::Async
                />
                <ParentRoute path=path!("") view=AppShell ssr=SsrMode::Async>
                    <Route
                        path=path!("")
                        view={Lazy::<Home>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/incidents")
                        view={Lazy::<Incidents>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/incidents/new")
                        view={Lazy::<Declare>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/incidents/:number")
                        view=|| view! { <IncidentPage /> <Hydrated /> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/incidents/:number/postmortem")
                        view={Lazy::<Postmortem>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/incidents/:number/postmortem/report")
                        view={Lazy::<PostmortemReport>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/plans") view={Lazy::<Plans>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/plans/new") view={Lazy::<NewPlan>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/plans/:number") view={Lazy::<Plan>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/plans/:number/edit") view={Lazy::<EditPlan>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/runs") view={Lazy::<Runs>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/runs/:number") view={Lazy::<Run>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/actions") view={Lazy::<Actions>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/board") view={Lazy::<Board>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/risks") view={Lazy::<Risks>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/risks/:number") view={Lazy::<Risk>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/silences") view={Lazy::<Silences>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/inspections") view={Lazy::<Inspections>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/users") view={Lazy::<Users>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/tokens") view={Lazy::<Tokens>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/alerting") view={Lazy::<Alerting>::new()} ssr=SsrMode::Async />
                    <Route
                        path=path!("/admin/notifications")
                        view={Lazy::<Notifications>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/admin/notifications/:id")
                        view={Lazy::<ChannelLog>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/account") view={Lazy::<Account>::new()} ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Marks the page hydrated once the page's own view has hydrated (its chunks loaded): effects run
/// only in the browser. Browser tests and `scripts/first-load.sh` wait for `data-hydrated`.
#[component]
fn Hydrated() -> impl IntoView {
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}

/// Links the chunks of the group whose `#[lazy]` function is `function` in the page's head, so
/// the browser fetches them beside the main module rather than after it has started. Leptos 0.8
/// links them itself only now and then (it looks for the client's manifest outside the
/// request's reactive owner, after the page is rendered): here, within the route's owner, and
/// Leptos's own list is shadowed for this route so a page cannot get them twice.
#[cfg(feature = "ssr")]
fn preload_chunks(function: &str) {
    use crate::server::assets::Splits;
    use leptos_meta::Link;
    provide_context(leptos::PrefetchLazyFn::default());
    let Some(splits) = Splits::get() else {
        return;
    };
    let modules = splits.modules(function);
    if modules.is_empty() {
        return;
    }
    let nonce = leptos::nonce::use_nonce()
        .map(|n| n.to_string())
        .unwrap_or_default();
    // to_html() on a leptos_meta element registers it with the page's head.
    for module in modules {
        let href = format!("{}/{module}.wasm", splits.pkg);
        let _ = view! {
            <Link rel="preload" href=href as_="fetch" type_="application/wasm" crossorigin=nonce.clone() />
        }
        .to_html();
    }
    let loader = format!("{}/{}", splits.pkg, Splits::LOADER);
    let _ = view! { <Link rel="modulepreload" href=loader crossorigin=nonce /> }.to_html();
}

/// A group of pages loaded on demand: `$load` is the group's split point (one chunk set for all
/// its pages) and `$preload` the function `#[lazy]` makes beside it to fetch its chunks (named
/// `__preload_` + `$load`), `$group` names its pages, each `$route` is one route's `LazyRoute`.
/// The router awaits `preload` before it hydrates or shows the page, so the chunks are there
/// when the page's view is made (hydrating before they are fails).
macro_rules! lazy_group {
    ($load:ident / $preload:ident, $group:ident { $($route:ident => $page:ident),+ $(,)? }) => {
        #[derive(Clone, Copy)]
        #[repr(u8)]
        enum $group {
            $($route),+
        }

        #[lazy]
        fn $load(page: $group) -> AnyView {
            match page {
                $($group::$route => view! { <$page /> <Hydrated /> }.into_any()),+
            }
        }

        $(
            struct $route;

            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                async fn view(_this: Self) -> AnyView {
                    #[cfg(feature = "ssr")]
                    preload_chunks(stringify!($load));
                    $load($group::$route).await
                }

                async fn preload() {
                    // Only the client is split (on the server the pages are plain functions).
                    #[cfg(target_arch = "wasm32")]
                    $preload().await;
                }
            }
        )+
    };
}

lazy_group!(responder_pages / __preload_responder_pages, ResponderPages {
    Login => LoginPage,
    Home => HomePage,
    Incidents => IncidentsPage,
    Declare => DeclarePage,
});

lazy_group!(postmortem_pages / __preload_postmortem_pages, PostmortemPages {
    Postmortem => PostmortemPage,
    PostmortemReport => PostmortemReportPage,
});

lazy_group!(plan_pages / __preload_plan_pages, PlanPages {
    Plans => PlansPage,
    NewPlan => NewPlanPage,
    Plan => PlanPage,
    EditPlan => EditPlanPage,
    Runs => RunsPage,
    Run => RunPage,
});

lazy_group!(board_pages / __preload_board_pages, BoardPages {
    Board => BoardPage,
    Actions => ActionsPage,
});

lazy_group!(risk_pages / __preload_risk_pages, RiskPages {
    Risks => RisksPage,
    Risk => RiskPage,
    Silences => SilencesPage,
    Inspections => InspectionsPage,
});

lazy_group!(admin_pages / __preload_admin_pages, AdminPages {
    Users => UsersPage,
    Tokens => TokensPage,
    Alerting => AlertingPage,
    Notifications => NotificationsPage,
    ChannelLog => ChannelLogPage,
    Account => AccountPage,
});

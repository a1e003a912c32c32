//! The HTML shell, `<App/>` and the route table.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

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
    // The stylesheet by its hashed name (read once), linked here, outside what hydrates.
    #[cfg(feature = "ssr")]
    let stylesheet = crate::server::assets::stylesheet(&options);
    #[cfg(not(feature = "ssr"))]
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
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
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: routes, each rendered fully on the server before it is sent (`Async`), so
/// every page works with JavaScript off.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: this marks the page as hydrated (browser tests wait for it).
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title formatter=|page: String| crate::ui::format::document_title(&page) />
        <Router>
            {crate::ui::components::feedback::provide_form_feedback()}
            <Routes fallback=NotFoundPage>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=AppShell ssr=SsrMode::Async>
                    <Route path=path!("") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/incidents") view=IncidentsPage ssr=SsrMode::Async />
                    <Route path=path!("/incidents/new") view=DeclarePage ssr=SsrMode::Async />
                    <Route path=path!("/incidents/:number") view=IncidentPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/incidents/:number/postmortem")
                        view=PostmortemPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/incidents/:number/postmortem/report")
                        view=PostmortemReportPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/plans") view=PlansPage ssr=SsrMode::Async />
                    <Route path=path!("/plans/new") view=NewPlanPage ssr=SsrMode::Async />
                    <Route path=path!("/plans/:number") view=PlanPage ssr=SsrMode::Async />
                    <Route path=path!("/plans/:number/edit") view=EditPlanPage ssr=SsrMode::Async />
                    <Route path=path!("/runs") view=RunsPage ssr=SsrMode::Async />
                    <Route path=path!("/runs/:number") view=RunPage ssr=SsrMode::Async />
                    <Route path=path!("/actions") view=ActionsPage ssr=SsrMode::Async />
                    <Route path=path!("/board") view=BoardPage ssr=SsrMode::Async />
                    <Route path=path!("/risks") view=RisksPage ssr=SsrMode::Async />
                    <Route path=path!("/risks/:number") view=RiskPage ssr=SsrMode::Async />
                    <Route path=path!("/silences") view=SilencesPage ssr=SsrMode::Async />
                    <Route path=path!("/inspections") view=InspectionsPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/users") view=UsersPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/tokens") view=TokensPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/alerting") view=AlertingPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/notifications") view=NotificationsPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/notifications/:id") view=ChannelLogPage ssr=SsrMode::Async />
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

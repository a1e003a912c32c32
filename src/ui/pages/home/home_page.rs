//! `/`: where a signed-in user lands — who they are and where to go.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::model::Role;
use crate::ui::components::shell::CurrentUser;

/// What each role may do, in one sentence.
fn role_summary(role: Role) -> &'static str {
    match role {
        Role::Viewer => "You can read incidents, postmortems, plans, runs and metrics.",
        Role::Responder => {
            "You can add notes and evidence, execute plan steps and own action items."
        }
        Role::Commander => "You can declare and run incidents, publish postmortems and run plans.",
        Role::Admin => "You can do everything, including managing users.",
    }
}

/// The landing page.
#[component]
pub fn HomePage() -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    view! {
        <Title text="Overview" />
        <Suspense>
            {move || Suspend::new(async move {
                user.await
                    .ok()
                    .flatten()
                    .map(|u| {
                        view! {
                            <div class="page-header">
                                <h1>"Welcome, " {u.username.clone()}</h1>
                                <p class="lede">
                                    "Signed in as " <span class="badge role">{u.role.label()}</span>
                                    ". " {role_summary(u.role)}
                                </p>
                            </div>
                        }
                    })
            })}
        </Suspense>
        <section class="tiles" aria-label="Sections">
            <a class="card tile" href="/incidents">
                <h2>"Incidents"</h2>
                <p>"Declare an incident and run it from detection to review."</p>
            </a>
            <a class="card tile" href="/plans">
                <h2>"Plans"</h2>
                <p>"Compose drills and emergency plans from atomic actions."</p>
            </a>
            <a class="card tile" href="/runs">
                <h2>"Runs"</h2>
                <p>"Follow every drill and plan run step by step."</p>
            </a>
            <a class="card tile" href="/actions">
                <h2>"Action items"</h2>
                <p>"Track every corrective and preventive action to done."</p>
            </a>
            <a class="card tile" href="/board">
                <h2>"Metrics"</h2>
                <p>"MTTA, MTTM, MTTR, recurrence and drill pass rate."</p>
            </a>
        </section>
    }
}

//! `/plans`: every drill, emergency, self-recovery and disaster-recovery plan.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::plans::list_plans;
use crate::model::Role;
use crate::ui::components::shell::CurrentUser;

/// The plan list.
#[component]
pub fn PlansPage() -> impl IntoView {
    let plans = Resource::new(|| (), |_| list_plans());
    let CurrentUser(user) = expect_context::<CurrentUser>();
    view! {
        <Title text="Plans" />
        <div class="page-header">
            <h1>"Plans"</h1>
            <p class="lede">"Drills, emergency plans, self-recovery and disaster-recovery plans: ordered steps of atomic actions. Every edit is a new version; runs name the version they ran."</p>
        </div>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let may_write = matches!(user.await, Ok(Some(ref u)) if u.role.allows(Role::Responder));
                may_write.then(|| view! { <p class="header-actions"><a class="btn primary" href="/plans/new">"New plan"</a></p> })
            })}
        </Suspense>
        <Suspense fallback=|| view! { <p class="muted">"Loading plans…"</p> }>
            {move || Suspend::new(async move {
                match plans.await {
                    Ok(list) if list.is_empty() => view! {
                        <div class="card empty-state"><p>"No plans yet."</p></div>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="card flush">
                            <div class="table-wrap">
                                <table class="table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Plan"</th>
                                            <th scope="col">"Kind"</th>
                                            <th scope="col">"Service"</th>
                                            <th scope="col">"Version"</th>
                                            <th scope="col">"State"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list.into_iter().map(|p| view! {
                                            <tr>
                                                <th scope="row"><a href=format!("/plans/{}", p.number)>{p.name.clone()}</a></th>
                                                <td>{p.scene.label()}</td>
                                                <td>{p.service.clone()}</td>
                                                <td>{format!("v{}", p.version)}</td>
                                                <td>{if p.enabled { "Enabled" } else { "Disabled" }}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

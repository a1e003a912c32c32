//! `/incidents/new`: declare an incident. Every field error shows beside its field; on success the
//! new incident's page opens.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::api::incidents::DeclareIncident;
use crate::model::Role;
use crate::model::incident::Severity;
use crate::ui::components::feedback::typed;
use crate::ui::components::form::{FormMessage, TextField, field_signal, form_error};
use crate::ui::components::shell::ForRole;
use crate::ui::format;

/// The declaration form.
#[component]
pub fn DeclarePage() -> impl IntoView {
    let declare = ServerAction::<DeclareIncident>::new();
    let result = declare.value();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(number)) = result.get() {
            navigate(&format!("/incidents/{number}"), Default::default());
        }
    });

    view! {
        <Title text="Declare an incident" />
        <div class="page-header">
            <h1>"Declare an incident"</h1>
            <p class="lede">"Say what is wrong; the timeline starts now. You can refine everything later."</p>
        </div>
        // Told before typing, not after: a viewer is not offered the form.
        <ForRole role=Role::Responder refusal="Declaring an incident needs the responder role; yours can read incidents but not declare them. Ask an admin for the role, or ask a responder to declare it.">
            <DeclareForm declare />
        </ForRole>
    }
}

#[component]
fn DeclareForm(declare: ServerAction<DeclareIncident>) -> impl IntoView {
    let result = declare.value();
    let description_error = field_signal(result, "description");
    let severity_error = field_signal(result, "severity");
    view! {
        <section class="card narrow wide-form" aria-labelledby="declare-title">
            <h2 id="declare-title" class="visually-hidden">"Incident details"</h2>
            <ActionForm action=declare>
                <TextField label="Title" name="title" value={typed::<DeclareIncident>("title")} required=true
                    help="What users see, in a few words: “Checkout fails with 502”."
                    error=field_signal(result, "title") />
                <div class="field" class:invalid=move || severity_error.get().is_some()>
                    <label for="field-severity">"Severity"</label>
                    <select id="field-severity" name="severity" aria-describedby="field-severity-error">
                        {Severity::ALL.into_iter().map(|s| view! {
                            <option value=s.as_str() selected={typed::<DeclareIncident>("severity").map_or(s == Severity::Sev2, |t| t == s.as_str())}>
                                {format!("{} — {}", s.label(), s.meaning())}
                            </option>
                        }).collect_view()}
                    </select>
                    <p class="field-error" id="field-severity-error" role="alert">{move || severity_error.get()}</p>
                </div>
                <TextField label="Affected services" name="services" value={typed::<DeclareIncident>("services")} required=true
                    help="One or more, separated by commas: payments, checkout."
                    error=field_signal(result, "services") />
                <TextField label="Tags" name="tags" value={typed::<DeclareIncident>("tags")}
                    help="Optional, separated by commas: database, eu-west."
                    error=field_signal(result, "tags") />
                <TextField label="Detected at (UTC)" name="detected_at" value={typed::<DeclareIncident>("detected_at")} kind="datetime-local"
                    help="Leave empty for now; set an earlier time if it was noticed before it was declared."
                    error=field_signal(result, "detected_at") />
                <TextField label="Customer impact began (UTC, optional)" name="impact_started_at" value={typed::<DeclareIncident>("impact_started_at")} kind="datetime-local"
                    help="If customers were affected before it was detected: the postmortem measures time to detect and the impact from here."
                    error=field_signal(result, "impact_started_at") />
                <div class="field" class:invalid=move || description_error.get().is_some()>
                    <label for="field-description">"Description"</label>
                    <textarea id="field-description" name="description" rows="5"
                        aria-describedby="field-description-error">{typed::<DeclareIncident>("description").map(|t| format::raw_text(&t))}</textarea>
                    <p class="field-error" id="field-description-error" role="alert">{move || description_error.get()}</p>
                </div>
                <FormMessage error=Signal::derive(move || result.with(form_error)) />
                <button type="submit" class="btn primary" disabled=move || declare.pending().get()>
                    "Declare incident"
                </button>
            </ActionForm>
        </section>
    }
}

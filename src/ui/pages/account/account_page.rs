//! `/account`: the signed-in user changes their own password.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::ChangePassword;
use crate::ui::components::feedback::succeeded;
use crate::ui::components::form::{
    FormMessage, TextField, clear_on_success, field_signal, form_error,
};

/// Your account.
#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let result = change.value();
    let form = NodeRef::<leptos::html::Form>::new();
    clear_on_success(result, form);
    view! {
        <Title text="Your account" />
        <div class="page-header">
            <h1>"Your account"</h1>
        </div>
        <section class="card narrow" aria-labelledby="pw-title">
            <h2 id="pw-title">"Change your password"</h2>
            <ActionForm action=change node_ref=form>
                <TextField
                    label="Current password"
                    name="current_password"
                    kind="password"
                    autocomplete="current-password"
                    required=true
                    error=field_signal(result, "current_password")
                />
                <TextField
                    label="New password"
                    name="new_password"
                    kind="password"
                    autocomplete="new-password"
                    help="At least 10 characters."
                    required=true
                    error=field_signal(result, "new_password")
                />
                <FormMessage
                    error=Signal::derive(move || result.with(form_error))
                    success=Signal::derive(move || {
                        let done = result.with(|r| match r {
                            Some(r) => r.is_ok(),
                            // Without JavaScript the post came back to this page.
                            None => succeeded::<ChangePassword>(),
                        });
                        done.then(|| "Your password was changed.".to_owned())
                    })
                />
                <button type="submit" class="btn primary" disabled=move || change.pending().get()>
                    "Change password"
                </button>
            </ActionForm>
        </section>
    }
}

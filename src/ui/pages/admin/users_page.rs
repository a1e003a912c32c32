//! `/admin/users`: list users, create one, change roles, reset passwords, disable and enable.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::users::{
    ChangeUserRole, CreateUser, ResetUserPassword, SetUserDisabled, list_users,
};
use crate::model::{AppError, Role, UserView};
use crate::ui::components::form::{FormMessage, TextField, field_error, field_signal, form_error};

/// The user administration page (admins only; others see why not).
#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let change_role = ServerAction::<ChangeUserRole>::new();
    let reset = ServerAction::<ResetUserPassword>::new();
    let disable = ServerAction::<SetUserDisabled>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                change_role.version().get(),
                reset.version().get(),
                disable.version().get(),
            )
        },
        |_| list_users(),
    );

    // One line of feedback for the row actions, from whichever finished last.
    let row_error = Signal::derive(move || {
        change_role
            .value()
            .with(form_error_or_field)
            .or_else(|| reset.value().with(form_error_or_field))
            .or_else(|| disable.value().with(form_error_or_field))
    });
    let row_success = Signal::derive(move || {
        if matches!(change_role.value().get(), Some(Ok(()))) {
            Some("Role changed.".to_owned())
        } else if matches!(reset.value().get(), Some(Ok(()))) {
            Some("Password reset; the user's sessions have ended.".to_owned())
        } else if matches!(disable.value().get(), Some(Ok(()))) {
            Some("Access changed.".to_owned())
        } else {
            None
        }
    });

    view! {
        <Title text="Users" />
        <div class="page-header">
            <h1>"Users"</h1>
            <p class="lede">"Who can sign in, and what each may do."</p>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) => {
                        view! {
                            <section class="card" aria-labelledby="users-title">
                                <h2 id="users-title">"Accounts"</h2>
                                <FormMessage error=row_error success=row_success />
                                <UsersTable users=list change_role reset disable />
                            </section>
                            <CreateUserForm create />
                        }
                            .into_any()
                    }
                    Err(AppError::Forbidden) => {
                        forbidden_status();
                        view! {
                            <div class="card empty-state">
                                <p>"Only admins can manage users."</p>
                            </div>
                        }
                            .into_any()
                    }
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn form_error_or_field<T>(result: &Option<Result<T, AppError>>) -> Option<String> {
    match result {
        Some(Err(AppError::Validation(fields))) => fields.first().map(|f| f.message.clone()),
        other => form_error(other),
    }
}

fn forbidden_status() {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::FORBIDDEN);
    }
}

#[component]
fn UsersTable(
    users: Vec<UserView>,
    change_role: ServerAction<ChangeUserRole>,
    reset: ServerAction<ResetUserPassword>,
    disable: ServerAction<SetUserDisabled>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"User"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Reset password"</th>
                        <th scope="col">"Access"</th>
                    </tr>
                </thead>
                <tbody>
                    {users
                        .into_iter()
                        .map(|u| view! { <UserRow user=u change_role reset disable /> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn UserRow(
    user: UserView,
    change_role: ServerAction<ChangeUserRole>,
    reset: ServerAction<ResetUserPassword>,
    disable: ServerAction<SetUserDisabled>,
) -> impl IntoView {
    let id = user.id.to_string();
    let name = user.username.clone();
    let created = user.created_at.format("%Y-%m-%d").to_string();
    let (role_id, reset_id, access_id) = (id.clone(), id.clone(), id);
    let role_label = format!("Role for {name}");
    let save_label = format!("Save role of {name}");
    let password_label = format!("New password for {name}");
    let reset_label = format!("Reset password of {name}");
    let verb = if user.disabled { "Enable" } else { "Disable" };
    let access_label = format!("{verb} {name}");
    view! {
        <tr>
            <th scope="row">
                <span class="username">{name}</span>
                <span class="muted small">" since " {created}</span>
            </th>
            <td>
                <ActionForm action=change_role attr:class="row-form">
                    <input type="hidden" name="user_id" value=role_id />
                    <select name="role" aria-label=role_label>
                        {Role::ALL
                            .into_iter()
                            .map(|r| {
                                view! {
                                    <option value=r.as_str() selected=r == user.role>
                                        {r.label()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <button type="submit" class="btn small" aria-label=save_label>
                        "Save"
                    </button>
                </ActionForm>
            </td>
            <td>
                {if user.disabled {
                    view! { <span class="badge status-off">"Disabled"</span> }.into_any()
                } else {
                    view! { <span class="badge status-on">"Active"</span> }.into_any()
                }}
            </td>
            <td>
                <ActionForm action=reset attr:class="row-form">
                    <input type="hidden" name="user_id" value=reset_id />
                    <input
                        type="password"
                        name="password"
                        autocomplete="new-password"
                        aria-label=password_label
                        placeholder="New password"
                    />
                    <button type="submit" class="btn small" aria-label=reset_label>
                        "Reset"
                    </button>
                </ActionForm>
            </td>
            <td>
                <ActionForm action=disable attr:class="row-form">
                    <input type="hidden" name="user_id" value=access_id />
                    <input type="hidden" name="disabled" value=(!user.disabled).to_string() />
                    <button
                        type="submit"
                        class=if user.disabled { "btn small" } else { "btn small danger" }
                        aria-label=access_label
                    >
                        {verb}
                    </button>
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
fn CreateUserForm(create: ServerAction<CreateUser>) -> impl IntoView {
    let result = create.value();
    view! {
        <section class="card narrow" aria-labelledby="create-title">
            <h2 id="create-title">"Create a user"</h2>
            <ActionForm action=create>
                <TextField
                    label="Username"
                    name="username"
                    id="new-username"
                    autocomplete="off"
                    help="3–32 characters: letters, digits, '.', '_' or '-'."
                    required=true
                    error=field_signal(result, "username")
                />
                <div class="field">
                    <label for="new-role">"Role"</label>
                    <select id="new-role" name="role">
                        {Role::ALL
                            .into_iter()
                            .map(|r| view! { <option value=r.as_str() selected=r == Role::Responder>{r.label()}</option> })
                            .collect_view()}
                    </select>
                    <p class="field-error" role="alert">
                        {move || result.with(|r| field_error(r, "role"))}
                    </p>
                </div>
                <TextField
                    label="Initial password"
                    name="password"
                    id="new-password"
                    kind="password"
                    autocomplete="new-password"
                    help="At least 10 characters. Share it with the user; they can change it under their account."
                    required=true
                    error=field_signal(result, "password")
                />
                <FormMessage
                    error=Signal::derive(move || result.with(form_error))
                    success=Signal::derive(move || {
                        result.with(|r| match r {
                            Some(Ok(u)) => Some(format!("Created {} ({}).", u.username, u.role.label())),
                            _ => None,
                        })
                    })
                />
                <button type="submit" class="btn primary" disabled=move || create.pending().get()>
                    "Create user"
                </button>
            </ActionForm>
        </section>
    }
}

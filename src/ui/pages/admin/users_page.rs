//! `/admin/users`: list users, create one, change roles, reset passwords, disable and enable.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::users::{
    ChangeUserRole, CreateUser, ResetUserPassword, SetUserDisabled, list_users,
};
use crate::model::{AppError, Role, UserView};
use crate::ui::components::feedback::{succeeded, typed};
use crate::ui::components::form::{FormMessage, TextField, field_signal, form_error};
use crate::ui::components::shell::CurrentUser;
use crate::ui::pages::admin::tokens_page::AdminNav;
use crate::ui::pages::admin::{RoleField, forbidden_status};

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

    // One message at a time: the action dispatched last speaks, the others fall silent.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Last {
        Create,
        Role,
        Reset,
        Access,
    }
    let last = RwSignal::new(None::<Last>);
    let pending = [
        (Last::Create, create.pending()),
        (Last::Role, change_role.pending()),
        (Last::Reset, reset.pending()),
        (Last::Access, disable.pending()),
    ];
    Effect::new(move |_| {
        for (which, p) in pending {
            if p.get() {
                last.set(Some(which));
            }
        }
    });
    // A plain form post (JavaScript off) that came back: it is the last action.
    let came_back = if succeeded::<ChangeUserRole>() {
        Some(Last::Role)
    } else if succeeded::<ResetUserPassword>() {
        Some(Last::Reset)
    } else if succeeded::<SetUserDisabled>() {
        Some(Last::Access)
    } else {
        None
    };
    let is_last = move |which: Last| last.get().map_or(came_back == Some(which), |l| l == which);
    let row_error = Signal::derive(move || match last.get() {
        Some(Last::Role) => change_role.value().with(form_error_or_field),
        Some(Last::Reset) => reset.value().with(form_error_or_field),
        Some(Last::Access) => disable.value().with(form_error_or_field),
        _ => change_role
            .value()
            .with(form_error_or_field)
            .or_else(|| reset.value().with(form_error_or_field))
            .or_else(|| disable.value().with(form_error_or_field)),
    });
    let row_success = Signal::derive(move || {
        let ok = |v: Option<Result<(), AppError>>, which: Last| {
            is_last(which)
                && (matches!(v, Some(Ok(()))) || (v.is_none() && came_back == Some(which)))
        };
        if ok(change_role.value().get(), Last::Role) {
            Some("Role changed.".to_owned())
        } else if ok(reset.value().get(), Last::Reset) {
            Some("Password reset; the user's sessions have ended.".to_owned())
        } else if ok(disable.value().get(), Last::Access) {
            Some("Access changed.".to_owned())
        } else {
            None
        }
    });
    // Whoever is signed in sees their own role change in the header at once.
    let CurrentUser(me) = expect_context::<CurrentUser>();
    Effect::new(move |_| {
        if matches!(change_role.value().get(), Some(Ok(()))) {
            me.refetch();
        }
    });
    let create_shown = Signal::derive(move || last.get().is_none_or(|l| l == Last::Create));

    view! {
        <Title text="Users" />
        <div class="page-header">
            <h1>"Users"</h1>
            <p class="lede">"Who can sign in, and what each may do."</p>
            <AdminNav current="users" />
        </div>
        <section class="card" aria-labelledby="users-title">
            <h2 id="users-title">"Accounts"</h2>
            <FormMessage error=row_error success=row_success />
            <Transition fallback=|| view! { <p class="muted">"Loading users…"</p> }>
                {move || Suspend::new(async move {
                    let my_id = me.await.ok().flatten().map(|u| u.id);
                    match users.await {
                        Ok(list) => view! { <UsersTable users=list my_id change_role reset disable /> }.into_any(),
                        Err(AppError::Forbidden) => {
                            forbidden_status();
                            view! { <p class="empty-state">"Only admins can manage users."</p> }.into_any()
                        }
                        Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <Suspense>
            {move || Suspend::new(async move {
                let admin = matches!(me.await, Ok(Some(u)) if u.role == Role::Admin);
                admin.then(|| view! { <CreateUserForm create shown=create_shown /> })
            })}
        </Suspense>
    }
}

fn form_error_or_field<T>(result: &Option<Result<T, AppError>>) -> Option<String> {
    match result {
        Some(Err(AppError::Validation(fields))) => fields.first().map(|f| f.message.clone()),
        other => form_error(other),
    }
}

#[component]
fn UsersTable(
    users: Vec<UserView>,
    my_id: Option<crate::model::UserId>,
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
                        .map(|u| {
                            let mine = Some(u.id) == my_id;
                            view! { <UserRow user=u mine change_role reset disable /> }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn UserRow(
    user: UserView,
    mine: bool,
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
                    {(mine && user.role == Role::Admin).then(|| view! {
                        <label class="check small">
                            <input type="checkbox" name="confirm_self" value="yes" />
                            " Yes, take away my admin rights"
                        </label>
                    })}
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
                {(!mine).then(|| view! {
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
                })}
                {mine.then(|| view! { <span class="muted small">"Your own account"</span> })}
            </td>
        </tr>
    }
}

#[component]
fn CreateUserForm(create: ServerAction<CreateUser>, shown: Signal<bool>) -> impl IntoView {
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
                    value={typed::<CreateUser>("username")}
                    error=field_signal(result, "username")
                />
                <RoleField id="new-role" selected=Role::Responder error=field_signal(result, "role") />
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
                        if !shown.get() {
                            return None;
                        }
                        result.with(|r| match r {
                            Some(Ok(u)) => Some(format!("Created {} ({}).", u.username, u.role.label())),
                            // Without JavaScript the post came back to this page: say so once.
                            None if succeeded::<CreateUser>() => Some("User created.".to_owned()),
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

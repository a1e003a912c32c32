//! Signing in and out, the signed-in user, and changing one's own password.

use leptos::prelude::*;

use crate::model::{AppError, UserView};

/// Where to go after sign-in: `next` only when it stays on this site, else `/`. The path is
/// resolved as a browser would resolve it (which drops tabs and newlines and reads `\\` as `/`)
/// and kept only if it lands on our own origin; what is returned is that normalised,
/// percent-encoded path, so it is always a valid `Location` header.
pub fn safe_next(next: Option<&str>) -> String {
    const HOME: &str = "http://nightwatch.invalid/";
    let home = "/".to_owned();
    let Some(next) = next else {
        return home;
    };
    if !next.starts_with('/') || next.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return home;
    }
    let Ok(base) = url::Url::parse(HOME) else {
        return home;
    };
    match base.join(next) {
        Ok(target) if target.origin() == base.origin() && !target.path().starts_with("//") => {
            let mut local = target.path().to_owned();
            if let Some(query) = target.query() {
                local.push('?');
                local.push_str(query);
            }
            local
        }
        _ => home,
    }
}

/// The client an attempt is counted against: its IPv4 address, or the /64 network of an IPv6
/// one (a single host commonly holds a whole /64, and could otherwise try from each address).
#[cfg(feature = "ssr")]
fn throttle_client(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or_else(String::new, |v4| v4.to_string()),
        std::net::IpAddr::V4(v4) => v4.to_string(),
    }
}

/// Signs in with a username and password; the session id is rotated.
#[server(endpoint = "login")]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use super::ssr::redirect_plain_form;
    use crate::server::auth::{app_state, current_session, start_session};
    use crate::server::service::accounts;

    let state = app_state()?;
    let session = current_session()?;
    let client = use_context::<http::request::Parts>().and_then(|p| {
        p.extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| throttle_client(c.0.ip()))
    });
    let user = accounts::authenticate(
        &state.pool,
        &state.throttle,
        &username,
        &password,
        client.as_deref(),
    )
    .await?;
    start_session(&session, user.id, user.session_epoch).await?;
    tracing::info!(username = %user.username, "signed in");
    redirect_plain_form(&safe_next(next.as_deref()));
    Ok(())
}

/// Ends the current session.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use super::ssr::{internal, redirect_plain_form};
    let session = crate::server::auth::current_session()?;
    session.flush().await.map_err(internal)?;
    redirect_plain_form("/login");
    Ok(())
}

/// The signed-in user, or `None`.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<UserView>, AppError> {
    Ok(crate::server::auth::request_user().await?.map(|u| u.view()))
}

/// Changes the signed-in user's own password (any role). Other sessions of the user end.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use crate::server::auth::{app_state, current_session, session_user, start_session};
    use crate::server::service::accounts;

    let state = app_state()?;
    // The stored row, not an `Actor`: the session epoch moves on with the password.
    let user = session_user(&state.pool, &current_session()?)
        .await?
        .ok_or(AppError::Unauthorized)?;
    accounts::change_own_password(&state.pool, &user, &current_password, &new_password).await?;
    // The change bumped the epoch: keep this session, under a fresh id, on the new epoch.
    start_session(&current_session()?, user.id, user.session_epoch + 1).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/admin/users?x=1")), "/admin/users?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn whitespace_or_control_characters_after_the_slash_never_leave_the_site() {
        for hostile in [
            "/\t/127.0.0.1:3299/landed",
            "/\n/evil.example",
            "/\r/evil.example",
            "/ /evil.example",
            "/\u{0}/evil.example",
            "/\u{a0}/evil.example",
            "/\u{2028}/evil.example",
            "/.//evil.example",
            "/./\\evil.example",
            "/%2F/evil.example",
        ] {
            let next = safe_next(Some(hostile));
            assert!(
                next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\"),
                "{hostile:?} became {next:?}"
            );
            assert!(
                http_header_safe(&next),
                "{hostile:?} became {next:?}, not a valid Location"
            );
        }
    }

    #[test]
    fn local_paths_are_kept_percent_encoded() {
        assert_eq!(safe_next(Some("/incidents?q=a%20b")), "/incidents?q=a%20b");
        assert_eq!(
            safe_next(Some("/incidents?q=a b")),
            "/",
            "a browser never sends a raw space"
        );
        assert_eq!(safe_next(Some("/incidents/INC-7#x")), "/incidents/INC-7");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn attempts_from_one_ipv6_network_count_together() {
        let a = super::throttle_client("2001:db8:1:2::10".parse().unwrap());
        let b = super::throttle_client("2001:db8:1:2:ffff::1".parse().unwrap());
        assert_eq!(a, b);
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(
            super::throttle_client("::ffff:10.0.0.1".parse().unwrap()),
            "10.0.0.1"
        );
        assert_eq!(
            super::throttle_client("10.0.0.1".parse().unwrap()),
            "10.0.0.1"
        );
    }

    fn http_header_safe(value: &str) -> bool {
        value.bytes().all(|b| (0x21..0x7f).contains(&b))
    }
}

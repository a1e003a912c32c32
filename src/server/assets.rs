//! The client's files under `/pkg`: content-hashed names (`nightwatch.<hash>.wasm`) cached for a
//! year as immutable, served precompressed (`.br`, `.gz`, written by `scripts/build.sh`) when the
//! browser accepts it. `scripts/build.sh` writes the names in `pkg/hash.txt`; without it (a
//! `cargo leptos` build) the plain names are served and revalidated on every load.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use leptos::config::LeptosOptions;
use tower_http::services::ServeDir;

/// The file listing each client file's content hash, in the site's package directory.
pub const HASH_FILE: &str = "hash.txt";

/// A year: how long a browser or proxy keeps a file whose name changes with its content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The site's package directory (`target/site/pkg`).
pub fn pkg_dir(options: &LeptosOptions) -> PathBuf {
    Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref())
}

/// Points `options` at the hashed names when the build wrote them (Leptos's hydration scripts
/// then link `nightwatch.<hash>.js` and `.wasm`).
pub fn use_hashed_names(options: &mut LeptosOptions) {
    let pkg = pkg_dir(options);
    let file = pkg.join(HASH_FILE);
    let name = options.output_name.to_string();
    // Only when every file it names is there (a later `cargo leptos` build writes plain names
    // and leaves an older list behind).
    let complete = std::fs::read_to_string(&file).is_ok_and(|text| {
        ["js", "wasm", "css"].iter().all(|kind| {
            hash_of(&text, kind)
                .is_some_and(|hash| pkg.join(format!("{name}.{hash}.{kind}")).is_file())
        })
    });
    if complete {
        // An absolute path: Leptos joins it to the executable's directory, which it replaces.
        let file = std::path::absolute(&file).unwrap_or(file);
        options.hash_files = true;
        options.hash_file = file.to_string_lossy().into_owned().into();
    }
}

/// The hash of `kind` (`js`, `wasm`, `css`) in a hash file's text.
fn hash_of<'a>(text: &'a str, kind: &str) -> Option<&'a str> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim() == kind)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The stylesheet's path: `/pkg/nightwatch.<hash>.css` after `scripts/build.sh`, else
/// `/pkg/nightwatch.css`. Read once per process.
pub fn stylesheet(options: &LeptosOptions) -> String {
    static HREF: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HREF.get_or_init(|| {
        let name = options.output_name.as_ref();
        let pkg = options.site_pkg_dir.as_ref();
        let hash = options
            .hash_files
            .then(|| std::fs::read_to_string(options.hash_file.as_ref()).ok())
            .flatten();
        match hash.as_deref().and_then(|t| hash_of(t, "css")) {
            Some(hash) => format!("/{pkg}/{name}.{hash}.css"),
            None => format!("/{pkg}/{name}.css"),
        }
    })
    .clone()
}

/// Whether a file name carries a content hash: `name.<hash>.ext` with a hash of 16 or more
/// letters and digits.
fn is_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let mut parts = file.split('.');
    let _name = parts.next();
    parts
        .next()
        .is_some_and(|hash| hash.len() >= 16 && hash.chars().all(|c| c.is_ascii_alphanumeric()))
        && parts.next().is_some()
}

/// The `/pkg` service over `dir`: precompressed files, hashed ones cached as immutable.
pub fn service(dir: PathBuf) -> Router {
    Router::new()
        .fallback_service(ServeDir::new(dir).precompressed_br().precompressed_gzip())
        .layer(middleware::from_fn(cache_headers))
}

async fn cache_headers(req: Request, next: Next) -> Response {
    let hashed = is_hashed(req.uri().path());
    let mut res = next.run(req).await;
    if matches!(res.status(), StatusCode::OK | StatusCode::NOT_MODIFIED) {
        let value = if hashed { IMMUTABLE } else { "no-cache" };
        let headers = res.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
        // The same name answers brotli, gzip or plain bytes: a cache keys on what was asked.
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_with_a_content_hash_are_immutable() {
        assert!(is_hashed("/nightwatch.3f9a0c1d2e4b5a6f.wasm"));
        assert!(is_hashed("nightwatch.3f9a0c1d2e4b5a6f.wasm.br"));
        assert!(!is_hashed("/nightwatch.wasm"));
        assert!(!is_hashed("/nightwatch.css"));
        assert!(!is_hashed("/hash.txt"));
        assert!(!is_hashed("/nightwatch.abc.js"));
    }

    #[test]
    fn a_hash_file_names_each_kind() {
        let text = "js: 0123456789abcdef\nwasm: fedcba9876543210\ncss: 00112233445566ff\n";
        assert_eq!(hash_of(text, "css"), Some("00112233445566ff"));
        assert_eq!(hash_of(text, "wasm"), Some("fedcba9876543210"));
        assert_eq!(
            hash_of("css: ../x", "css"),
            None,
            "a hash is letters and digits"
        );
    }
}

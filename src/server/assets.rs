//! The client's files under `/pkg`: the WASM client's modules in a directory named by their
//! contents' hash (`pkg/<20 hex>/nightwatch.js`, `.wasm`, the lazily loaded chunks and their
//! loader, which load one another by relative names) and the stylesheet named by its own
//! (`nightwatch.<20 hex>.css`), all cached for a year as immutable, served precompressed (`.br`,
//! `.gz`, written by `scripts/build.sh`) when the browser accepts it. `scripts/build.sh` writes
//! both hashes in `pkg/hash.txt`; without it (a `cargo leptos` build) the plain names are served
//! and revalidated on every load.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use leptos::config::LeptosOptions;
use tower_http::services::ServeDir;

/// The file listing the client directory's and the stylesheet's content hashes, in the site's
/// package directory.
pub const HASH_FILE: &str = "hash.txt";

/// A year: how long a browser or proxy keeps a file whose name changes with its content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The site's package directory (`target/site/pkg`).
pub fn pkg_dir(options: &LeptosOptions) -> PathBuf {
    Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref())
}

/// Points `options` at the hashed names when the build wrote them and every file they name is
/// there (a later `cargo leptos` build writes plain names and leaves an older list behind).
pub fn use_hashed_names(options: &mut LeptosOptions) {
    let pkg = pkg_dir(options);
    let file = pkg.join(HASH_FILE);
    let name = options.output_name.to_string();
    let complete = std::fs::read_to_string(&file).is_ok_and(|text| {
        let client = hash_of(&text, "client").is_some_and(|hash| {
            ["js", "wasm"]
                .iter()
                .all(|kind| pkg.join(hash).join(format!("{name}.{kind}")).is_file())
        });
        let css = hash_of(&text, "css")
            .is_some_and(|hash| pkg.join(format!("{name}.{hash}.css")).is_file());
        client && css
    });
    if complete {
        let file = std::path::absolute(&file).unwrap_or(file);
        options.hash_files = true;
        options.hash_file = file.to_string_lossy().into_owned().into();
    }
}

/// The hash of `kind` (`client`, `css`) in a hash file's text.
fn hash_of<'a>(text: &'a str, kind: &str) -> Option<&'a str> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim() == kind)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The hash of `kind` in the build's hash file, when `use_hashed_names` found one.
fn built_hash(options: &LeptosOptions, kind: &str) -> Option<String> {
    let text = options
        .hash_files
        .then(|| std::fs::read_to_string(options.hash_file.as_ref()).ok())
        .flatten()?;
    hash_of(&text, kind).map(str::to_owned)
}

/// The options Leptos's hydration scripts link the client with: its package directory is the
/// hashed one (`pkg/<hash>`), where the main module, the WASM and the split manifest are found
/// under their plain names. Read once per process.
pub fn client_options(options: &LeptosOptions) -> LeptosOptions {
    static PKG: OnceLock<String> = OnceLock::new();
    let pkg = PKG.get_or_init(|| {
        let pkg = options.site_pkg_dir.to_string();
        match built_hash(options, "client") {
            Some(hash) => format!("{pkg}/{hash}"),
            None => pkg,
        }
    });
    let mut client = options.clone();
    client.site_pkg_dir = pkg.clone().into();
    client.hash_files = false;
    SPLITS.get_or_init(|| Splits::read(&client));
    client
}

/// The split client's files: where they are served and the modules of each lazily loaded group
/// of pages (from the splitter's manifest).
#[derive(Debug, PartialEq)]
pub struct Splits {
    /// `/pkg/<hash>`.
    pub pkg: String,
    groups: HashMap<String, Vec<String>>,
}

static SPLITS: OnceLock<Option<Splits>> = OnceLock::new();

impl Splits {
    /// The chunks' loader, named as `scripts/build.sh` and Leptos name it when file names are not
    /// hashed.
    pub const LOADER: &'static str = "__wasm_split.______________________.js";

    /// The split client's files, once a page has been rendered (its shell reads them), or `None`
    /// for a client that is not split or not built (tests).
    pub fn get() -> Option<&'static Splits> {
        SPLITS.get().and_then(Option::as_ref)
    }

    fn read(client: &LeptosOptions) -> Option<Splits> {
        let text =
            std::fs::read_to_string(pkg_dir(client).join("__wasm_split_manifest.json")).ok()?;
        Self::parse(&format!("/{}", client.site_pkg_dir), &text)
    }

    /// The manifest names a group `<function>_<hash of where #[lazy] was written>`; it is kept
    /// under the function's name.
    fn parse(pkg: &str, manifest: &str) -> Option<Splits> {
        let keyed: HashMap<String, Vec<String>> = serde_json::from_str(manifest).ok()?;
        let groups = keyed
            .into_iter()
            .filter_map(|(key, modules)| {
                let (name, hash) = key.rsplit_once('_')?;
                hash.bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| (name.to_owned(), modules))
            })
            .collect();
        Some(Splits {
            pkg: pkg.to_owned(),
            groups,
        })
    }

    /// The modules (without `.wasm`) the group whose `#[lazy]` function is `function` loads.
    pub fn modules(&self, function: &str) -> &[String] {
        self.groups.get(function).map_or(&[], Vec::as_slice)
    }
}

/// The stylesheet's path: `/pkg/nightwatch.<hash>.css` after `scripts/build.sh`, else
/// `/pkg/nightwatch.css`. Read once per process.
pub fn stylesheet(options: &LeptosOptions) -> String {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| {
        let name = options.output_name.as_ref();
        let pkg = options.site_pkg_dir.as_ref();
        match built_hash(options, "css") {
            Some(hash) => format!("/{pkg}/{name}.{hash}.css"),
            None => format!("/{pkg}/{name}.css"),
        }
    })
    .clone()
}

/// Whether a path names a file by content: in a directory named by a hash
/// (`/<hash>/nightwatch.js`) or with a hash in its name (`name.<hash>.ext`), a hash being 16 or
/// more letters and digits.
fn is_hashed(path: &str) -> bool {
    let is_hash = |s: &str| s.len() >= 16 && s.chars().all(|c| c.is_ascii_alphanumeric());
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let file = segments.next_back().unwrap_or(path);
    if segments.any(is_hash) {
        return true;
    }
    let mut parts = file.split('.');
    let _name = parts.next();
    parts.next().is_some_and(is_hash) && parts.next().is_some()
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
        // The client's modules, in the directory named by their contents' hash.
        assert!(is_hashed("/0123456789abcdef0123/nightwatch.js"));
        assert!(is_hashed(
            "/0123456789abcdef0123/__wasm_split.______________________.js"
        ));
        assert!(!is_hashed("/abc/nightwatch.js"));
        assert!(!is_hashed("/0123456789abcdef0123"));
    }

    #[test]
    fn a_group_is_found_by_its_function_name() {
        let manifest = r#"{"plan_pages_1721": ["chunk_8", "split_plan_pages_1721"],
            "board_pages_99": ["chunk_2"], "odd": ["x"]}"#;
        let splits = Splits::parse("/pkg/abc", manifest).unwrap();
        assert_eq!(
            splits.modules("plan_pages"),
            ["chunk_8", "split_plan_pages_1721"]
        );
        assert_eq!(splits.modules("board_pages"), ["chunk_2"]);
        assert!(splits.modules("odd").is_empty() && splits.modules("nothing").is_empty());
        assert_eq!(splits.pkg, "/pkg/abc");
        assert_eq!(Splits::parse("/pkg", "not json"), None);
    }

    #[test]
    fn a_hash_file_names_each_kind() {
        let text = "client: fedcba9876543210\ncss: 00112233445566ff\n";
        assert_eq!(hash_of(text, "css"), Some("00112233445566ff"));
        assert_eq!(hash_of(text, "client"), Some("fedcba9876543210"));
        assert_eq!(
            hash_of("css: ../x", "css"),
            None,
            "a hash is letters and digits"
        );
    }
}

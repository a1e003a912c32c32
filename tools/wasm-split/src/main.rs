//! `nightwatch-wasm-split IN.wasm PKG_DIR MAIN_OUT.wasm NAME`
//!
//! Splits the client WASM at its split points (Leptos's `#[lazy]`, `LazyRoute`): writes the
//! chunks and their loader (`__wasm_split.______________________.js`, the name Leptos links) into
//! `PKG_DIR`, the main module to `MAIN_OUT.wasm` for wasm-bindgen, and
//! `PKG_DIR/__wasm_split_manifest.json`: which chunk files each split point needs, from which
//! the server links the chunks of the page it renders for the browser to fetch at once.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, pkg, main_out, name] = args.as_slice() else {
        eprintln!("usage: nightwatch-wasm-split IN.wasm PKG_DIR MAIN_OUT.wasm NAME");
        return ExitCode::from(2);
    };
    match split(Path::new(input), Path::new(pkg), Path::new(main_out), name) {
        Ok(chunks) => {
            println!("split into the main module and {chunks} chunks");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nightwatch-wasm-split: {e}");
            ExitCode::FAILURE
        }
    }
}

fn split(
    input: &Path,
    pkg: &Path,
    main_out: &Path,
    name: &str,
) -> Result<usize, Box<dyn std::error::Error>> {
    let wasm = std::fs::read(input)?;
    // The loader imports the main module's `initSync` from the wasm-bindgen glue beside it.
    let main_module = format!("./{name}.js");
    let mut options = wasm_split_cli_support::Options::new(&wasm);
    options.output_dir = pkg;
    options.main_out_path = main_out;
    options.main_module = &main_module;
    options.link_name = "./__wasm_split.______________________.js";
    let split = wasm_split_cli_support::transform(options)?;
    let manifest = serde_json::to_string_pretty(&split.prefetch_map)?;
    std::fs::write(pkg.join("__wasm_split_manifest.json"), manifest)?;
    Ok(split.split_modules.len())
}

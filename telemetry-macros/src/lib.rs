//! The `#[instrument_command]` attribute of [cli-telemetry](https://docs.rs/cli-telemetry).
//!
//! This crate only translates: it parses the attribute and the function (modules `attr`,
//! `ast`), checks them (`valid`) and emits calls into `::cli_telemetry::__private`
//! (`expand`). All behaviour lives in the runtime. Use it through the `cli-telemetry`
//! crate, whose documentation shows every form.

use proc_macro::TokenStream;

mod ast;
mod attr;
mod entry;
mod expand;
mod valid;

/// Makes every call of a command handler report `CommandStarted` before its body runs and
/// `CommandExited` (exit code, duration) after it returns or panics.
///
/// Arguments, all optional:
/// - `name = "werf helm get-release"`: the command path, instead of the one clap parsed;
/// - `matches = <expr>`: the `clap::ArgMatches` to read options from (builder API);
/// - `crate = "path"`: where the `cli_telemetry` crate is, if it was renamed.
///
/// See the `cli-telemetry` crate for examples.
#[proc_macro_attribute]
pub fn instrument_command(args: TokenStream, item: TokenStream) -> TokenStream {
    translate(args, item, valid::check, expand::instrument)
}

/// Put on `fn main` (sync, or `async fn main` with `#[tokio::main]` in either order):
/// the `CommandExited` of the command that ran waits until `main` returns and carries the
/// code the process exits with — what std derives from `main`'s return value (`()`,
/// `ExitCode`, `Result<(), E>`, `Result<ExitCode, E>`, any `Termination`), printing exactly
/// what std prints; 101 if `main` panics. `durationMs` still ends when the handler
/// returned. `main`'s declared return type becomes `std::process::ExitCode`.
///
/// Argument, optional: `crate = "path"`, where the `cli_telemetry` crate is, if renamed.
///
/// See the `cli-telemetry` crate for examples.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    translate(args, item, entry::check, entry::expand)
}

/// Parse → validate → expand; any error comes with the item unchanged.
fn translate(
    args: TokenStream,
    item: TokenStream,
    check: fn(&attr::Args, &ast::Func) -> syn::Result<()>,
    expand: fn(&attr::Args, ast::Func) -> proc_macro2::TokenStream,
) -> TokenStream {
    let args = match attr::parse(args.into()) {
        Ok(args) => args,
        Err(err) => return with_item(err, item),
    };
    let func = match ast::parse(item.clone().into()) {
        Ok(func) => func,
        Err(err) => return with_item(err, item),
    };
    if let Err(err) = check(&args, &func) {
        return with_item(err, item);
    }
    // Without the `telemetry` feature both attributes leave the function unchanged (for
    // packagers); misuse is still an error above.
    if !cfg!(feature = "telemetry") {
        return item;
    }
    expand(&args, func).into()
}

/// The error, plus the item unchanged so that the user sees only this one error.
fn with_item(err: syn::Error, item: TokenStream) -> TokenStream {
    let mut out: proc_macro2::TokenStream = err.to_compile_error();
    out.extend(proc_macro2::TokenStream::from(item));
    out.into()
}

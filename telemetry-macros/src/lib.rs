//! The `#[instrument_command]` attribute of [cli-telemetry](https://docs.rs/cli-telemetry).
//!
//! This crate only translates: it parses the attribute and the function (modules `attr`,
//! `ast`), checks them (`valid`) and emits calls into `::cli_telemetry::__private`
//! (`expand`). All behaviour lives in the runtime. Use it through the `cli-telemetry`
//! crate, whose documentation shows every form.

use proc_macro::TokenStream;

use pair::Which;

mod ast;
mod attr;
mod entry;
mod expand;
mod labels;
mod pair;
mod valid;

/// Makes every call of a command handler report `CommandStarted` before its body runs and
/// `CommandExited` (exit code, duration) after it returns or panics.
///
/// Arguments, all optional:
/// - `name = "werf helm get-release"`: the command path, instead of the one clap parsed;
/// - `matches = <expr>`: the `clap::ArgMatches` to read options from (builder API);
/// - `crate = "path"`: where the `cli_telemetry` crate is, if it was renamed.
///
/// Together with `#[cli_telemetry::main]` on `fn main` (in either order), the program
/// itself is the command: each run reports the root command, for CLIs without
/// subcommands.
///
/// See the `cli-telemetry` crate for examples.
#[proc_macro_attribute]
pub fn instrument_command(args: TokenStream, item: TokenStream) -> TokenStream {
    translate(args, item, Which::Command)
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
/// With `#[instrument_command]` on the same `fn main` (in either order), `main`'s body is
/// the command: each run reports the root command.
///
/// See the `cli-telemetry` crate for examples.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    translate(args, item, Which::Main)
}

/// Parse → validate → expand; any error comes with the item unchanged. When the function
/// carries the other attribute of the pair too, both expand here at once ([`pair`]).
fn translate(args: TokenStream, item: TokenStream, which: Which) -> TokenStream {
    match translate_tokens(args.into(), item.clone().into(), which) {
        Ok(out) => out.into(),
        Err(err) => with_item(err, item),
    }
}

/// Without the `telemetry` feature both attributes leave the function unchanged (for
/// packagers; misuse is still an error): `func` as written, less the pair's partner —
/// whose path is named once inside (`use path as _;`), so that the `use` that brought it
/// in is not reported unused.
fn unchanged(func: ast::Func, partner: Option<&syn::Path>) -> proc_macro2::TokenStream {
    let ast::Func {
        attrs,
        vis,
        sig,
        mut block,
    } = func;
    if let Some(path) = partner {
        block.stmts.insert(0, syn::parse_quote!(use #path as _;));
    }
    quote::quote!(#(#attrs)* #vis #sig #block)
}

fn translate_tokens(
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
    which: Which,
) -> syn::Result<proc_macro2::TokenStream> {
    let args = attr::parse(args)?;
    let mut func = ast::parse(item)?;
    let partner = pair::take_partner(which, &args, &mut func)?;
    let partner_path = partner.as_ref().map(|p| p.path.clone());
    let (main_args, command_args) = match (which, partner.map(|p| p.args)) {
        (Which::Command, None) => {
            valid::check(&args, &func)?;
            if !cfg!(feature = "telemetry") {
                return Ok(unchanged(func, None));
            }
            return Ok(expand::instrument(&args, func));
        }
        (Which::Main, None) => (args, None),
        (Which::Main, Some(command)) => (args, Some(command)),
        (Which::Command, Some(main)) => (main, Some(args)),
    };
    let checked = entry::check(&main_args, &func).and_then(|()| match &command_args {
        Some(command) => entry::check_command(command),
        None => Ok(()),
    });
    if let Err(err) = checked {
        // The item without the partner, so that the user sees only this one error.
        let mut out = err.to_compile_error();
        out.extend(unchanged(func, partner_path.as_ref()));
        return Ok(out);
    }
    if !cfg!(feature = "telemetry") {
        return Ok(unchanged(func, partner_path.as_ref()));
    }
    Ok(entry::expand(
        &main_args,
        command_args.as_ref(),
        partner_path.as_ref(),
        func,
    ))
}

/// The error, plus the item unchanged so that the user sees only this one error.
fn with_item(err: syn::Error, item: TokenStream) -> TokenStream {
    let mut out: proc_macro2::TokenStream = err.to_compile_error();
    out.extend(proc_macro2::TokenStream::from(item));
    out.into()
}

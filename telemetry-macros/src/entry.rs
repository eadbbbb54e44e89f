//! `#[cli_telemetry::main]`: wraps `fn main` so that CommandExited carries the code the
//! process exits with (SPEC S-6). Parse (`crate = "…"` only), check (`fn main()` without
//! parameters), expand: the body runs as `instrument_command`'s does (a closure, or an
//! `async move` block for `async fn main` under `#[tokio::main]` in either order), and its
//! value goes through `MainGuard::finish`, which reports it exactly as std would and
//! returns the `ExitCode`. With `#[instrument_command]` on the same `fn main` ([`crate::pair`]),
//! the guard is entered with `MainGuard::enter_command`: `main`'s body is the root command.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;

use crate::ast::Func;
use crate::attr::Args;
use crate::expand::ret_type_annotation;

pub(crate) fn check(args: &Args, func: &Func) -> syn::Result<()> {
    if let Some(name) = &args.name {
        return Err(syn::Error::new(
            name.span(),
            "`#[cli_telemetry::main]` takes no `name`: put `name = …` on the handler's `#[instrument_command]`",
        ));
    }
    if let Some(m) = &args.matches {
        return Err(syn::Error::new_spanned(
            m,
            "`#[cli_telemetry::main]` takes no `matches`: put `matches = …` on the handler's `#[instrument_command]`",
        ));
    }
    let sig = &func.sig;
    if sig.ident != "main" {
        return Err(syn::Error::new_spanned(
            &sig.ident,
            "`#[cli_telemetry::main]` goes on `fn main`; handlers take `#[instrument_command]`",
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.inputs,
            "`fn main` takes no parameters",
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "`fn main` has no generic parameters",
        ));
    }
    Ok(())
}

/// The arguments of `#[instrument_command]` when it is paired with `#[cli_telemetry::main]`:
/// `name` may rename the root command; `matches` cannot work (nothing is parsed before
/// `main`'s body runs).
pub(crate) fn check_command(command: &Args) -> syn::Result<()> {
    if let Some(m) = &command.matches {
        return Err(syn::Error::new_spanned(
            m,
            "on `fn main`, `matches` cannot work: nothing is parsed before `main`'s body runs; \
             parse with `cli_telemetry::parse()` or `cli_telemetry::get_matches(cmd)` (or call \
             `cli_telemetry::record(&cmd, &matches)`) inside `main` instead",
        ));
    }
    crate::valid::check_args(command)
}

/// `partner`: the path of the pair's other attribute as written, named once in the output
/// (`use path as _;`) so that the import that brought it in counts as used.
pub(crate) fn expand(
    args: &Args,
    command: Option<&Args>,
    partner: Option<&syn::Path>,
    func: Func,
) -> TokenStream {
    let Func {
        attrs,
        vis,
        mut sig,
        block,
    } = func;
    let krate = &args.krate;
    let guard = Ident::new("guard", Span::mixed_site());
    let ret = Ident::new("ret", Span::mixed_site());
    let ret_ty = ret_type_annotation(&sig);
    let run = if sig.asyncness.is_some() {
        quote!(async move #block.await)
    } else {
        quote!(#krate::__private::call(move || #block))
    };
    sig.output = syn::parse_quote!(-> ::std::process::ExitCode);
    let enter = match command.map(|c| &c.name) {
        None => quote!(enter()),
        Some(None) => quote!(enter_command(::core::option::Option::None)),
        Some(Some(name)) => quote!(enter_command(::core::option::Option::Some(#name))),
    };
    let partner = partner.map(|path| quote!(use #path as _;));
    quote! {
        #(#attrs)* #vis #sig {
            #partner
            let #guard = #krate::__private::MainGuard::#enter;
            let #ret #ret_ty = #run;
            #guard.finish(#ret)
        }
    }
}

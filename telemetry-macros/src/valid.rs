//! Checks that turn misuse into compile errors pointing at the offending tokens.

use syn::{Expr, ExprLit, Lit, ReturnType, Type};

use crate::ast::Func;
use crate::attr::{Args, NAME_FORM};

pub(crate) fn check(args: &Args, func: &Func) -> syn::Result<()> {
    check_args(args)?;
    check_func(func)
}

pub(crate) fn check_args(args: &Args) -> syn::Result<()> {
    if let Some(name) = &args.name {
        if name.value().trim().is_empty() {
            return Err(syn::Error::new(
                name.span(),
                format!(
                    "`name` must not be empty: it is the command path to report, as in {NAME_FORM}"
                ),
            ));
        }
    }
    if let Some(Expr::Lit(ExprLit {
        lit: Lit::Str(lit), ..
    })) = &args.matches
    {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "`matches` takes an expression giving the `clap::ArgMatches`, not a string: matches = {}",
                suggested_ident(&lit.value())
            ),
        ));
    }
    Ok(())
}

/// `fn main()` as the program's entry point has it: private, no parameters, no receiver.
/// (A handler called `main` in a module is `pub` to be called from elsewhere.)
fn is_entry_point(func: &Func) -> bool {
    func.sig.ident == "main"
        && func.sig.inputs.is_empty()
        && matches!(func.vis, syn::Visibility::Inherited)
}

/// `matches = "cli_matches"` was probably meant as `matches = cli_matches`.
fn suggested_ident(text: &str) -> String {
    if syn::parse_str::<Expr>(text).is_ok() {
        text.to_owned()
    } else {
        "my_matches".to_owned()
    }
}

fn check_func(func: &Func) -> syn::Result<()> {
    if is_entry_point(func) {
        return Err(syn::Error::new_spanned(
            &func.sig.ident,
            "on `fn main`, `#[instrument_command]` needs `#[cli_telemetry::main]` too (in either \
             order): telemetry is installed inside `main`, after this attribute would start the \
             command, so alone it reports nothing. Add `#[cli_telemetry::main]` to make the \
             program itself the command, or put `#[instrument_command]` on the handler `main` \
             calls",
        ));
    }
    if let Some(constness) = &func.sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            "`#[instrument_command]` cannot be applied to a `const fn`: events are recorded at run time",
        ));
    }
    if let ReturnType::Type(_, ty) = &func.sig.output {
        if let Type::Never(_) = **ty {
            return Err(syn::Error::new_spanned(
                ty,
                "`#[instrument_command]` handlers must return (their exit code comes from the returned value); \
                 to end the process from a handler, call `cli_telemetry::exit(code)`",
            ));
        }
    }
    Ok(())
}

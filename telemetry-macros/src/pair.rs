//! The pair `#[instrument_command]` + `#[cli_telemetry::main]` on one `fn main`: the whole
//! program is the command (a CLI without subcommands, git-cliff's and ripgrep's shape).
//!
//! Attribute macros expand outermost first, and each sees the attributes below it on the
//! item. Whichever of the two comes first finds the other among the function's attributes,
//! takes it off (with its arguments), and expands both at once through
//! [`crate::entry::expand`]: `main` is wrapped as `#[cli_telemetry::main]` wraps it, and its
//! body is the root command, started as soon as the body installs telemetry.

use syn::{Attribute, Path};

use crate::ast::Func;
use crate::attr::{self, Args};

/// Which attribute is expanding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    Command,
    Main,
}

/// The other attribute of the pair, as the function carries it.
pub(crate) struct Partner {
    /// Its arguments, parsed.
    pub args: Args,
    /// Its path as written (`instrument_command`, `cli_telemetry::main`): the expansion
    /// names it once, so that the `use` that brought it in is not reported unused.
    pub path: Path,
}

/// The other attribute of the pair, if the function carries it (it is removed from the
/// function's attributes).
pub(crate) fn take_partner(
    which: Which,
    own: &Args,
    func: &mut Func,
) -> syn::Result<Option<Partner>> {
    let Some(index) = func
        .attrs
        .iter()
        .position(|a| is_partner(which, own, a.path()))
    else {
        return Ok(None);
    };
    let attribute = func.attrs.remove(index);
    Ok(Some(Partner {
        args: partner_args(&attribute)?,
        path: attribute.path().clone(),
    }))
}

fn partner_args(attribute: &Attribute) -> syn::Result<Args> {
    match &attribute.meta {
        syn::Meta::Path(_) => attr::parse(proc_macro2::TokenStream::new()),
        syn::Meta::List(list) => attr::parse(list.tokens.clone()),
        syn::Meta::NameValue(nv) => Err(syn::Error::new_spanned(
            nv,
            "arguments go in parentheses: `#[instrument_command(name = \"…\")]`",
        )),
    }
}

/// `#[instrument_command]` (any path ending so) for `main`; `#[cli_telemetry::main]` (or
/// `<crate>::main` where `crate = "…"` renamed it) for `instrument_command`. A bare
/// `#[main]`, `#[tokio::main]` and the like are not it.
fn is_partner(which: Which, own: &Args, path: &Path) -> bool {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let Some((last, prefix)) = segments.split_last() else {
        return false;
    };
    match which {
        Which::Main => last == "instrument_command",
        Which::Command => {
            let krate: Vec<String> = own
                .krate
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            last == "main"
                && !prefix.is_empty()
                && (prefix == ["cli_telemetry"] || *prefix == krate[..])
        }
    }
}

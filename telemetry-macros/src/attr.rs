//! The attribute's arguments: `name = "…"`, `matches = <expr>`, `crate = "…"`.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::{Expr, LitStr, Path};

pub(crate) struct Args {
    /// Command path override.
    pub name: Option<LitStr>,
    /// Expression giving the `ArgMatches` (builder API).
    pub matches: Option<Expr>,
    /// Path of the `cli_telemetry` crate.
    pub krate: Path,
}

pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Args> {
    let mut name: Option<LitStr> = None;
    let mut matches: Option<Expr> = None;
    let mut krate: Option<Path> = None;
    let parser = syn::meta::parser(|meta| {
        let key = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        match key.as_str() {
            "name" => {
                reject_duplicate(&meta, name.is_some())?;
                let lit: LitStr = meta.value()?.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`name` takes a string literal: name = \"app sub command\"",
                    )
                })?;
                if lit.value().trim().is_empty() {
                    return Err(syn::Error::new(lit.span(), "`name` must not be empty"));
                }
                name = Some(lit);
            }
            "matches" => {
                reject_duplicate(&meta, matches.is_some())?;
                matches = Some(meta.value()?.parse()?);
            }
            "crate" => {
                reject_duplicate(&meta, krate.is_some())?;
                let lit: LitStr = meta.value()?.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`crate` takes a string literal: crate = \"my_telemetry\"",
                    )
                })?;
                krate = Some(lit.parse()?);
            }
            _ => {
                return Err(meta.error("unknown argument; expected `name = \"…\"`, `matches = <expr>` or `crate = \"…\"`"));
            }
        }
        Ok(())
    });
    parser.parse2(tokens)?;
    Ok(Args {
        name,
        matches,
        krate: krate
            .unwrap_or_else(|| syn::parse_quote_spanned!(Span::call_site()=> ::cli_telemetry)),
    })
}

fn reject_duplicate(meta: &syn::meta::ParseNestedMeta<'_>, seen: bool) -> syn::Result<()> {
    if seen {
        Err(meta.error("duplicate argument"))
    } else {
        Ok(())
    }
}

//! The attribute's arguments: `name = "…"`, `matches = <expr>`, `crate = "…"`.
//!
//! Parsing only checks the shape of each argument (its key, the `=`, a value of the right
//! kind); what the values mean is checked in [`crate::valid`]. Every error points at the
//! offending tokens: the key when it is unknown, repeated or has no value, the value when
//! it has the wrong kind.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, Ident, LitStr, Path, Token};

pub(crate) struct Args {
    /// Command path override.
    pub name: Option<LitStr>,
    /// Expression giving the `ArgMatches` (builder API).
    pub matches: Option<Expr>,
    /// Path of the `cli_telemetry` crate.
    pub krate: Path,
}

pub(crate) const NAME_FORM: &str = "name = \"app sub command\"";
const MATCHES_FORM: &str = "matches = <expression of type `ArgMatches` or `&ArgMatches`>";
const CRATE_FORM: &str = "crate = \"my_telemetry\"";

pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Args> {
    let mut name: Option<LitStr> = None;
    let mut matches: Option<Expr> = None;
    let mut krate: Option<Path> = None;
    let parser = syn::meta::parser(|meta| {
        let Some(key) = meta.path.get_ident() else {
            return Err(unknown(&meta));
        };
        if key == "name" {
            reject_duplicate(&meta, key, name.is_some())?;
            let value = value_of(&meta, key, NAME_FORM)?;
            name = Some(value.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!("`name` takes a string literal: {NAME_FORM}"),
                )
            })?);
        } else if key == "matches" {
            reject_duplicate(&meta, key, matches.is_some())?;
            matches = Some(value_of(&meta, key, MATCHES_FORM)?.parse()?);
        } else if key == "crate" {
            reject_duplicate(&meta, key, krate.is_some())?;
            let value = value_of(&meta, key, CRATE_FORM)?;
            let lit: LitStr = value.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!("`crate` takes a string literal: {CRATE_FORM}"),
                )
            })?;
            let path = lit.parse_with(Path::parse_mod_style).map_err(|_| {
                syn::Error::new(
                    lit.span(),
                    format!(
                        "`crate` must name the path of the `cli_telemetry` crate: {CRATE_FORM}"
                    ),
                )
            })?;
            krate = Some(path);
        } else {
            return Err(unknown(&meta));
        }
        Ok(())
    });
    let positional = |input: ParseStream<'_>| {
        if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            let text = format!("{:?}", lit.value());
            return Err(syn::Error::new(
                lit.span(),
                format!("arguments are named: to set the command path, write `name = {text}`"),
            ));
        }
        parser.parse2(input.parse()?)
    };
    positional.parse2(tokens)?;
    Ok(Args {
        name,
        matches,
        krate: krate
            .unwrap_or_else(|| syn::parse_quote_spanned!(Span::call_site()=> ::cli_telemetry)),
    })
}

/// The value after `key =`; without `=` or without a value, an error at the key.
fn value_of<'a>(
    meta: &'a ParseNestedMeta<'_>,
    key: &Ident,
    form: &str,
) -> syn::Result<ParseStream<'a>> {
    let missing = || syn::Error::new(key.span(), format!("`{key}` takes a value: {form}"));
    if !meta.input.peek(Token![=]) {
        return Err(missing());
    }
    let value = meta.value()?;
    if value.is_empty() || value.peek(Token![,]) {
        return Err(missing());
    }
    Ok(value)
}

fn unknown(meta: &ParseNestedMeta<'_>) -> syn::Error {
    let path = &meta.path;
    let shown = quote::quote!(#path).to_string().replace(' ', "");
    syn::Error::new_spanned(
        path,
        format!(
            "unknown argument `{shown}`; expected `name = \"…\"`, `matches = <expr>` or `crate = \"…\"`"
        ),
    )
}

fn reject_duplicate(meta: &ParseNestedMeta<'_>, key: &Ident, seen: bool) -> syn::Result<()> {
    if seen {
        Err(meta.error(format_args!("duplicate argument `{key}`")))
    } else {
        Ok(())
    }
}

//! The annotated item: a function (free, method, sync or async).

use proc_macro2::TokenStream;
use syn::{Attribute, Block, Signature, Visibility};

pub(crate) struct Func {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    pub block: Block,
}

pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Func> {
    let item: syn::Item = syn::parse2(tokens.clone()).map_err(|_| not_a_function(&tokens))?;
    match item {
        syn::Item::Fn(f) => Ok(Func {
            attrs: f.attrs,
            vis: f.vis,
            sig: f.sig,
            block: *f.block,
        }),
        other => Err(syn::Error::new_spanned(
            other,
            "#[instrument_command] can only be applied to functions",
        )),
    }
}

fn not_a_function(tokens: &TokenStream) -> syn::Error {
    syn::Error::new_spanned(
        tokens,
        "#[instrument_command] can only be applied to functions",
    )
}

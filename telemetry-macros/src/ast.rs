//! The annotated item: a function (free, method, sync or async).
//!
//! Anything else is an error pointing at what the item is (`struct Cli`, `impl App`, …),
//! not at its whole body.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{Attribute, Block, Item, Signature, Visibility};

pub(crate) struct Func {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    pub block: Block,
}

pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Func> {
    match syn::parse2::<Item>(tokens.clone()) {
        Ok(Item::Fn(f)) => Ok(Func {
            attrs: f.attrs,
            vis: f.vis,
            sig: f.sig,
            block: *f.block,
        }),
        Ok(Item::Verbatim(_)) | Err(_) => Err(unparsed(tokens)),
        Ok(other) => Err(not_a_function(&other)),
    }
}

const ONLY_FUNCTIONS: &str = "`#[instrument_command]` can only be applied to functions";

/// An item that is not a function: the error covers its keyword and name (`struct Cli`,
/// `impl Trait for App`), not its body.
fn not_a_function(item: &Item) -> syn::Error {
    let (what, span) = match item {
        Item::Struct(i) => ("a struct", spanned(&i.struct_token, &i.ident)),
        Item::Enum(i) => ("an enum", spanned(&i.enum_token, &i.ident)),
        Item::Union(i) => ("a union", spanned(&i.union_token, &i.ident)),
        Item::Const(i) => ("a constant", spanned(&i.const_token, &i.ident)),
        Item::Static(i) => ("a static", spanned(&i.static_token, &i.ident)),
        Item::Type(i) => ("a type alias", spanned(&i.type_token, &i.ident)),
        Item::Trait(i) => ("a trait", spanned(&i.trait_token, &i.ident)),
        Item::TraitAlias(i) => ("a trait alias", spanned(&i.trait_token, &i.ident)),
        Item::Mod(i) => ("a module", spanned(&i.mod_token, &i.ident)),
        Item::Use(i) => ("a `use` declaration", spanned(&i.use_token, &i.tree)),
        Item::ExternCrate(i) => ("an `extern crate`", spanned(&i.extern_token, &i.ident)),
        Item::ForeignMod(i) => ("an `extern` block", spanned(&i.abi, &i.abi)),
        Item::Macro(i) => ("a macro invocation", spanned(&i.mac.path, &i.mac.path)),
        Item::Impl(i) => {
            return syn::Error::new_spanned(
                spanned(&i.impl_token, &i.self_ty),
                format!(
                    "{ONLY_FUNCTIONS}, not to an impl block; put it on each handler method inside"
                ),
            );
        }
        other => ("this item", quote!(#other)),
    };
    syn::Error::new_spanned(span, format!("{ONLY_FUNCTIONS}, not to {what}"))
}

/// Tokens whose first and last spans are those of `first` and `last`: an error made with
/// [`syn::Error::new_spanned`] from them underlines everything in between.
fn spanned(first: &impl ToTokens, last: &impl ToTokens) -> TokenStream {
    quote!(#first #last)
}

/// Items syn keeps verbatim or cannot parse: a function without a body (a trait method's
/// or a foreign function's declaration), or something newer than syn knows.
fn unparsed(tokens: TokenStream) -> syn::Error {
    if let Ok(decl) = syn::parse2::<syn::TraitItemFn>(tokens.clone()) {
        if decl.default.is_none() {
            return syn::Error::new_spanned(
                spanned(&decl.sig, &decl.semi_token),
                "`#[instrument_command]` needs a function with a body: put it on the implementation of this method",
            );
        }
    }
    syn::Error::new_spanned(tokens, ONLY_FUNCTIONS)
}

//! Code generation (only with the `telemetry` feature: see `translate` in lib.rs). A sync
//! body runs as a closure handed to `__private::call` so that `return` and `?` inside it
//! are observed; an async body as `async move body`, polled
//! through the runtime's `Instrumented` so that the running command follows the task
//! across threads. Generated locals use mixed-site hygiene: user code can neither see nor
//! clash with them.
//!
//! Lints: the output carries no `#[allow]` at all. The user's block is emitted once, under
//! the user's own lint levels only, so an instrumented body is linted exactly like a plain
//! one; generated tokens carry call-site or mixed-site spans, which rustc and clippy treat
//! as an external macro's and do not lint. So a crate with `#![forbid(warnings)]` or
//! `#![deny(clippy::pedantic)]` compiles clean (tests/fixtures/pedantic-user), and an
//! `#[allow]` of ours can never clash with a user's `forbid`. Only the return type and the
//! `matches` expression keep the user's spans, so that type errors point at them.

use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, Pat, ReturnType, Type};

use crate::ast::Func;
use crate::attr::Args;

pub(crate) fn instrument(args: &Args, func: Func) -> TokenStream {
    let Func {
        attrs,
        vis,
        sig,
        block,
    } = func;
    let krate = &args.krate;
    let guard = Ident::new("guard", Span::mixed_site());
    let ret = Ident::new("ret", Span::mixed_site());
    let fut = Ident::new("fut", Span::mixed_site());
    let matches = Ident::new("matches", Span::mixed_site());

    let name = match &args.name {
        Some(lit) => quote!(::core::option::Option::Some(#lit)),
        None => quote!(::core::option::Option::None),
    };
    let matches_expr = args
        .matches
        .as_ref()
        .map(ToTokens::to_token_stream)
        .or_else(|| matches_param(&sig).map(|id| id.to_token_stream()));
    // `matches = <expr>` is type-checked on its own line, spanned at the expression, so that
    // a wrong type is reported there ("expected `&ArgMatches`, found …").
    let start = match matches_expr {
        Some(m) => {
            let span = m.span();
            // An invisible group keeps `&` applying to the whole expression (`&(a as B)`).
            let mut m = Group::new(Delimiter::None, m);
            m.set_span(span);
            let bind = quote_spanned! {span=>
                let #matches: &#krate::__private::ArgMatches = &#m;
            };
            quote!({
                #bind
                #krate::__private::CommandGuard::start_with_matches(#name, #matches)
            })
        }
        None => quote!(#krate::__private::CommandGuard::start(#name)),
    };
    let ret_ty = ret_type_annotation(&sig);
    let exit_code = quote! {
        || {
            use #krate::__private::{
                ViaAny as _, ViaErrorCode as _, ViaOkStatus as _, ViaResult as _, ViaStatus as _,
                ViaStatusAndErrorCode as _,
            };
            (&&&&&#krate::__private::Probe(&#ret)).__cli_telemetry_exit_code()
        }
    };
    let category = quote! {
        || {
            use #krate::__private::{ViaErrorCategory as _, ViaNoCategory as _};
            (&&#krate::__private::CategoryProbe(&#ret)).__cli_telemetry_error_category()
        }
    };
    // Literal labels of `error_category("…")` calls in the body, checked at compile time
    // by the runtime's own rule (a `const fn`), each error pointing at its literal.
    let label_checks = crate::labels::literal_labels(&block)
        .into_iter()
        .map(|lit| {
            quote_spanned! {lit.span()=>
                const _: () = ::core::assert!(
                    #krate::valid_label(#lit),
                    "an error category is a label: [a-z0-9._-], 1 to 64 characters"
                );
            }
        });

    // With `panic = "abort"` no destructor runs on a panic: a panic hook records the exit.
    // `cfg` is evaluated in the user's crate, where the panic strategy is known.
    let abort_hook = quote! {
        #[cfg(panic = "abort")]
        #krate::__private::install_abort_hook();
    };
    let body = if sig.asyncness.is_some() {
        quote! {
            #abort_hook
            let mut #guard = #start.into_async();
            let #fut = async move #block;
            let #ret #ret_ty = if #guard.is_recording() {
                #krate::__private::Instrumented::new(#fut, &mut #guard).await
            } else {
                #fut.await
            };
            #guard.finish_with_category(#exit_code, #category);
            #ret
        }
    } else {
        quote! {
            #abort_hook
            let #guard = #start;
            let #ret #ret_ty = #krate::__private::call(move || #block);
            #guard.finish_with_category(#exit_code, #category);
            #ret
        }
    };
    let body = quote!(#(#label_checks)* #body);
    quote!(#(#attrs)* #vis #sig { #body })
}

/// `: T` for the local holding the body's value, spanned at the user's return type so
/// that a mismatch points there; nothing for `impl Trait` (inference keeps the type).
pub(crate) fn ret_type_annotation(sig: &syn::Signature) -> TokenStream {
    match &sig.output {
        ReturnType::Type(_, ty) if contains_impl_trait(ty) => quote!(),
        ReturnType::Type(_, ty) => quote_spanned!(ty.span()=> : #ty),
        ReturnType::Default => quote!(: ()),
    }
}

/// A parameter `name: &ArgMatches` (or `&clap::ArgMatches`), used without being named.
fn matches_param(sig: &syn::Signature) -> Option<Ident> {
    sig.inputs.iter().find_map(|arg| {
        let FnArg::Typed(pat_ty) = arg else {
            return None;
        };
        let Type::Reference(r) = &*pat_ty.ty else {
            return None;
        };
        let Type::Path(p) = &*r.elem else { return None };
        if p.path.segments.last()?.ident != "ArgMatches" {
            return None;
        }
        match &*pat_ty.pat {
            Pat::Ident(id) => Some(id.ident.clone()),
            _ => None,
        }
    })
}

fn contains_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_type(&mut finder, ty);
    finder.0
}

#[cfg(all(test, feature = "telemetry"))]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    fn expand(args: TokenStream, item: TokenStream) -> String {
        let args = crate::attr::parse(args).expect("arguments parse");
        let func = crate::ast::parse(item).expect("a function");
        super::instrument(&args, func).to_string()
    }

    /// The user's block appears once and no lint attribute of ours can cover it (nor clash
    /// with a user's `#![forbid(...)]`): the expansion carries no lint attribute at all.
    #[test]
    fn the_expansion_adds_no_lint_attribute() {
        let forms = [
            (
                quote!(),
                quote!(
                    fn f() {
                        user_code();
                    }
                ),
            ),
            (
                quote!(name = "app f"),
                quote!(
                    fn f(x: u8) -> Result<u8, E> {
                        user_code()?;
                        Ok(x)
                    }
                ),
            ),
            (
                quote!(matches = self.m),
                quote!(
                    async fn f(&mut self) -> u8 {
                        user_code().await
                    }
                ),
            ),
            (
                quote!(),
                quote!(
                    fn f(m: &ArgMatches) -> impl Iterator<Item = u8> {
                        user_code(m)
                    }
                ),
            ),
        ];
        for (args, item) in forms {
            let out = expand(args, item);
            assert_eq!(out.matches("user_code").count(), 1, "{out}");
            for lint_level in ["allow", "expect", "warn", "deny", "forbid"] {
                assert!(!out.contains(lint_level), "`{lint_level}` in {out}");
            }
        }
    }

    /// The user's attributes (docs, lint levels, `#[must_use]`) stay on the function.
    #[test]
    fn user_attributes_are_kept() {
        let out = expand(
            quote!(),
            quote!(
                #[must_use]
                #[allow(clippy::needless_pass_by_value)]
                pub fn f(s: String) -> usize {
                    s.len()
                }
            ),
        );
        assert!(
            out.starts_with("# [must_use] # [allow (clippy :: needless_pass_by_value)] pub fn f"),
            "{out}"
        );
    }
}

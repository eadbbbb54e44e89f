//! Code generation. A sync body runs as `(move || body)()` so that `return` and `?` inside
//! it are observed; an async body as `async move body`, polled through the runtime's
//! `Instrumented` so that the running command follows the task across threads. Generated
//! locals use mixed-site hygiene: user code can neither see nor clash with them.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
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
    if !cfg!(feature = "telemetry") {
        return quote!(#(#attrs)* #vis #sig #block);
    }
    let krate = &args.krate;
    let guard = Ident::new("guard", Span::mixed_site());
    let ret = Ident::new("ret", Span::mixed_site());
    let fut = Ident::new("fut", Span::mixed_site());

    let name = match &args.name {
        Some(lit) => quote!(::core::option::Option::Some(#lit)),
        None => quote!(::core::option::Option::None),
    };
    let matches = args
        .matches
        .as_ref()
        .map(|m| quote!(#m))
        .or_else(|| matches_param(&sig).map(|id| quote!(#id)));
    let start = match matches {
        Some(m) => {
            quote_spanned!(m.span()=> #krate::__private::CommandGuard::start_with_matches(#name, &#m))
        }
        None => quote!(#krate::__private::CommandGuard::start(#name)),
    };
    let ret_ty = match &sig.output {
        ReturnType::Type(_, ty) if contains_impl_trait(ty) => quote!(),
        ReturnType::Type(_, ty) => quote_spanned!(ty.span()=> : #ty),
        ReturnType::Default => quote!(: ()),
    };
    let exit_code = quote! {
        || {
            #[allow(unused_imports)]
            use #krate::__private::{ViaAny as _, ViaErrorCode as _, ViaResult as _, ViaStatus as _};
            #[allow(clippy::needless_borrow, clippy::needless_borrows_for_generic_args)]
            let code = (&&&#krate::__private::Probe(&#ret)).__cli_telemetry_exit_code();
            code
        }
    };

    let body = if sig.asyncness.is_some() {
        quote! {
            let mut #guard = #start.into_async();
            let #fut = async move #block;
            #[allow(clippy::let_unit_value)]
            let #ret #ret_ty = if #guard.is_recording() {
                #krate::__private::Instrumented::new(#fut, &mut #guard).await
            } else {
                #fut.await
            };
            #guard.finish_with(#exit_code);
            #ret
        }
    } else {
        quote! {
            let #guard = #start;
            #[allow(clippy::redundant_closure_call, clippy::let_unit_value)]
            let #ret #ret_ty = (move || #block)();
            #guard.finish_with(#exit_code);
            #ret
        }
    };
    quote!(#(#attrs)* #vis #sig { #body })
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

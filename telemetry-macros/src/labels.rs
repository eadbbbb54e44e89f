//! Literal error categories in a handler's body (SPEC S-22): the string literals passed to
//! `error_category("…")` (any path ending so), which `expand` checks at compile time with
//! the runtime's `valid_label`, so that a label that can never be sent is an error pointing
//! at the literal instead of a line in a log file.

use syn::visit::Visit;

/// The literal labels of `…error_category("label")` calls in `block`.
pub(crate) fn literal_labels(block: &syn::Block) -> Vec<syn::LitStr> {
    struct Finder(Vec<syn::LitStr>);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
            if let syn::Expr::Path(path) = &*call.func {
                let named = path
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "error_category");
                if named && call.args.len() == 1 {
                    if let Some(syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(lit),
                        ..
                    })) = call.args.first()
                    {
                        self.0.push(lit.clone());
                    }
                }
            }
            syn::visit::visit_expr_call(self, call);
        }
    }
    let mut finder = Finder(Vec::new());
    finder.visit_block(block);
    finder.0
}

//! Checks that turn misuse into compile errors pointing at the offending tokens.

use crate::ast::Func;

pub(crate) fn check(func: &Func) -> syn::Result<()> {
    if let Some(constness) = &func.sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            "#[instrument_command] cannot be applied to a `const fn`",
        ));
    }
    if let syn::ReturnType::Type(_, ty) = &func.sig.output {
        if let syn::Type::Never(_) = **ty {
            return Err(syn::Error::new_spanned(
                ty,
                "#[instrument_command] handlers must return; to exit the process use `cli_telemetry::exit(code)`",
            ));
        }
    }
    Ok(())
}

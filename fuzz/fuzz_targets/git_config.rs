//! Reading `remote.origin.url` from git config text (SPEC S-5, R-4): any text must give
//! no URL or a non-empty one, and the URL must then survive normalization.
#![no_main]

use cli_telemetry::__private::fuzz::origin_from_config;
use cli_telemetry::project_id_from_url;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The library reads the config file as bytes and converts it lossily, as here.
    let text = String::from_utf8_lossy(data);
    if let Some(url) = origin_from_config(&text) {
        assert!(!url.is_empty(), "empty URL from {text:?}");
        let id = project_id_from_url(&url);
        assert!(id.is_empty() || id.len() == 64, "{url:?} -> {id}");
    }
});

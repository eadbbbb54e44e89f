//! SHA-256 for project ids (SPEC S-5): *ring*'s with the built-in transport, which links
//! *ring* for TLS anyway, and the `sha2` crate with the `reqwest` transport. The project-id
//! fixtures and property tests run under both (`.ci/run`).

/// Lowercase hex SHA-256 of `input`.
pub(crate) fn sha256_hex(input: &[u8]) -> String {
    #[cfg(feature = "builtin-http")]
    let digest = ring::digest::digest(&ring::digest::SHA256, input);
    #[cfg(not(feature = "builtin-http"))]
    let digest = <sha2::Sha256 as sha2::Digest>::digest(input);
    let bytes: &[u8] = digest.as_ref();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_digests() {
        // FIPS 180-2 examples.
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            super::sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

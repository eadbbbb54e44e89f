//! Random identifiers (execution ids, span ids, spool file names) that never panic: when
//! the operating system has no randomness to give (a restrictive sandbox), the bytes come
//! from a hash of the clock, the process id and a counter instead. These ids only need to
//! be unique, not secret.

use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

/// A UUID v4.
pub(crate) fn uuid_v4() -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        fallback(&mut bytes);
    }
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// `N` bytes of fresh randomness (N ≤ 16).
pub(crate) fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    if getrandom::getrandom(&mut out).is_err() {
        let mut fallback_bytes = [0u8; 16];
        fallback(&mut fallback_bytes);
        let n = N.min(16);
        out[..n].copy_from_slice(&fallback_bytes[..n]);
    }
    out
}

/// `n` lowercase hex characters of fresh randomness (n ≤ 32).
pub(crate) fn hex(n: usize) -> String {
    uuid_v4().simple().to_string()[..n.min(32)].to_owned()
}

fn fallback(bytes: &mut [u8; 16]) {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut hasher = Sha256::new();
    hasher.update(nanos.to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    hasher.update(format!("{:?}", std::thread::current().id()).as_bytes());
    bytes.copy_from_slice(&hasher.finalize()[..16]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_v4_and_distinct() {
        let (a, b) = (uuid_v4(), uuid_v4());
        assert_ne!(a, b);
        assert_eq!(a.get_version_num(), 4);
        assert_eq!(hex(16).len(), 16);
    }

    #[test]
    fn fallback_is_distinct_and_still_v4() {
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        fallback(&mut a);
        fallback(&mut b);
        assert_ne!(a, b);
        assert_eq!(
            uuid::Builder::from_random_bytes(a)
                .into_uuid()
                .get_version_num(),
            4
        );
    }
}

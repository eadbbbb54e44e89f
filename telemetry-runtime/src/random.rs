//! Random identifiers (execution ids, span ids, spool file names) that never panic: when
//! the operating system has no randomness to give (a restrictive sandbox), the bytes come
//! from a hash of the clock, the process id, the thread and a counter instead. These ids
//! only need to be unique, not secret.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

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
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    // Two 64-bit SipHashes of the same inputs, told apart by a leading salt.
    for (salt, half) in bytes.chunks_mut(8).enumerate() {
        let mut hasher = DefaultHasher::new();
        (salt, nanos, std::process::id(), count).hash(&mut hasher);
        std::thread::current().id().hash(&mut hasher);
        half.copy_from_slice(&hasher.finish().to_le_bytes());
    }
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

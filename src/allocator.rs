//! The allocator of the `charter` binary and of the benches, which must measure what users
//! run: jemalloc, with its options. `charter::jemalloc!()` in a binary's root sets both. The
//! options must be exported by the binary itself (`_rjem_malloc_conf`): jemalloc defines a weak
//! default of its own, so a definition in this library's archive would never be linked.

pub use tikv_jemallocator::Jemalloc;

/// Pages freed are returned to the system after one second instead of ten (muzzy pages are
/// not kept already): the operator's peak RSS follows its heap more closely.
pub const JEMALLOC_OPTIONS: &[u8] = b"dirty_decay_ms:1000\0";

/// A C string pointer jemalloc reads at start (`const char *malloc_conf`).
#[repr(transparent)]
pub struct Options(pub *const u8);

// SAFETY: the pointer is to a static, immutable, NUL-terminated byte string.
unsafe impl Sync for Options {}

/// jemalloc as the global allocator, with `JEMALLOC_OPTIONS`: the operator and the embedded
/// server allocate many small JSON nodes, which glibc malloc serves slowly (see the README's
/// Performance section).
#[macro_export]
macro_rules! jemalloc {
    () => {
        #[global_allocator]
        static GLOBAL: $crate::allocator::Jemalloc = $crate::allocator::Jemalloc;

        #[unsafe(export_name = "_rjem_malloc_conf")]
        static MALLOC_CONF: $crate::allocator::Options =
            $crate::allocator::Options($crate::allocator::JEMALLOC_OPTIONS.as_ptr());
    };
}

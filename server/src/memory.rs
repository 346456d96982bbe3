//! How the server process holds memory: its allocator and its pages, set before the runtime
//! starts. Measured with `bash bench/scale.sh` (RSS per page, at start and idle after).

use std::ffi::c_long;
#[cfg(test)]
use std::ffi::{c_char, c_void};

// Exports and syncs make and free millions of small strings across threads; mimalloc does that
// at a fraction of glibc's cost (bench/audit_export.sh).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's option list (what libmimalloc-sys 0.1.49 builds; it
/// names no constant for it). The test below reads the option back by its name.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed memory stays resident before it is given back to the system.
const PURGE_AFTER_MS: c_long = 100;

/// Both settings, before the runtime starts.
pub fn settle() {
    without_huge_pages();
    purge_sooner();
}

// Transparent huge pages make every 2 MiB the allocator touches resident as a whole: on this
// server's heap (tens of MiB, spread over its threads' pages) they doubled resident memory and
// made it grow in 2 MiB steps with each kind of page first rendered, for no speed measured.
// Turned off for this process only.
#[cfg(target_os = "linux")]
fn without_huge_pages() {
    // SAFETY: prctl with PR_SET_THP_DISABLE reads only its integer arguments and changes only
    // how this process's memory is paged; a refusal (an old kernel) changes nothing.
    let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

#[cfg(not(target_os = "linux"))]
fn without_huge_pages() {}

// mimalloc keeps what a burst freed resident for a second (its default) in case it is asked for
// again: under load that held ~4 MiB more (peak 81 vs 77 MiB, bench/scale.sh). A tenth of a
// second keeps the reuse within a burst, at the same req/s. `MIMALLOC_PURGE_DELAY`, when set, is left to decide.
fn purge_sooner() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of mimalloc's integer options; it is read at each purge.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_AFTER_MS) };
    }
}

#[cfg(test)]
extern "C" {
    /// mimalloc's own listing of its options, "option 'NAME': VALUE" a line, to `out`.
    fn mi_options_print_out(out: libmimalloc_sys::mi_output_fun, arg: *mut c_void);
}

/// mimalloc's options as it lists them.
#[cfg(test)]
fn options_listed() -> String {
    unsafe extern "C" fn append(message: *const c_char, arg: *mut c_void) {
        // SAFETY: `arg` is the String handed to mi_options_print_out below, alive during the call;
        // `message` is a NUL-terminated string mimalloc owns for this call.
        let (listed, message) = unsafe {
            (
                &mut *(arg as *mut String),
                std::ffi::CStr::from_ptr(message),
            )
        };
        listed.push_str(&message.to_string_lossy());
    }
    let mut listed = String::new();
    // SAFETY: `append` only reads `message` and appends to `listed`, which outlives the call.
    unsafe { mi_options_print_out(Some(append), &mut listed as *mut String as *mut c_void) };
    listed
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn huge_pages_are_off_for_the_process() {
        super::without_huge_pages();
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        assert!(
            status
                .lines()
                .any(|l| l.split_whitespace().eq(["THP_enabled:", "0"])),
            "{status}"
        );
    }

    #[test]
    fn freed_memory_is_purged_after_a_tenth_of_a_second() {
        let before = super::options_listed();
        assert!(before.contains("option 'purge_delay': 1000"), "{before}");
        super::purge_sooner();
        let after = super::options_listed();
        assert!(after.contains("option 'purge_delay': 100 "), "{after}");
    }
}

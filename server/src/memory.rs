//! How the server process holds memory: its allocator and its pages, set before the runtime
//! starts. Measured with `bash bench/scale.sh` (RSS per page, at start and idle after).

use std::cell::Cell;
use std::ffi::c_long;
#[cfg(test)]
use std::ffi::{c_char, c_void};
use std::time::{Duration, Instant};

// Exports and syncs make and free millions of small strings across threads; mimalloc does that
// at a fraction of glibc's cost (bench/audit_export.sh).
#[cfg(not(feature = "heap-stats"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "heap-stats")]
#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

/// `mi_option_purge_delay` in mimalloc v3's option list (what libmimalloc-sys 0.1.49 builds; it
/// names no constant for it). The test below reads the option back by its name.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed memory stays resident before it is given back to the system.
const PURGE_AFTER_MS: c_long = 100;

/// How often, at most, an idle worker gives its free pages back.
const GIVE_BACK_EVERY: Duration = Duration::from_millis(100);

/// For the runtime's `on_thread_park`: a worker with nothing to do gives the pages it emptied
/// back to the system (at most every 100 ms, so a busy worker parking between requests pays it
/// rarely). mimalloc keeps a thread's emptied pages for that thread's next allocations and purges
/// them only when that thread allocates again: a worker that served 16 concurrent requests kept
/// pages for all 16. Measured with `bash bench/scale.sh`, 16 connections, same binary with and
/// without it: an API's page alone peaked 76 → 73 MiB (idle after 75 → 70), at the same req/s.
pub fn give_back_when_idle() {
    thread_local!(static LAST: Cell<Option<Instant>> = const { Cell::new(None) });
    LAST.with(|last| {
        let now = Instant::now();
        if last
            .get()
            .is_some_and(|then| now.duration_since(then) < GIVE_BACK_EVERY)
        {
            return;
        }
        last.set(Some(now));
        // SAFETY: collects this thread's heap and purges what is due; no pointer is passed.
        unsafe { libmimalloc_sys::mi_collect(true) };
    });
}

/// Both settings, before the runtime starts.
pub fn settle() {
    without_huge_pages();
    purge_sooner();
    #[cfg(feature = "heap-stats")]
    counting::report_every_second();
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

/// For profiling only: the bytes the program holds, beside what the process holds resident,
/// printed every second on stderr, so growth of RSS can be told apart from growth of what is in
/// use (heaptrack and massif see only libc's malloc, not mimalloc). Build it with
/// `cargo build --release -p server --bin gatehouse --features heap-stats` and run
/// `server/benches/scale.rs` against it (each allocation then costs two atomic additions).
#[cfg(feature = "heap-stats")]
mod counting {
    use std::alloc::{GlobalAlloc, Layout};
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    static LIVE: AtomicUsize = AtomicUsize::new(0);
    static PEAK: AtomicUsize = AtomicUsize::new(0);

    pub struct Counting;

    fn grew(by: usize) {
        let now = LIVE.fetch_add(by, Relaxed) + by;
        PEAK.fetch_max(now, Relaxed);
    }

    // SAFETY: every call is passed on to mimalloc unchanged; only counters are added.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let p = unsafe { mimalloc::MiMalloc.alloc(layout) };
            if !p.is_null() {
                grew(layout.size());
            }
            p
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            let p = unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) };
            if !p.is_null() {
                grew(layout.size());
            }
            p
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) };
            LIVE.fetch_sub(layout.size(), Relaxed);
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let p = unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) };
            if !p.is_null() {
                LIVE.fetch_sub(layout.size(), Relaxed);
                grew(new_size);
            }
            p
        }
    }

    /// "heap: live L KiB, peak P KiB (in the last second), rss R KiB" on stderr every second.
    pub fn report_every_second() {
        std::thread::spawn(|| loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
            let live = LIVE.load(Relaxed);
            let peak = PEAK.swap(live, Relaxed);
            let rss = std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("VmRSS:"))
                        .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
                })
                .unwrap_or_default();
            eprintln!(
                "heap: live {} KiB, peak {} KiB, rss {rss} KiB",
                live / 1024,
                peak / 1024
            );
        });
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

    /// The process's resident memory, in MiB.
    fn resident_mib() -> usize {
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
        let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
        pages * 4096 / (1024 * 1024)
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_idle_worker_gives_back_what_it_freed() {
        // On a thread of its own: its heap holds only what this test allocates.
        std::thread::spawn(|| {
            let before = resident_mib();
            // 64 MiB in small blocks, as requests allocate: pages of the thread's own heap.
            let blocks: Vec<Box<[u8; 1024]>> = (0..65_536).map(|_| Box::new([7u8; 1024])).collect();
            let full = resident_mib();
            drop(blocks);
            let freed = resident_mib();
            super::give_back_when_idle();
            let idle = resident_mib();
            assert!(full >= before + 60, "{before} → {full} MiB");
            // Freed but kept: mimalloc holds the pages for this thread (the default delay is 1 s).
            assert!(freed >= before + 32, "freed: {before} → {freed} MiB");
            assert!(idle <= before + 8, "idle: {before} → {idle} MiB");
        })
        .join()
        .unwrap();
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

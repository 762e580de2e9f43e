import CKernels

/// Process-wide memory settings for a long-running model.
public enum ProcessMemory {
    /// Allocations at or above this many bytes get their own mapping, which
    /// `free` returns to the system.
    public static let ownMappingBytes: Int32 = 1 << 20

    /// Makes every large allocation a mapping of its own, so that what the
    /// model's growing arrays free is given back at once.
    ///
    /// glibc's default threshold moves up to each large block freed (up to
    /// 32 MiB), after which blocks of that size come from the heap, and a
    /// freed heap block below a live one stays resident. The model's tables
    /// grow by doubling, so every growth freed such a block. The memory bench
    /// (docs/BENCHMARKS.md) measured the same build at 550 MiB in one session
    /// and 595 MiB in the next with the default, and 537 MiB with a fixed
    /// 1 MiB threshold. Rejected: linking jemalloc (a system dependency
    /// for one setting), and reserving table capacity up front (the sizes
    /// are not known).
    public static func returnLargeFreesToTheSystem() {
        _ = sr_fix_mmap_threshold(ownMappingBytes)
    }
}

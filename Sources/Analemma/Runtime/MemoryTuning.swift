import CMalloc

/// glibc malloc settings for a runtime loop that receives events of up to 6 MB.
///
/// By default glibc serves an allocation above its mmap threshold (128 KiB, raised dynamically) with a fresh
/// `mmap`, and unmaps it on `free`; heap memory above the trim threshold goes back to the kernel. A loop that
/// allocates a 1 MB event buffer per invocation then pays page faults on every megabyte every time. Fixing both
/// thresholds above Lambda's largest event keeps those buffers on the heap, reused from one invocation to the next.
/// https://man7.org/linux/man-pages/man3/mallopt.3.html
package enum MemoryTuning {
    /// Allocations below this come from the heap (glibc's ceiling for the threshold is 32 MiB on 64-bit).
    package static let mmapThreshold: Int32 = 16 << 20
    /// Free heap memory kept before it is returned to the kernel.
    package static let trimThreshold: Int32 = 32 << 20

    /// Sets both thresholds once, at start; false when glibc refused one (the defaults then stay).
    @discardableResult
    package static func applyForLargeEvents() -> Bool {
        mallopt(M_MMAP_THRESHOLD, mmapThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, trimThreshold) == 1
    }
}

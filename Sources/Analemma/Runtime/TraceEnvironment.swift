import Glibc

/// Sets `_X_AMZN_TRACE_ID` for each invocation without allocating: one `putenv` buffer, rewritten in place.
///
/// glibc's `setenv` allocates a new `NAME=value` string on every call and never frees replaced ones, so a
/// warm instance would grow by ~100 bytes per invocation. Values longer than the buffer fall back to `setenv`.
final class TraceEnvironment {
    private let name: String
    private let prefix: [UInt8]
    private let capacity = 1024
    private let buffer: UnsafeMutablePointer<CChar>

    /// `name` is only ever changed by tests, which must not race the real variable.
    init(name: String = "_X_AMZN_TRACE_ID") {
        self.name = name
        prefix = Array("\(name)=".utf8)
        buffer = .allocate(capacity: capacity)
        buffer.initialize(repeating: 0, count: capacity)
        for (i, b) in prefix.enumerated() { buffer[i] = CChar(bitPattern: b) }
    }

    /// Makes `value` (or an empty string) the process's `_X_AMZN_TRACE_ID`.
    func set(_ value: String?) {
        let bytes = value?.utf8 ?? "".utf8
        guard prefix.count + bytes.count < capacity else {
            setenv(name, value ?? "", 1)
            return
        }
        var i = prefix.count
        for b in bytes {
            buffer[i] = CChar(bitPattern: b)
            i += 1
        }
        buffer[i] = 0
        // Someone else may have replaced the variable (setenv/unsetenv): re-install our buffer.
        if getenv(name) != buffer + prefix.count { putenv(buffer) }
    }
}

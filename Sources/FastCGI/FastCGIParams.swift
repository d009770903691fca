#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The FastCGI parameters of a request as libfcgi hands them over: a NULL-terminated array of
/// `NAME=value` C strings (libfcgi joins each name-value pair of the PARAMS stream with `=`).
/// Pure, so it is fuzzed on its own (Tests/Fuzz/FuzzFastCGIParams.swift).
public enum FastCGIParams {
    /// Splits each entry at its first `=` (an entry without one is skipped); a repeated name
    /// keeps the last value. The strings are copied: libfcgi frees them at the next accept.
    public static func decode(_ environment: UnsafePointer<UnsafeMutablePointer<CChar>?>) -> [String: String] {
        var params: [String: String] = [:]
        params.reserveCapacity(40)
        var envp = environment
        while let entry = envp.pointee {
            if let eq = strchr(entry, 0x3D) {
                let name = String(decoding: UnsafeRawBufferPointer(start: entry, count: eq - entry), as: UTF8.self)
                params[name] = String(cString: eq + 1)
            }
            envp += 1
        }
        return params
    }
}

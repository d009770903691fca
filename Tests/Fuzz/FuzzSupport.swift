// Shared by every fuzz harness in Tests/Fuzz (compiled into each; see scripts/fuzz.sh).
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

enum Fuzz {
    /// The most one input may cost, in CPU time of the fuzzing thread (not wall time, so a busy
    /// machine does not make an input "slow"): FUZZ_BUDGET_MS, 100 by default. Measured on the
    /// instrumented build (ASan and coverage make code 2–3× slower), so passing is conservative.
    static let budgetNanoseconds: UInt64 = {
        if let text = getenv("FUZZ_BUDGET_MS").map({ String(cString: $0) }), let ms = UInt64(text), ms > 0 { return ms * 1_000_000 }
        return 100 * 1_000_000
    }()

    nonisolated(unsafe) static var warmedUp = false

    /// Runs `body` on one input, then aborts (libFuzzer keeps the input as a crash) when it took
    /// longer than the budget. `warmUp` inputs run once first, untimed, so one-time set-up
    /// (lazy globals, locale tables) is not charged to the first real input.
    static func run(_ data: UnsafePointer<UInt8>, _ size: Int, warmUp: [String] = [], _ body: ([UInt8]) -> Void) -> CInt {
        if !warmedUp {
            warmedUp = true
            for sample in warmUp { body(Array(sample.utf8)) }
        }
        let input = Array(UnsafeBufferPointer(start: data, count: size))
        let start = cpuNanoseconds()
        body(input)
        let spent = cpuNanoseconds() - start
        if spent > budgetNanoseconds {
            say("==FUZZ== SLOW INPUT: \(spent / 1_000_000) ms of CPU for \(size) bytes (budget \(budgetNanoseconds / 1_000_000) ms)")
            abort()
        }
        return 0
    }

    /// An invariant of the parser: a failure prints what broke and aborts (a crash to libFuzzer).
    static func require(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) {
        guard !condition else { return }
        say("==FUZZ== INVARIANT BROKEN (line \(line)): \(message())")
        abort()
    }

    /// A line on standard error (file descriptor 2: `stderr` is shared mutable state to Swift 6).
    static func say(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    static func cpuNanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    /// The input split at its first LF: (first line, the rest); no LF → (nil, everything).
    static func splitFirstLine(_ bytes: [UInt8]) -> (head: [UInt8]?, rest: [UInt8]) {
        guard let lf = bytes.firstIndex(of: 10) else { return (nil, bytes) }
        return (Array(bytes[..<lf]), Array(bytes[(lf + 1)...]))
    }
}

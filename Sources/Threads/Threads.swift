import Glibc

/// A thread could not be started.
public struct ThreadError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A closure boxed for pthread_create's void* argument.
private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Starts a detached POSIX thread. Blocking C calls (accept, libpq, libcurl) run on such
/// threads, never on Swift concurrency's cooperative pool.
public func spawnThread(stackBytes: Int = 1 << 20, _ body: @escaping @Sendable () -> Void) throws(ThreadError) {
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setstacksize(&attributes, stackBytes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(
        &thread, &attributes,
        { raw in
            Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, context)
    if rc != 0 {
        Unmanaged<ThreadBody>.fromOpaque(context).release()
        throw ThreadError("pthread_create failed: \(rc)")
    }
}

/// Seconds on the monotonic clock, for deadlines and durations.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Blocks SIGINT and SIGTERM in the calling thread (and the threads it starts afterwards), so
/// `waitForTermination()` can take them synchronously; ignores SIGPIPE.
public func blockTerminationSignals() {
    signal(SIGPIPE, SIG_IGN)
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_BLOCK, &set, nil)
}

/// Waits for SIGINT or SIGTERM (blocked beforehand by `blockTerminationSignals`).
@discardableResult
public func waitForTermination() -> Int32 {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    var signal: Int32 = 0
    sigwait(&set, &signal)
    return signal
}

/// A value read by many threads at once and written rarely (a pthread read-write lock):
/// readers never wait on each other, unlike a mutex, which the click path's 64 threads contend.
public final class ReadMostly<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)

    public init(_ value: Value) {
        self.value = value
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    public func read<T>(_ body: (Value) throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(value)
    }

    public func write<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(&value)
    }
}

/// Starts work that calls back once with its outcome (from any thread), and waits for it: the
/// blocking form of a deferred answer, for callers that have nothing else to do meanwhile.
public func waitForOutcome(_ start: (_ done: @escaping @Sendable (Bool) -> Void) -> Void) -> Bool {
    let outcome = Outcome()
    start { outcome.set($0) }
    return outcome.wait()
}

/// One outcome handed between threads; the semaphore orders the write before the read.
private final class Outcome: @unchecked Sendable {
    private let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    private var value = false

    init() { sem_init(semaphore, 0, 0) }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    func set(_ succeeded: Bool) {
        value = succeeded
        sem_post(semaphore)
    }

    func wait() -> Bool {
        while sem_wait(semaphore) != 0 {}  // EINTR
        return value
    }
}

import Foundation
import Glibc
import HTTPClient
import Synchronization

extension TestEnvironment {
    /// The responder's process id (var/run/serve.pid); nil when it is not running.
    public static func responderPID() -> Int32? {
        (try? String(contentsOfFile: varDirectory + "/run/serve.pid", encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Runs `work` on `threads` threads (each with its own client, at most `limit` times) while
    /// the responder is killed with SIGKILL 0.7 s in and restarted by its supervisor; returns
    /// what the calls answered (nil answers dropped) and whether the kill and restart worked.
    public static func whileKillingTheResponder(
        threads: Int = 8, limit: Int = 2000, _ work: @escaping @Sendable (TestHTTP, Int) -> String?
    ) -> (answers: [String], killed: Bool, restarted: Bool) {
        let answers = Mutex<[String]>([])
        let stop = Mutex(false)
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let http = TestHTTP(base: httpURL)
                var sent = 0
                while !stop.withLock({ $0 }) && sent < limit {
                    sent += 1
                    if let answer = work(http, sent) { answers.withLock { $0.append(answer) } }
                }
            }
        }
        usleep(700_000)
        let killed = responderPID().map { kill($0, SIGKILL) == 0 } ?? false
        usleep(300_000)
        let restarted = waitUntil(seconds: 20) { (try? TestHTTP().get("/healthz").status) == 200 }
        usleep(300_000)
        stop.withLock { $0 = true }
        group.wait()
        return (answers.withLock { $0 }, killed, restarted)
    }
}

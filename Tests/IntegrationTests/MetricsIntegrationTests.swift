import Accounts
import Foundation
import Glibc
import HTTPClient
import Postgres
import Testing
import WaymarkCore
import WaymarkTesting

/// `GET /metrics` through nginx (SPEC §10): the counters move with clicks and postbacks, the
/// database's gauges are there, and the page is refused to any address but loopback. Also the
/// request log line, which the test instance writes as JSON (WAYMARK_LOG_FORMAT=json).
@Suite(.needsStack, .timeLimit(.minutes(2))) struct MetricsIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)
    let tracking = TestHTTP.tracking()

    /// Every sample by its series (`name{labels}`).
    func scrape() throws -> [String: Double] {
        let response = try tracking.get("/metrics")
        #expect(response.status == 200)
        #expect(response.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        var samples: [String: Double] = [:]
        for line in response.text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    /// A campaign's key on a new source, made through the API.
    func campaignKey() throws -> String {
        let email = "metrics-\(uniqueSuffix())@example.test"
        let users = UserStore(database: database)
        try users.create(email: email, password: "correct-horse-42", role: .admin)
        var api = TestHTTP()
        api.headers = [("Authorization", "Bearer " + (try users.createToken(email: email, name: "t")))]
        let source = try api.postJSON("/api/v1/traffic-sources", ["name": "S \(uniqueSuffix())", "cost_currency": "USD"])
        let sourceID = try #require(source.json["id"] as? Int)
        let campaign = try api.postJSON(
            "/api/v1/campaigns", ["name": "C", "traffic_source_id": sourceID, "destination_url": "https://o.example/?s={clickid}"])
        return try #require(campaign.json["key"] as? String)
    }

    @Test func countersMoveWithClicksAndPostbacks() throws {
        let key = try campaignKey()
        let before = try scrape()
        let ids = try (0..<3).map { _ in
            let location = try #require(try tracking.get("/c/\(key)").header("Location"))
            return try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "s" }?.value)
        }
        let stored = waitUntil(seconds: 20) {
            (try? database.query("SELECT count(*) AS n FROM clicks WHERE id = ANY(\(ids)::text[])")[0]["n"]) == "3"
        }
        #expect(stored)
        #expect(try tracking.get("/postback?clickid=\(ids[0])&payout=2.5&txid=m1").status == 200)
        #expect(try tracking.get("/postback?clickid=\(ids[0])&payout=2.5&txid=m1").status == 200)
        let after = try scrape()
        func moved(_ series: String) -> Double { (after[series] ?? 0) - (before[series] ?? 0) }
        // A 302 may have come through the spool (an earlier outage test still replaying).
        #expect(moved("waymark_clicks_recorded_total") + moved("waymark_clicks_replayed_total") >= 3)
        #expect(moved(#"waymark_http_request_duration_seconds_count{route="click"}"#) >= 3)
        #expect(moved(#"waymark_postbacks_total{outcome="recorded",replayed="false"}"#) >= 1)
        #expect(moved(#"waymark_postbacks_total{outcome="duplicate",replayed="false"}"#) >= 1)
        #expect(moved(#"waymark_http_request_duration_seconds_count{route="postback"}"#) >= 2)
        #expect((after["waymark_click_write_batch_size_count"] ?? 0) > 0)
        // The gauges read at scrape time.
        #expect(after["waymark_responder_threads"].map { $0 > 0 } == true)
        #expect(after["waymark_responder_threads_busy"].map { $0 >= 1 } == true, "the scrape itself is in flight")
        #expect(after["waymark_db_pool_size"].map { $0 > 0 } == true)
        #expect(after[#"waymark_deliveries{kind="postback",state="pending"}"#] != nil)
        #expect(after[#"waymark_integrations{provider="meta",status="error"}"#] != nil)
        #expect(after[#"waymark_spend_feed_runs_total{result="failed"}"#] != nil)
        #expect(after["waymark_click_spool_pending_bytes"] != nil)
        #expect(after["waymark_worker_heartbeat_age_seconds"].map { $0 < 60 } == true, "the stack's worker beats")
    }

    @Test func metricsAreRefusedToOtherAddresses() throws {
        for url in [TestEnvironment.httpURL + "/metrics", TestEnvironment.baseURL + "/metrics"] {
            // 127.0.0.2 is loopback to the kernel but not an allowed address to nginx or the route.
            let status = try curlStatus(["--interface", "127.0.0.2", url.replacingOccurrences(of: "localhost", with: "127.0.0.2")])
            #expect(status == "403", "\(url)")
        }
    }

    @Test func eachRequestIsOneJSONLogLine() throws {
        let path = "/c/no-such-campaign-\(uniqueSuffix())"
        #expect(try tracking.get(path).status == 404)
        let log = TestEnvironment.varDirectory + "/log/serve.log"
        var found: [String: String]?
        _ = waitUntil(seconds: 5) {
            found = tail(log).split(separator: "\n").lazy.compactMap { line in
                try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            }.first { $0["path"] == path }
            return found != nil
        }
        let line = try #require(found, "no JSON line for \(path) in \(log)")
        #expect(line["method"] == "GET")
        #expect(line["route"] == "click")
        #expect(line["status"] == "404")
        #expect(line["request_id"]?.count == 32, "nginx's $request_id")
        #expect(line["duration_ms"].flatMap(Double.init) != nil)
        #expect(line["level"] == "info")
        #expect(line["time"] != nil)
    }

    /// A real Prometheus (Debian's) scrapes `/metrics` through nginx with the scrape settings of
    /// deploy/prometheus/prometheus.yml, and its query API then answers `up` = 1 and the click counter.
    @Test func prometheusScrapesIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("waymark-prometheus-\(uniqueSuffix())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = try #require(URL(string: TestEnvironment.httpURL)).port.map { "127.0.0.1:\($0)" } ?? "127.0.0.1:80"
        try """
        global: {scrape_interval: 1s, evaluation_interval: 1s}
        scrape_configs:
          - job_name: waymark
            metrics_path: /metrics
            static_configs: [{targets: ["\(target)"]}]
        """.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        let port = 19190 + Int.random(in: 0..<9)
        let pid = try startProgram(
            "/usr/bin/prometheus",
            [
                "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
                "--web.listen-address=127.0.0.1:\(port)",
            ])
        defer {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        let api = TestHTTP(base: "http://127.0.0.1:\(port)")
        func result(_ query: String) -> [[String: Any]] {
            let answer = try? api.get("/api/v1/query?query=" + (query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
            return ((answer?.json["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
        }
        let up = waitUntil(seconds: 30) { (result(#"up{job="waymark"}"#).first?["value"] as? [Any])?.last as? String == "1" }
        #expect(up, "Prometheus scraped the target")
        #expect(!result("waymark_clicks_recorded_total").isEmpty)
        #expect(!result(#"waymark_deliveries{kind="postback"}"#).isEmpty)
    }

    /// The last megabyte of a file (the test instance's logs grow across runs).
    func tail(_ path: String) -> String {
        guard let file = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? file.close() }
        let end = (try? file.seekToEnd()) ?? 0
        try? file.seek(toOffset: end > 1 << 20 ? end - (1 << 20) : 0)
        return String(decoding: (try? file.readToEnd()) ?? Data(), as: UTF8.self)
    }

    func curlStatus(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-k", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

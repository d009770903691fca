import FastCGI
import Foundation
import Glibc
import HTTPClient
import Integrations
import Tracking
import WaymarkCore

/// Settings from the environment, with defaults that match `make run` when started from the
/// project root. README.md lists every variable.
public struct Configuration: Sendable {
    public var root: String
    public var varDirectory: String
    /// Where clicks wait while the database is away (`var/spool`); one responder per directory.
    public var spoolDirectory: String
    public var databaseURL: String
    public var databasePoolSize: Int
    /// `WAYMARK_REPORTS_DATABASE_URL`: where reports and the dashboard read (a standby, with
    /// `target_session_attrs=prefer-standby`); everything that writes uses `databaseURL`.
    public var reportsDatabaseURL: String?
    public var socketPath: String
    /// `WAYMARK_LISTEN=host:port`: FastCGI on TCP instead of the socket, for a responder on
    /// another host than nginx; only `WAYMARK_LISTEN_ALLOW`'s addresses (IPv4, comma
    /// separated, default 127.0.0.1) may connect.
    public var listen: String?
    public var listenAllow: String
    /// The group that may connect to the socket (nginx's): `WAYMARK_SOCKET_GROUP` (a name or
    /// number), else the group of the socket's directory.
    public var socketGroup: gid_t?
    public var threads: Int
    /// Visitors the unique flag remembers per responder (`WAYMARK_UNIQUE_CAPACITY`, ~16 B each).
    public var uniqueCapacity: Int
    public var maxBodyBytes: Int
    public var templatesDirectory: String
    public var migrationsDirectory: String
    /// The HTTPS origin users and ad platforms reach (campaign URLs are built on it).
    public var publicURL: String
    /// The plain-HTTP origin of the tracking endpoints.
    public var publicHTTPURL: String
    /// `data/`: the template library and other shipped data.
    public var dataDirectory: String
    public var httpPort: Int
    public var httpsPort: Int
    public var logLevel: String
    /// `text` (swift-log's lines) or `json` (one object per line): `WAYMARK_LOG_FORMAT`.
    public var logFormat: String
    /// Addresses or IPv4 CIDRs whose clicks are flagged as bots.
    public var botAddresses: String
    /// Proxies in front of nginx whose X-Forwarded-For is believed.
    public var trustedProxies: String
    /// Retention days set in the environment (`WAYMARK_CLICK_RETENTION_DAYS`,
    /// `WAYMARK_UNATTRIBUTED_RETENTION_DAYS`, `WAYMARK_DELIVERY_RETENTION_DAYS`): each wins over
    /// Settings → Retention, where the rest is set.
    public var retention: RetentionOverrides
    /// Unattributed postbacks one address may send per second (and in a burst of 10×).
    public var unattributedRate: Double
    /// Outbound calls the responder itself makes at once (previews, tests), never the click threads'.
    public var responderOutboundConcurrency: Int
    /// Outbound deliveries: tries before `failed`, the first retry's delay (doubling after),
    /// the per-call timeout, and the outbound policy (docs/tracking.md): `WAYMARK_OUTBOUND_ALLOW` opens
    /// ranges, `WAYMARK_OUTBOUND_DENY` adds to the default deny list.
    public var deliveryMaxAttempts: Int
    public var deliveryBackoffSeconds: Double
    public var outboundTimeoutSeconds: Double
    public var outbound: OutboundPolicy
    /// The ECB's daily and 90-day euro reference rates, fetched by the worker; `WAYMARK_FX_URL=off` stops it.
    public var fxURL: String
    public var fxHistoryURL: String
    /// Addresses besides loopback that may read `/metrics` (a comma list of CIDRs), as in nginx.
    public var metricsAllow: String
    /// Routes that only tests use (`/__test/…`); never on in `make run`.
    public var testRoutes: Bool
    /// The key sealing integration tokens: base64 of 32 bytes, else `var/secret.key`.
    public var secretKey: String?
    /// OAuth apps and API access of the providers (docs/integrations.md).
    public var providerCredentials: ProviderCredentials
    /// `https://real.origin=http://replacement:port,…`: every provider call and OAuth redirect
    /// goes through it (local fakes in tests).
    public var providerOrigins: ProviderOrigins

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let env = environment.filter { !$0.value.isEmpty }
        root = env["WAYMARK_ROOT"] ?? FileManager.default.currentDirectoryPath
        varDirectory = env["WAYMARK_VAR"] ?? root + "/var"
        spoolDirectory = env["WAYMARK_SPOOL"] ?? varDirectory + "/spool"
        databaseURL =
            env["WAYMARK_DATABASE_URL"] ?? Configuration.readFile(varDirectory + "/database.url")
            ?? "postgresql://waymark@127.0.0.1:55432/waymark?connect_timeout=3"
        databasePoolSize = env["WAYMARK_DB_POOL"].flatMap(Int.init) ?? 16
        reportsDatabaseURL = env["WAYMARK_REPORTS_DATABASE_URL"]
        socketPath = env["WAYMARK_SOCKET"] ?? varDirectory + "/run/waymark.sock"
        socketGroup = Configuration.group(env["WAYMARK_SOCKET_GROUP"], directoryOf: socketPath)
        listen = env["WAYMARK_LISTEN"]
        listenAllow = env["WAYMARK_LISTEN_ALLOW"] ?? "127.0.0.1"
        threads = env["WAYMARK_THREADS"].flatMap(Int.init) ?? 160
        uniqueCapacity = min(max(env["WAYMARK_UNIQUE_CAPACITY"].flatMap(Int.init) ?? 1_000_000, 10_000), 100_000_000)
        maxBodyBytes = env["WAYMARK_MAX_BODY_BYTES"].flatMap(Int.init) ?? 16 << 20
        templatesDirectory = env["WAYMARK_TEMPLATES"] ?? root + "/templates"
        migrationsDirectory = env["WAYMARK_MIGRATIONS"] ?? root + "/db/migrations"
        httpPort = env["WAYMARK_HTTP_PORT"].flatMap(Int.init) ?? 8080
        httpsPort = env["WAYMARK_HTTPS_PORT"].flatMap(Int.init) ?? 8443
        publicURL = env["WAYMARK_PUBLIC_URL"] ?? "https://localhost:\(httpsPort)"
        publicHTTPURL = env["WAYMARK_PUBLIC_HTTP_URL"] ?? "http://localhost:\(httpPort)"
        dataDirectory = env["WAYMARK_DATA"] ?? root + "/data"
        logLevel = env["WAYMARK_LOG_LEVEL"] ?? "info"
        logFormat = env["WAYMARK_LOG_FORMAT"] ?? "text"
        botAddresses = env["WAYMARK_BOT_IPS"] ?? ""
        trustedProxies = env["WAYMARK_TRUSTED_PROXIES"] ?? ""
        let days = { (name: String) in env[name].flatMap(Int.init).map { min(max(0, $0), RetentionSettings.maxDays) } }
        retention = RetentionOverrides(
            clickDays: days("WAYMARK_CLICK_RETENTION_DAYS"), unattributedDays: days("WAYMARK_UNATTRIBUTED_RETENTION_DAYS"),
            deliveryDays: days("WAYMARK_DELIVERY_RETENTION_DAYS"))
        unattributedRate = env["WAYMARK_UNATTRIBUTED_RATE"].flatMap(Double.init) ?? 20
        responderOutboundConcurrency = max(1, env["WAYMARK_RESPONDER_OUTBOUND_CONCURRENCY"].flatMap(Int.init) ?? 4)
        deliveryMaxAttempts = env["WAYMARK_DELIVERY_MAX_ATTEMPTS"].flatMap(Int.init) ?? 8
        deliveryBackoffSeconds = env["WAYMARK_DELIVERY_BACKOFF"].flatMap(Double.init) ?? 30
        outboundTimeoutSeconds = env["WAYMARK_OUTBOUND_TIMEOUT"].flatMap(Double.init) ?? 10
        outbound = OutboundPolicy(allow: env["WAYMARK_OUTBOUND_ALLOW"] ?? "", extraDeny: env["WAYMARK_OUTBOUND_DENY"] ?? "")
        metricsAllow = env["WAYMARK_METRICS_ALLOW"] ?? ""
        let fx = env["WAYMARK_FX_URL"] ?? "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
        fxURL = fx == "off" ? "" : fx
        fxHistoryURL = env["WAYMARK_FX_HISTORY_URL"] ?? "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist-90d.xml"
        testRoutes = env["WAYMARK_TEST_ROUTES"] == "1"
        secretKey = env["WAYMARK_SECRET_KEY"]
        providerCredentials = ProviderCredentials(
            googleClientID: env["WAYMARK_GOOGLE_CLIENT_ID"], googleClientSecret: env["WAYMARK_GOOGLE_CLIENT_SECRET"],
            googleDeveloperToken: env["WAYMARK_GOOGLE_ADS_DEVELOPER_TOKEN"],
            metaAppID: env["WAYMARK_META_APP_ID"], metaAppSecret: env["WAYMARK_META_APP_SECRET"],
            tiktokAppID: env["WAYMARK_TIKTOK_APP_ID"], tiktokAppSecret: env["WAYMARK_TIKTOK_APP_SECRET"])
        providerOrigins = ProviderOrigins(env["WAYMARK_PROVIDER_ORIGINS"] ?? "")
    }

    /// Where the responder listens: the TCP address when one is set, else the socket's path.
    public var listenAddress: String { listen ?? socketPath }

    /// Why `WAYMARK_LISTEN` or `WAYMARK_LISTEN_ALLOW` cannot be used, if they cannot.
    public var listenProblem: String? {
        if let listen {
            let parts = listen.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port), !parts[0].contains("/") else {
                return "WAYMARK_LISTEN must be host:port (e.g. 10.0.0.5:9000), not \(listen)"
            }
        }
        for item in listenAllow.split(separator: ",") {
            let address = item.trimmingCharacters(in: .whitespaces)
            var parsed = in_addr()
            if inet_pton(AF_INET, address, &parsed) != 1 { return "WAYMARK_LISTEN_ALLOW: not an IPv4 address: \(address)" }
        }
        return nil
    }

    static func group(_ name: String?, directoryOf path: String) -> gid_t? {
        if let name {
            if let id = gid_t(name) { return id }
            return getgrnam(name).map { $0.pointee.gr_gid }
        }
        var info = stat()
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        return stat(directory.isEmpty ? "." : directory, &info) == 0 ? info.st_gid : nil
    }

    static func readFile(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }
}

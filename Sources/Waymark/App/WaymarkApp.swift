import Accounts
import Addresses
import Catalog
import Conversions
import Crypto
import Deliveries
import FastCGI
import Foundation
import Integrations
import Logging
import Postgres
import Reports
import Spend
import Threads
import Tracking
import WaymarkCore
import Web

/// The responder's application: configuration, database pool, views and every route.
public final class WaymarkApp: Sendable {
    public let configuration: Configuration
    public let database: PostgresPool
    public let web: WebApplication
    /// The FastCGI listener `serve` starts (made here so `/metrics` can read its busy threads).
    let server: FastCGIServer
    let clickWriter: ClickWriter
    let campaignCache: CampaignCache
    /// `/postback` and `/pixel.gif` record through it; it spools them while the database is away.
    let postbacks: PostbackReplayer

    public init(configuration: Configuration, logger: Logger) throws {
        self.configuration = configuration
        _ = Telemetry.registry
        database = PostgresPool(conninfo: configuration.databaseURL, maxConnections: configuration.databasePoolSize)
        let router = Router()
        let views = try Views(directory: configuration.templatesDirectory)
        let (sessions, tokens) = (SessionStore(database: database), APITokenStore(database: database))
        let workspaces = WorkspaceStore(database: database)
        let shell = AdminShell(views: views, sessions: sessions, tokens: tokens, workspaces: workspaces)
        let users = UserStore(database: database)
        shell.registerFilter(on: router)
        let spool = try ClickSpool(directory: configuration.spoolDirectory)
        clickWriter = ClickWriter(conninfo: configuration.databaseURL, spool: spool, logger: logger)
        campaignCache = CampaignCache(conninfo: configuration.databaseURL, logger: logger, database: database)
        WaymarkApp.registerAccounts(on: router, shell: shell, users: users, sessions: sessions, tokens: tokens, workspaces: workspaces)
        let library = try TemplateLibrary(path: configuration.dataDirectory + "/templates.json")
        let links = TrackingLinks(configuration: configuration)
        let sources = TrafficSourceStore(database: database)
        let campaigns = CampaignStore(database: database, sources: sources, links: links)
        TrafficSourceRoutes(shell: shell, store: sources, campaigns: campaigns, workspaces: workspaces, library: library).register(
            on: router)
        let (offers, landers, flows) = (OfferStore(database: database), LanderStore(database: database), FlowStore(database: database))
        CampaignRoutes(shell: shell, store: campaigns, sources: sources, workspaces: workspaces, links: links).register(on: router)
        OfferRoutes(shell: shell, store: offers).register(on: router)
        LanderRoutes(shell: shell, store: landers).register(on: router)
        FlowRoutes(shell: shell, store: flows).register(on: router)
        FlowPagesSupport.register(
            on: router, shell: shell, workspaces: workspaces, offers: offers, landers: landers, flows: flows, campaigns: campaigns,
            links: links)
        let integrations = try IntegrationStore(configuration: configuration, database: database)
        let clickRecorder = WaymarkApp.clickRecorder(configuration, key: integrations.secrets.key)
        TrackingRoutes(
            shell: shell, cache: campaignCache, recorder: clickRecorder, writer: clickWriter,
            landerClicks: LanderClicks(cache: campaignCache, database: database), trustedProxies: IPRanges(configuration.trustedProxies)
        ).register(on: router)
        let outboundGate = OutboundGate(slots: configuration.responderOutboundConcurrency)
        IntegrationRoutes(
            shell: shell,
            actions: IntegrationActions(store: integrations, sources: sources, database: database, publicURL: configuration.publicURL),
            store: integrations, sources: sources, gate: outboundGate
        ).register(on: router)
        WaymarkApp.registerSettings(on: router, shell: shell, integrations: integrations, configuration: configuration, logger: logger)
        let feeds = SpendFeedStore(database: database, secrets: integrations.secrets, sources: sources, outbound: configuration.outbound)
        SpendFeedRoutes(shell: shell, store: feeds, sources: sources, gate: outboundGate).register(on: router)
        let outbox = Outbox(
            database: database, maxAttempts: configuration.deliveryMaxAttempts, pushes: IntegrationPushes(providers: integrations.providers)
        )
        let conversions = ConversionRecorder(
            database: database, outbox: outbox, logger: logger,
            unattributedLimit: AddressRateLimiter(rate: configuration.unattributedRate))
        let deliveries = DeliveryStore(database: database)
        postbacks = try PostbackReplayer(recorder: conversions, directory: configuration.spoolDirectory) { spool.hasPending }
        HealthRoutes(store: HealthStore(database: database), spool: spool, postbackSpool: postbacks.spool).register(on: router)
        ConversionRoutes(
            shell: shell, replayer: postbacks, conversions: ConversionStore(database: database), clicks: ClickStore(database: database),
            postbacks: PostbackStore(database: database), events: ConversionEventStore(database: database), deliveries: deliveries,
            campaigns: campaigns, sources: sources, workspaces: workspaces, cache: campaignCache, clickRecorder: clickRecorder,
            writer: clickWriter, postbackOrigin: configuration.publicHTTPURL
        ).register(on: router)
        DeliveryRoutes(
            shell: shell, deliveries: deliveries, webhooks: WebhookStore(database: database), status: StatusStore(database: database),
            heartbeats: WorkerHeartbeatStore(database: database), spool: spool, postbackSpool: postbacks.spool, workspaces: workspaces,
            integrations: integrations, feeds: feeds
        ).register(on: router)
        let engine = ReportEngine(database: WaymarkApp.reportsDatabase(configuration, database))
        let reports = ReportRoutes(shell: shell, engine: engine, workspaces: workspaces, sources: sources, campaigns: campaigns)
        reports.register(on: router)
        HomePage(reports: reports, deliveries: deliveries, integrations: integrations, feeds: feeds, spool: spool, postbacks: postbacks)
            .register(on: router)
        SplitTestRoutes(shell: shell, reports: reports, flows: flows, landers: landers, offers: offers).register(on: router)
        SpendRoutes(
            shell: shell, store: SpendStore(database: database), uploads: SpendUploadStore(database: database),
            fx: FXStore(database: database), sources: sources
        ).register(on: router)
        web = WebApplication(router: router, logger: logger, routeClasses: WaymarkApp.routeClasses)
        server = WaymarkApp.fastCGIServer(configuration, web)
        let stores = MetricsRoutes.Stores(
            deliveries: deliveries, integrations: integrations, feeds: feeds, clickSpool: spool, postbackSpool: postbacks.spool)
        MetricsRoutes(stores, configuration: configuration) { [server] in server.inFlight }.register(on: router)
    }

    /// Sign-in, workspaces, users, API tokens and the audit log.
    private static func registerAccounts(
        on router: Router, shell: AdminShell, users: UserStore, sessions: SessionStore, tokens: APITokenStore,
        workspaces: WorkspaceStore
    ) {
        let database = users.database
        AccountRoutes(shell: shell, users: users, sessions: sessions, throttle: LoginThrottle(database: database), workspaces: workspaces)
            .register(on: router)
        WorkspaceRoutes(shell: shell, store: workspaces).register(on: router)
        UserRoutes(shell: shell, users: users, workspaces: workspaces).register(on: router)
        TokenRoutes(shell: shell, tokens: tokens).register(on: router)
        AuditRoutes(shell: shell, audit: AuditLogStore(database: database)).register(on: router)
    }

    /// Settings (provider apps, retention, export), the API document, and the tests' own routes.
    private static func registerSettings(
        on router: Router, shell: AdminShell, integrations: IntegrationStore, configuration: Configuration, logger: Logger
    ) {
        ExportRoutes(
            shell: shell, store: ExportStore(database: integrations.database), workspaces: WorkspaceStore(database: integrations.database),
            logger: logger
        ).register(on: router)
        ProviderAppRoutes(shell: shell, integrations: integrations, publicURL: configuration.publicURL).register(on: router)
        SettingsRoutes(shell: shell, store: RetentionSettingsStore(database: integrations.database), environment: configuration.retention)
            .register(on: router)
        OpenAPIRoutes(root: configuration.root).register(on: router)
        if configuration.testRoutes { TestRoutes().register(on: router) }
    }

    /// The unique flag's memory as configured; click ids from nginx's request ids under the key.
    private static func clickRecorder(_ configuration: Configuration, key: SymmetricKey) -> ClickRecorder {
        ClickRecorder(botAddresses: IPRanges(configuration.botAddresses), uniqueCapacity: configuration.uniqueCapacity, idKey: key)
    }

    /// Reports read a standby when one is configured (read-only queries: a few connections).
    private static func reportsDatabase(_ configuration: Configuration, _ database: PostgresPool) -> PostgresPool {
        guard let url = configuration.reportsDatabaseURL else { return database }
        return PostgresPool(conninfo: url, maxConnections: max(2, configuration.databasePoolSize / 4))
    }

    private static func fastCGIServer(_ configuration: Configuration, _ web: WebApplication) -> FastCGIServer {
        FastCGIServer(
            configuration: .init(
                socketPath: configuration.listenAddress, threads: configuration.threads,
                maxBodyBytes: configuration.maxBodyBytes, socketGroup: configuration.socketGroup,
                webServerAddresses: configuration.listenAllow.replacingOccurrences(of: " ", with: ""))
        ) { [web] request in web.handle(request) }
    }

    /// The route classes of `waymark_http_request_duration_seconds` and the request log.
    static let routeClasses: [(prefix: String, name: String)] = [
        ("/c/", "click"), ("/click", "click"), ("/postback", "postback"), ("/pixel.gif", "pixel"), ("/api/", "api"),
        ("/healthz", "health"), ("/metrics", "metrics"), ("/oauth/", "oauth"),
    ]

    /// Serves FastCGI until SIGINT/SIGTERM, then drains in-flight requests.
    public func serve(logger: Logger) throws {
        if let problem = configuration.listenProblem { throw FastCGIError(problem) }
        try startBackgroundWork()
        try server.start()
        logger.notice("serving FastCGI on \(configuration.listenAddress) with \(configuration.threads) threads")
        let signal = waitForTermination()
        logger.notice("signal \(signal): stopping")
        let drained = server.shutdown(timeout: 10)
        stopBackgroundWork()
        logger.notice(drained ? "stopped cleanly" : "stopped with requests still in flight")
    }

    /// The click writer's thread and the campaign cache's LISTEN thread, which `serve` (and the
    /// in-process tester) run beside the handlers.
    public func startBackgroundWork() throws {
        try clickWriter.start()
        try campaignCache.startListening()
        try postbacks.start()
    }

    /// Writes what the click writer still holds (to the database or the spool) and stops it.
    public func stopBackgroundWork() {
        clickWriter.stop()
        postbacks.stop()
    }
}

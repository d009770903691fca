import FastCGI
import Foundation
import Logging
import Postgres
import Web

/// The responder's application: configuration, database pool, views and every route.
public final class WaymarkApp: Sendable {
    public let configuration: Configuration
    public let database: PostgresPool
    public let web: WebApplication

    public init(configuration: Configuration, logger: Logger) throws {
        self.configuration = configuration
        database = PostgresPool(conninfo: configuration.databaseURL, maxConnections: configuration.databasePoolSize)
        let router = Router()
        HealthRoutes(database: database).register(on: router)
        if configuration.testRoutes { TestRoutes().register(on: router) }
        web = WebApplication(router: router, logger: logger)
    }

    /// Serves FastCGI until SIGINT/SIGTERM, then drains in-flight requests.
    public func serve(logger: Logger) throws {
        let server = FastCGIServer(
            configuration: .init(
                socketPath: configuration.socketPath, threads: configuration.threads,
                maxBodyBytes: configuration.maxBodyBytes)
        ) { [web] request in web.handle(request) }
        try server.start()
        logger.notice("serving FastCGI on \(configuration.socketPath) with \(configuration.threads) threads")
        let signal = waitForTermination()
        logger.notice("signal \(signal): stopping")
        let drained = server.shutdown(timeout: 10)
        logger.notice(drained ? "stopped cleanly" : "stopped with requests still in flight")
    }
}

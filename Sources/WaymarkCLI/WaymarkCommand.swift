import Accounts
import ArgumentParser
import Foundation
import Logging
import Spend
import Threads
import Waymark
import WaymarkCore

@main
struct WaymarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "waymark",
        abstract: "Waymark, a self-hosted tracker for paid traffic.",
        discussion:
            "Settings come from WAYMARK_* environment variables (see README.md); run from the project root, the defaults match `make run`.",
        subcommands: [Serve.self, WorkerCommand.self, Migrate.self, UserCommand.self, TokenCommand.self, FXCommand.self]
    )
}

/// Logging to standard output, at WAYMARK_LOG_LEVEL, as text or JSON lines (WAYMARK_LOG_FORMAT).
func makeLogger(_ label: String, configuration: Configuration) -> Logger {
    let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
    LoggingSystem.bootstrap { label in
        var handler: any LogHandler =
            configuration.logFormat == "json" ? JSONLogHandler(label: label) : StreamLogHandler.standardOutput(label: label)
        handler.logLevel = level
        return handler
    }
    return Logger(label: label)
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the FastCGI responder (behind nginx).")

    @Option(help: "Responder threads (default WAYMARK_THREADS or 160).")
    var threads: Int?

    func run() throws {
        blockTerminationSignals()
        var config = Configuration()
        if let threads { config.threads = threads }
        let logger = makeLogger("waymark.serve", configuration: config)
        let app = try WaymarkApp(configuration: config, logger: logger)
        try app.serve(logger: logger)
    }
}

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "Run the worker (deliveries, syncs, roll-ups).")

    func run() throws {
        blockTerminationSignals()
        let config = Configuration()
        let logger = makeLogger("waymark.worker", configuration: config)
        try Worker(configuration: config, logger: logger).run()
    }
}

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the database migrations that are missing.")

    func run() throws {
        let config = Configuration()
        let connection = try PostgresConnectionFactory.connect(config)
        let applied = try Migrator(directory: config.migrationsDirectory).migrate(connection)
        print(applied.isEmpty ? "migrations: up to date" : "migrations applied: \(applied.map(String.init).joined(separator: ", "))")
    }
}

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.", subcommands: [Create.self, SetPassword.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user.")

        @Option var email: String
        @Option var password: String
        @Option(help: "owner, admin, member or viewer") var role: String
        @Option(help: "Workspace name to join (repeatable).") var workspace: [String] = []

        func run() throws {
            guard let role = Role(rawValue: role) else {
                throw ValidationError("role must be owner, admin, member or viewer")
            }
            let store = UserStore(database: PostgresConnectionFactory.pool(Configuration()))
            let id = try store.create(email: email, password: password, role: role, workspaces: workspace)
            print("user \(id) created: \(email) (\(role.rawValue))")
        }
    }

    struct SetPassword: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-password",
            abstract: "Set a user's password (their sessions end); without --password or --stdin one is generated and printed once.")

        @Option var email: String
        @Option(help: "The new password (visible to other users of this machine in the process list; prefer --stdin).")
        var password: String?
        @Flag(help: "Read the new password from the first line of standard input.") var stdin = false

        func run() throws {
            var chosen = password
            if stdin { chosen = readLine(strippingNewline: true) ?? "" }
            let store = UserStore(database: PostgresConnectionFactory.pool(Configuration()))
            let newPassword = chosen ?? UserStore.generatedPassword()
            do {
                try store.setPassword(email: email, to: newPassword)
            } catch let error as AccountError {
                throw ValidationError(error.description)
            }
            print(chosen == nil ? "password of \(email) set to: \(newPassword)" : "password of \(email) set")
        }
    }
}

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Manage API tokens.", subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API token; prints it alone on the last line.")

        @Option var email: String
        @Option var name: String

        func run() throws {
            let store = UserStore(database: PostgresConnectionFactory.pool(Configuration()))
            let token = try store.createToken(email: email, name: name)
            print("API token \"\(name)\" for \(email) (shown once, keep it):")
            print(token)
        }
    }
}

struct FXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fx", abstract: "Currency rates.", subcommands: [Import.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import euro reference rates: the ECB's XML (daily, 90-day or historical) or a CSV date,currency,rate.")

        @Argument(help: "eurofxref-daily.xml, eurofxref-hist-90d.xml, eurofxref-hist.xml or a CSV file") var file: String

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            let rates = try FXFile.parse(data)
            let n = try FXStore(database: PostgresConnectionFactory.pool(Configuration())).store(
                rates, source: (file as NSString).lastPathComponent)
            let days = Set(rates.map(\.day)).sorted()
            print("imported \(n) rates for \(Set(rates.map(\.currency)).count) currencies, \(days.first ?? "") to \(days.last ?? "")")
        }
    }
}

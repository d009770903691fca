import Foundation
import Postgres
import Testing
import Waymark
import WaymarkTesting

@Suite(.needsStack, .timeLimit(.minutes(5))) struct MigratorTests {
    func scratchDirectory(_ files: [String: String]) throws -> String {
        let dir = NSTemporaryDirectory() + "wm-migrations-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, sql) in files { try sql.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        return dir
    }

    @Test func readsMigrationsInVersionOrder() throws {
        let dir = try scratchDirectory(["0002_b.sql": "SELECT 2", "0010_c.sql": "SELECT 10", "0001_a.sql": "SELECT 1"])
        #expect(try Migrator(directory: dir).migrations().map(\.version) == [1, 2, 10])
        let bad = try scratchDirectory(["x.sql": "SELECT 1"])
        #expect(throws: MigrationError.self) { try Migrator(directory: bad).migrations() }
    }

    @Test func theProjectMigrationsAreAllApplied() throws {
        let root = TestEnvironment.scripts + "/.."
        let expected = try Migrator(directory: root + "/db/migrations").migrations().map(\.version)
        let c = try TestEnvironment.connect()
        let applied = try c.query("SELECT version FROM schema_migrations ORDER BY version").map { try $0.decode("version", as: Int.self) }
        #expect(applied == expected)
        // Applying again changes nothing.
        #expect(try Migrator(directory: root + "/db/migrations").migrate(c).isEmpty)
    }
}

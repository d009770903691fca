import Crypto
import Foundation
import Glibc
import WaymarkCore

/// The local spool for clicks and click-throughs while PostgreSQL is unreachable: one line each,
/// `<checksum> <json>\n`, appended and fsync'ed before anyone is answered. Replayed in order
/// once the database is back; a torn or corrupt line (a crash mid-write) is skipped.
public final class ClickSpool: @unchecked Sendable {
    // Used only by the click writer's thread.
    public let directory: String
    public var current: String { directory + "/clicks.spool" }

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    public static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .secondsSince1970
        return e
    }()

    public static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .secondsSince1970
        return d
    }()

    public static func checksum(_ bytes: some DataProtocol) -> String {
        Hex.encode(SHA256.hash(data: bytes).prefix(8))
    }

    /// Appends and fsyncs; true when the records are on disk.
    public func append(_ records: [ClickRecord]) -> Bool {
        var out = Data()
        for record in records {
            guard let json = try? ClickSpool.encoder.encode(record) else { return false }
            out.append(contentsOf: Array((ClickSpool.checksum(json) + " ").utf8))
            out.append(json)
            out.append(10)
        }
        let fd = open(current, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let written = out.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return written == out.count && fsync(fd) == 0
    }

    /// Spool files waiting for replay, oldest first.
    public func pendingFiles() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("clicks") && $0.contains(".spool") }.sorted().map { directory + "/" + $0 }
    }

    public var hasPending: Bool { !pendingFiles().isEmpty }

    /// Bytes waiting in the spool (shown by /healthz).
    public var pendingBytes: Int {
        pendingFiles().reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
    }

    /// Moves the current file aside so new clicks go to a fresh one while it is replayed.
    public func rotate() -> [String] {
        if FileManager.default.fileExists(atPath: current) {
            let stamp = String(format: "%.6f", Date().timeIntervalSince1970)
            rename(current, directory + "/clicks-\(stamp).spool.replay")
        }
        return pendingFiles().filter { $0 != current }
    }

    /// The valid records of a spool file (corrupt lines skipped).
    public static func read(_ path: String) -> (clicks: [ClickRecord], skipped: Int) {
        guard let data = FileManager.default.contents(atPath: path) else { return ([], 0) }
        var clicks: [ClickRecord] = []
        var skipped = 0
        for line in data.split(separator: 10) where !line.isEmpty {
            guard let space = line.firstIndex(of: 32) else {
                skipped += 1
                continue
            }
            let sum = String(decoding: line[line.startIndex..<space], as: UTF8.self)
            let json = line[line.index(after: space)...]
            guard sum == checksum(json), let click = try? decoder.decode(ClickRecord.self, from: Data(json)) else {
                skipped += 1
                continue
            }
            clicks.append(click)
        }
        return (clicks, skipped)
    }
}

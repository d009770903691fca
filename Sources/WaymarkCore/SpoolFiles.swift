import Crypto
import Foundation
import Glibc

/// A local spool of records while PostgreSQL is unreachable (clicks, postbacks): files
/// `<directory>/<name>.spool` (the current one) and `<name>-<time>.spool.replay` (set aside for
/// replay), one line per record, `<checksum> <json>\n`, appended and fsync'ed before anyone is
/// answered. A torn or corrupt line (a crash mid-write) is skipped on reading.
public struct SpoolFiles<Record: Codable & Sendable>: Sendable {
    public let directory: String
    public let name: String
    /// Past this size the current file takes no more (a flood during an outage fills no disk).
    public let maxBytes: Int?
    private let encoder: JSONEncoder
    private let decoder: JSONDecoder

    public init(directory: String, name: String, maxBytes: Int? = nil, encoder: JSONEncoder, decoder: JSONDecoder) throws {
        self.directory = directory
        self.name = name
        self.maxBytes = maxBytes
        self.encoder = encoder
        self.decoder = decoder
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    public var current: String { directory + "/\(name).spool" }

    /// The first 8 bytes of the SHA-256 of the JSON, as hex.
    public static func checksum(_ json: some DataProtocol) -> String {
        Hex.encode(SHA256.hash(data: json).prefix(8))
    }

    /// One spool line, newline included.
    public func line(_ record: Record) throws -> [UInt8] {
        let json = Array(try encoder.encode(record))
        return Array((SpoolFiles.checksum(json) + " ").utf8) + json + [10]
    }

    /// Appends and fsyncs; true when the records are on disk.
    public func append(_ records: some Sequence<Record>) -> Bool {
        var bytes: [UInt8] = []
        for record in records {
            guard let line = try? line(record) else { return false }
            bytes += line
        }
        let fd = open(current, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if let maxBytes {
            var status = stat()
            guard fstat(fd, &status) == 0, Int(status.st_size) + bytes.count <= maxBytes else { return false }
        }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return written == bytes.count && fsync(fd) == 0
    }

    /// Spool files waiting for replay, oldest first (set-aside ones sort before the current file).
    public func pendingFiles() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix(name) && $0.contains(".spool") }.sorted().map { directory + "/" + $0 }
    }

    public var hasPending: Bool { !pendingFiles().isEmpty }

    /// Bytes waiting (shown by /healthz).
    public var pendingBytes: Int {
        pendingFiles().reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
    }

    /// Moves the current file aside so new records go to a fresh one while it is replayed;
    /// returns the files to replay, oldest first.
    public func rotate() -> [String] {
        if FileManager.default.fileExists(atPath: current) {
            let stamp = String(format: "%.6f", Date().timeIntervalSince1970)
            rename(current, directory + "/\(name)-\(stamp).spool.replay")
        }
        return pendingFiles().filter { $0 != current }
    }

    /// Replaces a file with the records still to replay (written aside, fsync'ed, renamed over).
    public func keep(_ records: some Sequence<Record>, in file: String) -> Bool {
        var bytes: [UInt8] = []
        for record in records {
            guard let line = try? line(record) else { return false }
            bytes += line
        }
        let aside = directory + "/rewrite.tmp"
        let fd = open(aside, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return false }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = written == bytes.count && fsync(fd) == 0
        close(fd)
        return synced && rename(aside, file) == 0
    }

    /// The valid records of a spool file, in order, and how many damaged lines were skipped.
    public func read(_ path: String) -> (records: [Record], skipped: Int) {
        guard let data = FileManager.default.contents(atPath: path) else { return ([], 0) }
        return parse(Array(data))
    }

    /// The same for a spool file's bytes.
    public func parse(_ data: [UInt8]) -> (records: [Record], skipped: Int) {
        var records: [Record] = []
        var skipped = 0
        for line in data.split(separator: 10) where !line.isEmpty {
            guard let space = line.firstIndex(of: 32) else {
                skipped += 1
                continue
            }
            let sum = String(decoding: line[line.startIndex..<space], as: UTF8.self)
            let json = line[line.index(after: space)...]
            guard sum == SpoolFiles.checksum(json), let record = try? decoder.decode(Record.self, from: Data(json)) else {
                skipped += 1
                continue
            }
            records.append(record)
        }
        return (records, skipped)
    }
}

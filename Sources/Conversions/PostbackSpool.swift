import Foundation
import Glibc
import WaymarkCore
import Web

/// A postback or pixel hit accepted while PostgreSQL was unreachable: what `ConversionRecorder.record`
/// needs to record it later exactly as it would have been then.
public struct SpooledPostback: Codable, Sendable, Equatable {
    /// The name → value pairs it was parsed from (query first, then body), each `[name, value]`.
    public var pairs: [[String]]
    public var channel: String
    public var method: String
    /// The ledger's copy, with the secret already redacted.
    public var query: String
    public var body: String
    public var contentType: String
    public var sourceIP: String
    public var checkSecret: Bool
    public var requireClickID: Bool
    /// When it arrived, in milliseconds since 1970 (whole, so a line reads back exactly).
    public var receivedAtMilliseconds: Int64
    public var receivedAt: Date { Date(timeIntervalSince1970: Double(receivedAtMilliseconds) / 1000) }

    public init(pairs: [(String, String)], raw: ConversionRecorder.Raw, secret: String?, checkSecret: Bool, requireClickID: Bool) {
        self.pairs = pairs.map { [$0.0, $0.1] }
        let kept = raw.kept(secret: secret, unattributed: false)
        (channel, method, query, body) = (kept.channel, kept.method, kept.query, kept.body)
        (contentType, sourceIP) = (kept.contentType, kept.sourceIP)
        self.checkSecret = checkSecret
        self.requireClickID = requireClickID
        receivedAtMilliseconds = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    public var namedPairs: [(String, String)] { pairs.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil } }

    public var raw: ConversionRecorder.Raw {
        ConversionRecorder.Raw(channel: channel, method: method, query: query, body: body, contentType: contentType, sourceIP: sourceIP)
    }

    /// The parsed postback, checked again as when it arrived (the rules need no database).
    public func input() throws(HTTPError) -> PostbackInput { try PostbackInput(namedPairs, requireClickID: requireClickID) }
}

/// The local spool of postbacks while PostgreSQL is unreachable (`<spool>/postbacks.spool`), in the
/// click spool's line format: `<checksum> <json>\n`, appended and fsync'ed before the 202 leaves.
/// Only `PostbackReplayer` uses it, under its lock.
public struct PostbackSpool: Sendable {
    public let directory: String
    public var current: String { directory + "/postbacks.spool" }
    /// Past this size the current file takes no more (a flood during an outage fills no disk): 503.
    public static let maxBytes = 256 << 20

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return e
    }()

    static let decoder = JSONDecoder()

    /// The first 8 bytes of the SHA-256 of the JSON, as hex (ClickSpool's checksum).
    public static func checksum(_ json: some Collection<UInt8>) -> String {
        String(sha256Hex(String(decoding: json, as: UTF8.self)).prefix(16))
    }

    /// One spool line, newline included.
    public static func line(_ postback: SpooledPostback) throws -> [UInt8] {
        let json = Array(try encoder.encode(postback))
        return Array((checksum(json) + " ").utf8) + json + [10]
    }

    /// Appends and fsyncs; true when the postback is on disk.
    public func append(_ postback: SpooledPostback) -> Bool {
        guard let bytes = try? PostbackSpool.line(postback) else { return false }
        let fd = open(current, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, Int(status.st_size) + bytes.count <= PostbackSpool.maxBytes else { return false }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return written == bytes.count && fsync(fd) == 0
    }

    /// Spool files waiting for replay, oldest first (rotated ones sort before the current file).
    public func pendingFiles() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("postbacks") && $0.contains(".spool") }.sorted().map { directory + "/" + $0 }
    }

    public var hasPending: Bool { !pendingFiles().isEmpty }

    /// Bytes waiting in the spool (shown by /healthz).
    public var pendingBytes: Int {
        pendingFiles().reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
    }

    /// Moves the current file aside so new postbacks go to a fresh one while it is replayed.
    public func rotate() -> [String] {
        if FileManager.default.fileExists(atPath: current) {
            let stamp = String(format: "%.6f", Date().timeIntervalSince1970)
            rename(current, directory + "/postbacks-\(stamp).spool.replay")
        }
        return pendingFiles().filter { $0 != current }
    }

    /// Replaces a file with the postbacks still to replay (written aside, fsync'ed, renamed over).
    public func keep(_ postbacks: some Sequence<SpooledPostback>, in file: String) -> Bool {
        var bytes: [UInt8] = []
        for postback in postbacks {
            guard let line = try? PostbackSpool.line(postback) else { return false }
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

    /// The valid postbacks of a spool file, in order, and how many damaged lines were skipped.
    public static func read(_ path: String) -> (postbacks: [SpooledPostback], skipped: Int) {
        guard let data = FileManager.default.contents(atPath: path) else { return ([], 0) }
        return parse(Array(data))
    }

    /// The same for a spool file's bytes.
    public static func parse(_ data: [UInt8]) -> (postbacks: [SpooledPostback], skipped: Int) {
        var postbacks: [SpooledPostback] = []
        var skipped = 0
        for line in data.split(separator: 10) where !line.isEmpty {
            guard let space = line.firstIndex(of: 32) else {
                skipped += 1
                continue
            }
            let sum = String(decoding: line[line.startIndex..<space], as: UTF8.self)
            let json = line[line.index(after: space)...]
            guard sum == checksum(json), let postback = try? decoder.decode(SpooledPostback.self, from: Data(json)) else {
                skipped += 1
                continue
            }
            postbacks.append(postback)
        }
        return (postbacks, skipped)
    }
}

import Foundation
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

/// The local spool of postbacks while PostgreSQL is unreachable (`<spool>/postbacks.spool`), in
/// the click spool's line format, appended and fsync'ed before the 202 leaves. Only
/// `PostbackReplayer` uses it, under its lock.
public typealias PostbackSpool = SpoolFiles<SpooledPostback>

extension SpoolFiles where Record == SpooledPostback {
    /// Past 256 MiB waiting the spool takes no more (a flood during an outage fills no disk): 503.
    public init(directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try self.init(directory: directory, name: "postbacks", maxBytes: 256 << 20, encoder: encoder, decoder: JSONDecoder())
    }

    /// Appends one postback and fsyncs; true when it is on disk.
    public func append(_ postback: SpooledPostback) -> Bool { append([postback]) }
}

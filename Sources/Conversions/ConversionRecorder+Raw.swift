import Foundation
import Web

extension ConversionRecorder {
    /// What arrived, as received (for the ledger).
    public struct Raw: Sendable {
        public var channel: String
        public var method: String
        public var query: String
        public var body: String
        public var contentType: String
        public var sourceIP: String

        public init(channel: String, method: String, query: String, body: String, contentType: String, sourceIP: String) {
            self.channel = channel
            self.method = method
            self.query = query
            self.body = body
            self.contentType = contentType
            self.sourceIP = sourceIP
        }

        public init(_ request: Request, channel: String) {
            self.init(
                channel: channel, method: request.method, query: Raw.prefix(request.rawQuery, bytes: 65_536),
                body: Raw.prefix(request.bodyText, bytes: 65_536),
                contentType: Raw.prefix(request.header("content-type") ?? "", bytes: 200),
                sourceIP: request.remoteAddress)
        }

        /// What the ledger keeps: the postback's secret never (its value replaced wherever it
        /// appears), and of a postback that names no known click (anyone can send those) only
        /// the first `unattributedBytes` of its query and body.
        public func kept(secret: String?, unattributed: Bool) -> Raw {
            var raw = self
            if let secret, !secret.isEmpty {
                let hidden = "[redacted]"
                raw.query = raw.query.replacingOccurrences(of: URLEncoding.encode(secret), with: hidden).replacingOccurrences(
                    of: secret, with: hidden)
                raw.body = raw.body.replacingOccurrences(of: URLEncoding.encode(secret), with: hidden).replacingOccurrences(
                    of: secret, with: hidden)
            }
            if unattributed {
                raw.query = Raw.prefix(raw.query, bytes: Raw.unattributedBytes)
                raw.body = Raw.prefix(raw.body, bytes: Raw.unattributedBytes)
            }
            return raw
        }

        public static let unattributedBytes = 2048

        /// At most `bytes` of UTF-8, cut at a character boundary.
        public static func prefix(_ s: String, bytes: Int) -> String {
            guard s.utf8.count > bytes else { return s }
            let utf8 = Array(s.utf8)
            var end = bytes
            while end > 0, utf8[end] & 0xC0 == 0x80 { end -= 1 }  // not inside a character
            return String(decoding: utf8[..<end], as: UTF8.self)
        }
    }
}

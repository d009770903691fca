import Foundation

/// A queued delivery with its tries, as the Status page and a click's journey show it.
public struct DeliveryRow: Sendable {
    public var id: Int64
    public var kind: String
    public var targetName: String
    public var method: String
    public var url: String
    public var state: String
    public var attempts: Int
    public var maxAttempts: Int
    public var lastError: String
    public var nextAttemptAt: Date
    public var createdAt: Date
    public var clickID: String
    public var tries: [Try]

    /// One try; nil where the try had no answer (or no status, or no time taken).
    public struct Try: Sendable, Decodable {
        /// As PostgreSQL's JSON writes a time.
        public var at: String?
        public var status: Int?
        public var answer: String?
        public var error: String?
        public var ms: Int?
    }
}

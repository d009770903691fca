import Foundation

/// A Measurement Protocol request (protocols.md §4): a client id and its events.
public struct GA4Payload: Encodable, Equatable {
    public var clientID: String
    /// Backdated by 72 hours at most.
    public var timestampMicros: Int64?
    public var events: [Event]

    public init(clientID: String, timestampMicros: Int64? = nil, events: [Event]) {
        self.clientID = clientID
        self.timestampMicros = timestampMicros
        self.events = events
    }

    enum CodingKeys: String, CodingKey {
        case clientID = "client_id", timestampMicros = "timestamp_micros", events
    }

    public struct Event: Encodable, Equatable {
        public var name: String
        public var params: Params

        public init(name: String, params: Params) {
            self.name = name
            self.params = params
        }
    }

    /// The event parameters Waymark sends; the value as a JSON number.
    public struct Params: Encodable, Equatable {
        public var currency: String?
        public var transactionID: String?
        public var value: Double?
        public var engagementTimeMsec = 1

        public init(currency: String? = nil, transactionID: String? = nil, value: Double? = nil) {
            self.currency = currency
            self.transactionID = transactionID
            self.value = value
        }

        enum CodingKeys: String, CodingKey {
            case currency, transactionID = "transaction_id", value, engagementTimeMsec = "engagement_time_msec"
        }
    }
}

/// The validation server's answer: no messages means the payload is valid.
public struct GA4Validation: LenientDecodable {
    @Lenient public var validationMessages: [Message]?
    public init() {}

    public struct Message: LenientDecodable {
        @Lenient public var validationCode: String?
        @Lenient public var description: String?
        public init() {}
    }
}

import Foundation

/// The Conversions API's body (protocols.md §3.5): `{"data": [event], "test_event_code"?}`.
public struct MetaEventsBody: Encodable, Equatable {
    public var data: [Event]
    public var testEventCode: String?

    public init(data: [Event], testEventCode: String?) {
        self.data = data
        self.testEventCode = testEventCode
    }

    enum CodingKeys: String, CodingKey {
        case data, testEventCode = "test_event_code"
    }

    public struct Event: Encodable, Equatable {
        public var eventName: String
        /// Unix seconds.
        public var eventTime: Int
        public var eventID: String
        public var actionSource = "website"
        public var eventSourceURL: String
        public var userData: UserData
        public var customData: CustomData?

        public init(eventName: String, eventTime: Int, eventID: String, eventSourceURL: String, userData: UserData, customData: CustomData?)
        {
            self.eventName = eventName
            self.eventTime = eventTime
            self.eventID = eventID
            self.eventSourceURL = eventSourceURL
            self.userData = userData
            self.customData = customData
        }

        enum CodingKeys: String, CodingKey {
            case eventName = "event_name", eventTime = "event_time", eventID = "event_id", actionSource = "action_source"
            case eventSourceURL = "event_source_url", userData = "user_data", customData = "custom_data"
        }
    }

    /// IP, user agent and fbc go unhashed; external_id is SHA-256 hex, in an array.
    public struct UserData: Encodable, Equatable {
        public var clientIPAddress: String
        public var clientUserAgent: String
        public var fbc: String?
        public var externalID: [String]

        public init(clientIPAddress: String, clientUserAgent: String, fbc: String?, externalID: [String]) {
            self.clientIPAddress = clientIPAddress
            self.clientUserAgent = clientUserAgent
            self.fbc = fbc
            self.externalID = externalID
        }

        enum CodingKeys: String, CodingKey {
            case clientIPAddress = "client_ip_address", clientUserAgent = "client_user_agent", fbc, externalID = "external_id"
        }
    }

    /// The value as a JSON number.
    public struct CustomData: Encodable, Equatable {
        public var value: Double
        public var currency: String

        public init(value: Double, currency: String) {
            self.value = value
            self.currency = currency
        }
    }
}

import Foundation

/// The app's credentials with an auth code (`oauth2/access_token/`) or a token (`oauth2/revoke_token/`).
public struct TikTokTokenRequest: Encodable, Equatable {
    public var appID: String
    public var secret: String
    public var authCode: String?
    public var accessToken: String?

    public init(appID: String, secret: String, authCode: String? = nil, accessToken: String? = nil) {
        self.appID = appID
        self.secret = secret
        self.authCode = authCode
        self.accessToken = accessToken
    }

    enum CodingKeys: String, CodingKey {
        case appID = "app_id", secret, authCode = "auth_code", accessToken = "access_token"
    }
}

/// The Events API 2.0 body (protocols.md §5.4); `event_source_id` is the pixel code.
public struct TikTokEventsBody: Encodable, Equatable {
    public var eventSource = "web"
    public var eventSourceID: String
    public var data: [Event]
    public var testEventCode: String?

    public init(eventSourceID: String, data: [Event], testEventCode: String?) {
        self.eventSourceID = eventSourceID
        self.data = data
        self.testEventCode = testEventCode
    }

    enum CodingKeys: String, CodingKey {
        case eventSource = "event_source", eventSourceID = "event_source_id", data, testEventCode = "test_event_code"
    }

    public struct Event: Encodable, Equatable {
        public var event: String
        /// Unix seconds.
        public var eventTime: Int
        public var eventID: String
        public var user: User
        public var properties: Properties
        public var page: Page

        public init(event: String, eventTime: Int, eventID: String, user: User, properties: Properties, page: Page) {
            self.event = event
            self.eventTime = eventTime
            self.eventID = eventID
            self.user = user
            self.properties = properties
            self.page = page
        }

        enum CodingKeys: String, CodingKey {
            case event, eventTime = "event_time", eventID = "event_id", user, properties, page
        }
    }

    public struct User: Encodable, Equatable {
        public var ip: String
        public var userAgent: String
        public var ttclid: String?

        public init(ip: String, userAgent: String, ttclid: String?) {
            self.ip = ip
            self.userAgent = userAgent
            self.ttclid = ttclid
        }

        enum CodingKeys: String, CodingKey {
            case ip, userAgent = "user_agent", ttclid
        }
    }

    /// The value as a JSON number.
    public struct Properties: Encodable, Equatable {
        public var currency: String
        public var value: Double?
        public var orderID: String?

        public init(currency: String, value: Double?, orderID: String?) {
            self.currency = currency
            self.value = value
            self.orderID = orderID
        }

        enum CodingKeys: String, CodingKey {
            case currency, value, orderID = "order_id"
        }
    }

    public struct Page: Encodable, Equatable {
        public var url: String

        public init(url: String) { self.url = url }
    }
}

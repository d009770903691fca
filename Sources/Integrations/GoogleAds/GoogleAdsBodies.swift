import Foundation

// Google's request bodies (protocols.md §2.4–2.5). The APIs are proto3 JSON: lowerCamelCase keys,
// so these properties carry the wire names as they are (uploadClickConversions refuses unknown ones).

/// A GAQL query for `googleAds:searchStream`.
public struct GoogleAdsQuery: Encodable, Equatable {
    public var query: String
    public init(query: String) { self.query = query }
}

/// The body of `customers/{id}:uploadClickConversions`.
public struct GoogleClickConversionUpload: Encodable, Equatable {
    /// The method requires partial failure mode.
    public var partialFailure = true
    public var validateOnly = false
    public var conversions: [Conversion]

    public struct Conversion: Encodable, Equatable {
        public var gclid: String
        public var conversionAction: String
        /// `yyyy-mm-dd hh:mm:ss+00:00`.
        public var conversionDateTime: String
        public var conversionValue: Double
        public var currencyCode: String
        public var orderId: String

        public init(
            gclid: String, conversionAction: String, conversionDateTime: String, conversionValue: Double, currencyCode: String,
            orderId: String
        ) {
            self.gclid = gclid
            self.conversionAction = conversionAction
            self.conversionDateTime = conversionDateTime
            self.conversionValue = conversionValue
            self.currencyCode = currencyCode
            self.orderId = orderId
        }
    }

    public init(conversions: [Conversion]) { self.conversions = conversions }
}

/// The body of the Data Manager API's `events:ingest`.
public struct GoogleDataManagerIngest: Encodable, Equatable {
    public var destinations: [Destination]
    public var validateOnly = false
    public var encoding = "HEX"
    public var events: [Event]

    public struct Account: Encodable, Equatable {
        public var accountType = "GOOGLE_ADS"
        public var accountId: String

        public init(accountId: String) { self.accountId = accountId }
    }

    public struct Destination: Encodable, Equatable {
        public var operatingAccount: Account
        public var loginAccount: Account?
        /// The conversion action id.
        public var productDestinationId: String

        public init(operatingAccount: Account, loginAccount: Account?, productDestinationId: String) {
            self.operatingAccount = operatingAccount
            self.loginAccount = loginAccount
            self.productDestinationId = productDestinationId
        }
    }

    public struct Event: Encodable, Equatable {
        public var adIdentifiers: [String: String]
        /// RFC 3339 in UTC.
        public var eventTimestamp: String
        public var transactionId: String
        public var conversionValue: Double
        public var currency: String
        public var eventSource = "WEB"

        public init(
            adIdentifiers: [String: String], eventTimestamp: String, transactionId: String, conversionValue: Double, currency: String
        ) {
            self.adIdentifiers = adIdentifiers
            self.eventTimestamp = eventTimestamp
            self.transactionId = transactionId
            self.conversionValue = conversionValue
            self.currency = currency
        }
    }

    public init(destinations: [Destination], events: [Event]) {
        self.destinations = destinations
        self.events = events
    }
}

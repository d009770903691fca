import Foundation

// Google's answers (protocols.md §1.2, §2.3–2.6), read leniently: a missing or mistyped field
// is absent.

/// The OAuth token endpoint's answer, success or error.
public struct GoogleTokenAnswer: LenientDecodable {
    @Lenient public var accessToken: String?
    @Lenient public var refreshToken: String?
    @LenientNumber public var expiresIn: Double?
    @Lenient public var error: String?
    @Lenient public var errorDescription: String?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", refreshToken = "refresh_token", expiresIn = "expires_in"
        case error, errorDescription = "error_description"
    }
}

/// A message-only object (a push's error or partial failure).
public struct GoogleMessage: LenientDecodable {
    @Lenient public var message: String?
    public init() {}
}

/// The REST error envelope: `{"error": {code, message, status, details: [{errors: [{errorCode}]}]}}`.
public struct GoogleErrorAnswer: LenientDecodable {
    @Lenient public var error: Body?
    /// uploadClickConversions: rows that failed while others went through.
    @Lenient public var partialFailureError: GoogleMessage?

    public struct Body: LenientDecodable {
        @Lenient public var message: String?
        @Lenient public var status: String?
        @Lenient public var details: [Detail]?
        public init() {}

        /// `authenticationError: NOT_ADS_USER`, the first detail's first error code.
        public var code: String? {
            details?.first?.errors?.first?.errorCode?.map { "\($0.key): \($0.value)" }.first
        }
    }

    public struct Detail: LenientDecodable {
        @Lenient public var errors: [Failure]?
        public init() {}
    }

    public struct Failure: LenientDecodable {
        @Lenient public var errorCode: [String: String]?
        public init() {}
    }

    public init() {}
}

/// `customers:listAccessibleCustomers`.
public struct GoogleCustomerList: LenientDecodable {
    @Lenient public var resourceNames: [String]?
    public init() {}
}

/// One batch of a searchStream answer (the answer is an array of them).
public struct GoogleSearchBatch: LenientDecodable {
    @Lenient public var results: [GoogleAdsRow]?
    public init() {}
}

/// One GAQL result row: the selected resources, their metrics and segments.
public struct GoogleAdsRow: LenientDecodable {
    @Lenient public var customer: Customer?
    @Lenient public var campaign: Entity?
    @Lenient public var adGroup: Entity?
    @Lenient public var adGroupAd: AdGroupAd?
    @Lenient public var adGroupCriterion: Criterion?
    @Lenient public var metrics: Metrics?
    @Lenient public var segments: Segments?
    public init() {}

    public struct Customer: LenientDecodable {
        @Lenient public var descriptiveName: String?
        @Lenient public var currencyCode: String?
        @Lenient public var timeZone: String?
        public init() {}
    }

    /// A campaign, ad group or ad: int64 ids come as strings.
    public struct Entity: LenientDecodable {
        @LenientText public var id: String?
        @Lenient public var name: String?
        public init() {}
    }

    public struct AdGroupAd: LenientDecodable {
        @Lenient public var ad: Entity?
        public init() {}
    }

    public struct Criterion: LenientDecodable {
        @LenientText public var criterionId: String?
        @Lenient public var keyword: Keyword?
        public init() {}
    }

    public struct Keyword: LenientDecodable {
        @Lenient public var text: String?
        @Lenient public var matchType: String?
        public init() {}
    }

    public struct Metrics: LenientDecodable {
        @LenientText public var impressions: String?
        @LenientText public var clicks: String?
        @LenientText public var costMicros: String?
        public init() {}
    }

    public struct Segments: LenientDecodable {
        @Lenient public var date: String?
        public init() {}
    }
}

import Foundation

// Graph API answers (protocols.md §3.2–3.6), read leniently: a missing or mistyped field is absent.

/// Any Graph answer's error part: `{"error": {message, type, code, error_subcode, …}}`.
public struct MetaErrorAnswer: LenientDecodable {
    @Lenient public var error: MetaError?
    public init() {}
}

public struct MetaError: LenientDecodable {
    @LenientNumber public var code: Double?
    @Lenient public var message: String?
    public init() {}
}

/// `/oauth/access_token`, short- or long-lived.
public struct MetaTokenAnswer: LenientDecodable {
    @Lenient public var accessToken: String?
    @LenientNumber public var expiresIn: Double?
    public init() {}

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", expiresIn = "expires_in"
    }
}

/// Cursor paging: `next` is there while more pages are.
public struct MetaPaging: LenientDecodable {
    @Lenient public var next: String?
    @Lenient public var cursors: Cursors?
    public init() {}

    public struct Cursors: LenientDecodable {
        @Lenient public var after: String?
        public init() {}
    }
}

/// One page of a Graph edge (`/me/adaccounts`, `/act_{id}/insights`).
public struct MetaPage<Row: Decodable>: LenientDecodable {
    @Lenient public var data: [Row]?
    @Lenient public var paging: MetaPaging?
    public init() {}
}

/// One `/me/adaccounts` entry (`id` is `act_…`).
public struct MetaAdAccount: LenientDecodable {
    @Lenient public var id: String?
    @Lenient public var name: String?
    @Lenient public var currency: String?
    @Lenient public var timezoneName: String?
    public init() {}

    enum CodingKeys: String, CodingKey {
        case id, name, currency, timezoneName = "timezone_name"
    }
}

/// One daily insights row; numbers come as strings (`spend` without trailing zeros).
public struct MetaInsightsRow: LenientDecodable {
    @Lenient public var dateStart: String?
    @LenientText public var campaignID: String?
    @Lenient public var campaignName: String?
    @LenientText public var adsetID: String?
    @Lenient public var adsetName: String?
    @LenientText public var adID: String?
    @Lenient public var adName: String?
    @LenientText public var impressions: String?
    @LenientText public var clicks: String?
    @LenientText public var spend: String?
    public init() {}

    enum CodingKeys: String, CodingKey {
        case dateStart = "date_start", campaignID = "campaign_id", campaignName = "campaign_name", adsetID = "adset_id"
        case adsetName = "adset_name", adID = "ad_id", adName = "ad_name", impressions, clicks, spend
    }
}

/// `/debug_token`.
public struct MetaDebugToken: LenientDecodable {
    @Lenient public var data: Token?
    public init() {}

    public struct Token: LenientDecodable {
        @Lenient public var isValid: Bool?
        @LenientNumber public var expiresAt: Double?
        public init() {}

        enum CodingKeys: String, CodingKey {
            case isValid = "is_valid", expiresAt = "expires_at"
        }
    }
}

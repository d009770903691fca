import Foundation

// Marketing API answers (protocols.md §5), read leniently: a missing or mistyped field is absent.

/// The envelope every answer comes in (HTTP 200): a non-zero `code` is the error.
public struct TikTokEnvelope<Payload: Decodable>: LenientDecodable {
    @LenientNumber public var code: Double?
    @Lenient public var message: String?
    @Lenient public var data: Payload?
    public init() {}
}

/// A `data` holding a `list` (advertisers, advertiser info, report rows) and maybe `page_info`.
public struct TikTokList<Item: Decodable>: LenientDecodable {
    @Lenient public var list: [Item]?
    @Lenient public var pageInfo: PageInfo?
    public init() {}

    enum CodingKeys: String, CodingKey {
        case list, pageInfo = "page_info"
    }

    public struct PageInfo: LenientDecodable {
        @LenientNumber public var totalPage: Double?
        public init() {}

        enum CodingKeys: String, CodingKey {
            case totalPage = "total_page"
        }
    }
}

/// `oauth2/access_token/`'s data.
public struct TikTokToken: LenientDecodable {
    @Lenient public var accessToken: String?
    public init() {}

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
    }
}

/// An `oauth2/advertiser/get/` or `advertiser/info/` entry.
public struct TikTokAdvertiser: LenientDecodable {
    @LenientText public var advertiserID: String?
    @Lenient public var advertiserName: String?
    @Lenient public var currency: String?
    @Lenient public var timezone: String?
    public init() {}

    enum CodingKeys: String, CodingKey {
        case advertiserID = "advertiser_id", advertiserName = "advertiser_name", currency, timezone
    }
}

/// One `report/integrated/get/` row: the ids asked for as dimensions, the rest as metrics (strings).
public struct TikTokReportItem: LenientDecodable {
    @Lenient public var dimensions: Fields?
    @Lenient public var metrics: Fields?
    public init() {}

    public struct Fields: LenientDecodable {
        @Lenient public var statTimeDay: String?
        @LenientText public var campaignID: String?
        @Lenient public var campaignName: String?
        @LenientText public var adgroupID: String?
        @Lenient public var adgroupName: String?
        @LenientText public var adID: String?
        @Lenient public var adName: String?
        @LenientText public var impressions: String?
        @LenientText public var clicks: String?
        @LenientText public var spend: String?
        public init() {}

        enum CodingKeys: String, CodingKey {
            case statTimeDay = "stat_time_day", campaignID = "campaign_id", campaignName = "campaign_name", adgroupID = "adgroup_id"
            case adgroupName = "adgroup_name", adID = "ad_id", adName = "ad_name", impressions, clicks, spend
        }
    }
}

/// A `data` nothing is read from (event/track, revoke).
public struct TikTokNoData: LenientDecodable {
    public init() {}
}

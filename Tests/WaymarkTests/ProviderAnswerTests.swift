import Deliveries
import Foundation
import Integrations
import Testing

/// Provider answers read from samples and from hostile ones: a wrong type or a missing field
/// reads as absent and gives the failure it gave before, never a trap. No network.
struct ProviderAnswerTests {
    static func judge(_ key: String, _ status: Int, _ body: String) -> ProviderFailure? {
        ProviderBodyTests.providers[key]!.judgePush(status: status, body: body)
    }

    static func text(_ failure: ProviderFailure?) -> String? { failure.map { "\($0.kind): \($0.message)" } }

    @Test func googleRowsReadIDsAsTextAndSkipRowsWithoutADay() throws {
        let text = """
            [{"results": [{"campaign": {"id": "111", "name": "C"}, "adGroup": {"id": 1111, "name": "G"},
              "adGroupCriterion": {"criterionId": "11119", "keyword": {"matchType": "EXACT"}},
              "metrics": {"impressions": "10", "clicks": "2", "costMicros": "1500000"}, "segments": {"date": "2026-01-01"}},
             {"campaign": {"id": "222"}, "segments": {"date": 20260101}},
             {"campaign": "nope", "segments": {"date": "2026-01-02"}}]}, {"results": "nope"}, {}]
            """
        let batches = try #require(ProviderJSON.decode([GoogleSearchBatch].self, from: text))
        let rows = batches.flatMap { $0.results ?? [] }.compactMap { GoogleAdsProvider.metricRow($0, level: "keyword") }
        #expect(rows.count == 1)
        #expect(rows.first?.campaignID == "111" && rows.first?.adGroupID == "1111" && rows.first?.cost == "1.5")
        #expect(rows.first?.keyword == "11119 [EXACT]" && rows.first?.impressions == 10 && rows.first?.clicks == 2)
        #expect(ProviderJSON.decode([GoogleSearchBatch].self, from: #"[{"results": []}, 3]"#) == nil)
        #expect(ProviderJSON.decode([GoogleSearchBatch].self, from: "<html>") == nil)
    }

    @Test func googleErrorsKeepTheirKindAndText() {
        let body = """
            {"error": {"code": 401, "message": "Request is missing required authentication credential.", "status": "UNAUTHENTICATED",
              "details": [{"errors": [{"errorCode": {"authenticationError": "NOT_ADS_USER"}, "message": "m"}]}]}}
            """
        let failure = GoogleAdsProvider.failure(ProviderAnswer(status: 401, text: body))
        #expect(failure.kind == .authorization)
        #expect(
            failure.message == "Google Ads 401 authenticationError: NOT_ADS_USER Request is missing required authentication credential.")
        let quotaBody = #"{"error": {"status": "RESOURCE_EXHAUSTED"}}"#
        let quota = GoogleAdsProvider.failure(ProviderAnswer(status: 429, text: quotaBody))
        #expect(quota.kind == .rateLimited && quota.message == "Google Ads 429 RESOURCE_EXHAUSTED " + quotaBody)
        let html = GoogleAdsProvider.failure(ProviderAnswer(status: 502, text: "<html>bad gateway</html>"))
        #expect(html.kind == .temporary && html.message == "Google Ads 502  <html>bad gateway</html>")
        let token = ProviderJSON.shape(
            GoogleTokenAnswer.self, from: #"{"access_token": 5, "expires_in": "3600", "error": "invalid_grant"}"#)
        #expect(token.accessToken == nil && token.expiresIn == nil && token.error == "invalid_grant")
        #expect(Self.judge("google_ads", 200, #"{"partialFailureError": {"message": "too old"}}"#)?.message == "partial failure: too old")
        #expect(Self.judge("google_ads", 200, #"{"partialFailureError": null, "results": [{}]}"#) == nil)
        #expect(Self.judge("google_ads", 200, "") == nil)
        #expect(Self.judge("google_ads", 401, #"{"error": {"message": "expired"}}"#)?.kind == .authorization)
    }

    @Test func metaAnswersAndErrors() throws {
        let page = ProviderJSON.shape(
            MetaPage<MetaInsightsRow>.self,
            from: """
                {"data": [{"date_start": "2026-01-01", "campaign_id": "23850", "adset_id": 23860, "ad_id": "23870", "ad_name": "A",
                  "spend": "12.3", "impressions": "100", "clicks": "7"}], "paging": {"next": "https://graph.facebook.com/x"}}
                """)
        let row = try #require(page.data?.first.flatMap { MetaProvider.metricRow($0, level: "ad") })
        #expect(row.adGroupID == "23860" && row.adID == "23870" && row.cost == "12.3" && row.impressions == 100 && row.clicks == 7)
        #expect(MetaProvider.metricRow(page.data![0], level: "campaign")?.adGroupID == "")
        #expect(page.paging?.next == "https://graph.facebook.com/x")
        #expect(ProviderJSON.shape(MetaPage<MetaInsightsRow>.self, from: #"{"data": {"a": 1}}"#).data == nil)
        let cases: [(String, Int, ProviderFailure.Kind)] = [
            (#"{"error": {"code": 190, "message": "expired"}}"#, 400, .authorization),
            (#"{"error": {"code": 80004}}"#, 400, .rateLimited), (#"{"error": {"code": 2}}"#, 500, .temporary),
            (#"{"error": {"code": "190"}}"#, 500, .temporary), (#"{"error": {"code": 100}}"#, 400, .rejected),
        ]
        for (body, status, kind) in cases { #expect(Self.judge("meta", status, body)?.kind == kind, "\(body)") }
        #expect(Self.judge("meta", 400, #"{"error": {"code": 190, "message": "expired"}}"#)?.message == "Meta error 190: expired")
        #expect(Self.judge("meta", 200, #"{"error": "text"}"#) == nil)
        #expect(Self.text(Self.judge("meta", 503, "")) == "temporary: HTTP 503")
        let debug = ProviderJSON.shape(MetaDebugToken.self, from: #"{"data": {"is_valid": true, "expires_at": 1767225600}}"#)
        #expect(debug.data?.isValid == true && debug.data?.expiresAt == 1_767_225_600)
    }

    @Test func tiktokEnvelopeCodes() throws {
        #expect(TikTokProvider.failure(200, code: 0, message: "OK") == nil)
        #expect(TikTokProvider.failure(200, code: 40105, message: "revoked")?.kind == .authorization)
        #expect(TikTokProvider.failure(200, code: 40100, message: nil)?.kind == .rateLimited)
        #expect(Self.text(TikTokProvider.failure(200, code: nil, message: nil)) == "temporary: TikTok answered without a code")
        #expect(TikTokProvider.failure(500, code: 0, message: nil)?.kind == .temporary)
        #expect(Self.judge("tiktok", 200, #"{"code": "0", "data": {}}"#)?.kind == .temporary)
        #expect(Self.judge("tiktok", 200, #"{"code": 0, "message": "OK", "data": []}"#) == nil)
        #expect(Self.text(Self.judge("tiktok", 200, #"{"code": 50000, "message": "busy"}"#)) == "temporary: TikTok code 50000: busy")
        let data = ProviderJSON.shape(
            TikTokEnvelope<TikTokList<TikTokReportItem>>.self,
            from: """
                {"code": 0, "data": {"list": [{"dimensions": {"adgroup_id": "1782", "stat_time_day": "2026-01-01 00:00:00"},
                  "metrics": {"campaign_id": 1781, "campaign_name": "C", "adgroup_name": "G", "spend": "1.50", "impressions": "9",
                  "clicks": "x"}}], "page_info": {"total_page": 3}}}
                """
        ).data
        let row = try #require(data?.list?.first.flatMap { TikTokProvider.metricRow($0, level: "ad_group") })
        #expect(row.day == "2026-01-01" && row.campaignID == "1781" && row.adGroupID == "1782" && row.cost == "1.50")
        #expect(row.impressions == 9 && row.clicks == 0)
        #expect(LenientNumber.int(data?.pageInfo?.totalPage) == 3)
        #expect(TikTokProvider.metricRow(TikTokReportItem(), level: "campaign") == nil)
    }

    @Test func ga4ValidationAndPushAnswers() {
        let messages = ProviderJSON.shape(
            GA4Validation.self, from: #"{"validationMessages": [{"validationCode": "NAME_INVALID", "description": "bad"}]}"#
        ).validationMessages
        #expect(messages?.first?.validationCode == "NAME_INVALID" && messages?.first?.description == "bad")
        #expect(ProviderJSON.shape(GA4Validation.self, from: #"{"validationMessages": [1]}"#).validationMessages == nil)
        #expect(Self.judge("ga4", 204, "") == nil)
        #expect(Self.judge("ga4", 429, "")?.kind == .temporary)
        #expect(Self.judge("ga4", 400, "")?.kind == .rejected)
    }
}

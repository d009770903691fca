import Foundation
import Reports
import Testing
import Web

/// Decoding report rows, padding them and the API's JSON shape, without a database.
@Suite struct ReportRowTests {
    func decoder(_ groups: [ReportRequest.Group], params: [String] = []) throws -> ReportRowDecoder {
        var query = "group_by=" + groups.map(\.key).joined(separator: ",")
        query += "&from=2026-01-01"
        let r = try ReportRequest(Request(method: "GET", path: "/", query: query), defaults: (tz: "UTC", currency: "USD"))
        return ReportRowDecoder(
            groups: groups, plan: ReportPlan(r, wholeHours: true, slots: [:]), sourceNames: [3: "Meta"], campaignNames: [9: "Spring"])
    }

    @Test(arguments: [
        ("1.5", 2, "1.50"), ("2", 2, "2.00"), ("-0.125", 2, "-0.13"), ("1234.56789", 4, "1234.5679"), ("7.6", 0, "8"),
        ("0.1", 4, "0.1000"), ("0", 2, "0.00"), ("-3", 1, "-3.0"), ("99.995", 2, "100.00"),
        ("12345678901234567.5", 2, "12345678901234567.50"),
    ])
    func metricTextIsRoundedAndPadded(_ value: String, _ places: Int, _ text: String) {
        #expect(Metrics.text(Decimal(string: value)!, places: places) == text)
    }

    @Test func dimensionsAreNamedAndNullsLeftOut() throws {
        let row = try decoder([.trafficSource, .campaign, .param("zone"), .hour]).row { column in
            ["d_source": "3", "d_campaign": nil, "d_p0": "z1", "d_hour": "2026-03-29 01:00:00", "d_offset": "3600", "clicks": "4"][column]
                ?? nil
        }
        #expect(row.dimensions["traffic_source_id"] == .id(3))
        #expect(row.dimensions["traffic_source_name"] == .text("Meta"))
        #expect(row.dimensions["campaign_id"] == nil)
        #expect(row.dimensions["campaign_name"] == .text("(unassigned)"))
        #expect(row.dimensions["zone"] == .text("z1"))
        #expect(row.dimensions["hour"] == .text("2026-03-29T01:00:00+01:00"))
        #expect(row.labels == ["Meta", "(unassigned)", "z1", "2026-03-29T01:00:00+01:00"])
        #expect(row.sums.clicks == 4 && row.sums.cost == 0)
    }

    @Test func missingValuesGetTheirLabels() throws {
        let row = try decoder([.day, .hour, .country, .event]).row { _ in nil }
        #expect(row.dimensions.isEmpty)
        #expect(row.labels == ["", "(daily spend)", "(unassigned)", "(no event)"])
    }

    @Test func flowDimensionsAreNamedAndNullWhereAClickHadNone() throws {
        let r = try ReportRequest(
            Request(method: "GET", path: "/", query: "from=2026-01-01&group_by=flow,path,lander,offer"),
            defaults: (tz: "UTC", currency: "USD"))
        let names = FlowNames(flows: [7: "Geo split"], paths: [7: ["DE mobile", "Default"]], landers: [3: "Quiz"], offers: [5: "Dating"])
        let decoder = ReportRowDecoder(
            groups: r.groups, plan: ReportPlan(r, wholeHours: true, slots: [:]), sourceNames: [:], campaignNames: [:], flowNames: names)
        let row = decoder.row { column in
            ["d_flow": "7", "d_pflow": "7", "d_path": "1", "d_lander": "3", "d_offer": nil, "lander_views": "9", "lander_clicks": "4"][
                column]
                ?? nil
        }
        #expect(row.dimensions["flow_id"] == .id(7) && row.dimensions["flow_name"] == .text("Geo split"))
        #expect(row.dimensions["path"] == .text("Default"))
        #expect(row.dimensions["lander_id"] == .id(3) && row.dimensions["lander_name"] == .text("Quiz"))
        #expect(row.dimensions["offer_id"] == .null && row.dimensions["offer_name"] == .null)
        #expect(row.labels == ["Geo split", "Default", "Quiz", "(no offer)"])
        #expect(row.sums.landerViews == 9 && row.sums.landerClicks == 4)
        #expect(Metrics.value(Metrics.byKey["lander_ctr"]!, row.sums) == .ratio(44.44))
        #expect(Metrics.value(Metrics.byKey["lander_ctr"]!, Metrics.Sums()) == .null)
        let none = decoder.row { column in ["d_path": "4", "d_pflow": "7"][column] ?? nil }
        #expect(none.dimensions["flow_id"] == .null && none.dimensions["path"] == .text("Path 5"))
        // The API shows the nulls as keys with no value.
        let json = String(decoding: try JSONEncoder().encode(ReportAnswer.Row(none)), as: UTF8.self)
        #expect(json.contains(#""lander_id":null"#) && json.contains(#""lander_ctr":null"#), "\(json)")
    }

    @Test func hourTextCarriesTheOffset() {
        #expect(ReportRowDecoder.hourText("2026-01-01 05:00:00", offset: "-16200") == "2026-01-01T05:00:00-04:30")
        #expect(ReportRowDecoder.hourText(nil, offset: "0") == nil)
    }

    @Test func sourcesWithoutDataArePaddedOnce() {
        let rows = [ReportRow(dimensions: ["traffic_source_id": .id(1)], sums: Metrics.Sums(), labels: ["A"])]
        let padded = ReportPadding.sourceRows(missingFrom: rows, all: [(id: 1, name: "A"), (id: 2, name: "B")])
        #expect(padded.count == 1)
        #expect(padded[0].dimensions == ["traffic_source_id": .id(2), "traffic_source_name": .text("B")])
        #expect(padded[0].labels == ["B"])
    }

    @Test func campaignsArePaddedOnlyWhenVisible() {
        let padded = ReportPadding.campaignRows(
            missingFrom: [], all: [(id: 1, name: "Seen"), (id: 2, name: "Hidden")], visible: [1: "Seen"])
        #expect(padded.map(\.labels) == [["Seen"]])
    }

    @Test func everyDayOfThePeriodIsInTheSeries() {
        let days = ReportPadding.days("2026-02-27", "2026-03-02")
        #expect(days == ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"])
        #expect(ReportPadding.series(days: days, values: ["2026-02-28": 5]) == [0, 5, 0, 0])
        #expect(ReportPadding.days("2026-03-02", "2026-03-01").isEmpty)
        #expect(ReportPadding.days("2025-01-01", "2026-12-31").count == 400)
    }

    @Test func theAnswerKeepsNullMetricsAndLeavesOutEmptyWarnings() throws {
        var sums = Metrics.Sums()
        sums.clicks = 3
        sums.revenue = 1.5
        let r = try ReportRequest(Request(method: "GET", path: "/", query: "from=2026-01-01"), defaults: (tz: "UTC", currency: "EUR"))
        let row = ReportRow(dimensions: ["traffic_source_id": .id(2), "clicks": .text("dimension wins")], sums: sums, labels: [])
        let result = ReportResult(request: r, rows: [row], totals: sums, warnings: [])
        let json = String(decoding: try JSONCoding.encoder.encode(ReportAnswer(result)), as: UTF8.self)
        #expect(
            json.hasPrefix(
                #"{"currency":"EUR","rows":[{"bot_clicks":0,"clicks":"dimension wins","conversions":0,"cost":"0.0000","cpa":null"#))
        #expect(json.contains(#""epc":"0.5000""#) && json.contains(#""roi":null"#) && json.contains(#""traffic_source_id":2"#))
        #expect(json.contains(#""totals":{"bot_clicks":0,"clicks":3,"#) && json.hasSuffix(#""tz":"UTC"}"#))
        #expect(!json.contains("warnings"))
        let warned = ReportResult(request: r, rows: [], totals: sums, warnings: ["no rate"])
        #expect(String(decoding: try JSONCoding.encoder.encode(ReportAnswer(warned)), as: UTF8.self).contains(#""warnings":["no rate"]"#))
    }

    @Test func ratiosAreNumbersWithTwoPlaces() {
        var sums = Metrics.Sums()
        sums.clicks = 3
        sums.conversions = 1
        #expect(Metrics.value(Metrics.byKey["cr"]!, sums) == .ratio(33.33))
        #expect(Metrics.value(Metrics.byKey["cpa"]!, sums) == .money("0.0000"))
        #expect(Metrics.value(Metrics.byKey["ctr"]!, sums) == .null)
    }
}

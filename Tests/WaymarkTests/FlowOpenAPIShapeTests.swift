import Catalog
import Foundation
import Testing
import Web

/// Offers, landers and flows as `Response.json` writes them, against docs/openapi.json.
struct FlowOpenAPIShapeTests {
    static let at = Date(timeIntervalSince1970: 1_790_000_000)

    func expectShape(_ value: some Encodable, _ method: String, _ path: String, _ status: String = "200") throws {
        let checker = try OpenAPIShapeTests.checker.get()
        let response = Response.json(value)
        let pointer = checker.answer(method, path, status)
        let problems = checker.problems(response.body, against: pointer)
        #expect(problems.isEmpty, "\(type(of: value)) against \(pointer):\n\(problems.joined(separator: "\n"))")
    }

    @Test func offers() throws {
        for (workspace, network, cap) in [(nil, nil, nil), (Int64(3), "MaxBounty", 50)] as [(Int64?, String?, Int?)] {
            let offer = Offer(
                id: 7, workspaceID: workspace, name: "O", url: "https://o.example/?s={clickid}", payout: "1.50", currency: "USD",
                affiliateNetwork: network, dailyCap: cap, status: "active", createdAt: Self.at, updatedAt: Self.at)
            try expectShape(OfferJSON(offer), "GET", "/api/v1/offers/{id}")
            try expectShape(OfferJSON(offer), "POST", "/api/v1/offers", "201")
        }
    }

    @Test func landers() throws {
        let lander = Lander(
            id: 3, workspaceID: nil, name: "L", url: "https://l.example/", offersCount: 2, status: "paused", createdAt: Self.at,
            updatedAt: Self.at)
        try expectShape(LanderJSON(lander), "GET", "/api/v1/landers/{id}")
        try expectShape(LanderJSON(lander), "PATCH", "/api/v1/landers/{id}")
    }

    @Test func flows() throws {
        let paths = [
            FlowPath(
                name: "DE", rules: [FlowRule(field: "country", op: "in", values: ["DE"])], landers: [.init(id: 1, weight: 1)],
                offers: [.init(id: 2, weight: 3)]),
            FlowPath(name: "Default", rules: [], landers: [], offers: [.init(id: 2, weight: 1)]),
        ]
        let flow = Flow(id: 9, workspaceID: 4, name: "F", paths: paths, createdAt: Self.at, updatedAt: Self.at)
        try expectShape(FlowJSON(flow), "GET", "/api/v1/flows/{id}")
        try expectShape(FlowJSON(flow), "POST", "/api/v1/flows", "201")
        let body = String(decoding: Response.json(FlowJSON(flow)).body, as: UTF8.self)
        #expect(body.contains(#""landers":[{"lander_id":1,"weight":1}]"#) && body.contains(#""offers":[{"offer_id":2,"weight":3}]"#))
    }
}

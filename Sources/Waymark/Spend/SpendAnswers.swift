import Spend

/// `POST /api/v1/spend` when a row is not valid (422): nothing was stored.
struct SpendRejected: Encodable {
    struct Problem: Encodable {
        var code: String
        var message: String
    }

    var error: Problem
    var errors: [SpendRowError]
}

/// `POST /api/v1/spend` once stored.
struct SpendStored: Encodable {
    var stored: Int
    var created: Int
    var replaced: Int
}

/// `GET /api/v1/spend`: a page of entries and the totals of the whole filter, per currency.
struct SpendList: Encodable {
    var data: [SpendRow]
    var nextCursor: String?
    var totals: [String: String]

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(data, forKey: .data)
        try c.encode(nextCursor, forKey: .nextCursor)  // null, not absent
        try c.encode(totals, forKey: .totals)
    }

    enum CodingKeys: String, CodingKey { case data, nextCursor, totals }
}

/// Run now's answer while the worker still runs it (202).
struct SpendFeedQueued: Encodable {
    var status = "queued"
}

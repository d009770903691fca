// Target `spend-json`: the JSON body of POST /api/v1/spend, read as the route reads it
// (Request.jsonObject, then SpendInput.fromJSON).
import Foundation
import Web

@testable import Waymark

@_cdecl("LLVMFuzzerTestOneInput") public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Fuzz.run(data, size, warmUp: [#"{"entries":[{"date":"2026-11-20","traffic_source_id":1,"amount":"1.5","currency":"USD"}]}"#]) { bytes in
        let request = Request(method: "POST", path: "/api/v1/spend", headers: ["content-type": "application/json"], body: bytes)
        guard let object = try? request.jsonObject(), let rows = try? SpendInput.fromJSON(object) else { return }
        let entries = object["entries"] as? [Any]
        Fuzz.require(entries?.count == rows.count, "\(rows.count) rows from \(entries?.count ?? -1) entries")
        Fuzz.require(rows.map(\.row) == (0..<rows.count).map { $0 + 1 }, "rows are not numbered 1…n")
        for (row, entry) in zip(rows, entries ?? []) {
            let e = entry as? [String: Any] ?? [:]
            let dimensions = e["dimensions"] as? [String: Any] ?? [:]
            Fuzz.require(row.dimensions.count == dimensions.count, "row \(row.row) lost dimensions")
            if let date = e["date"] as? String { Fuzz.require(row.date == date, "row \(row.row): date changed") }
        }
    }
}

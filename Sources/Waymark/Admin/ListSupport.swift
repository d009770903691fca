import Foundation
import Spend
import Web

/// A page of an API list: `{"data":[…],"next_cursor":…}`.
struct Page<Item: Encodable>: Encodable {
    var data: [Item]
    var nextCursor: String?

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(data, forKey: .data)
        try c.encode(nextCursor, forKey: .nextCursor)  // null, not absent
    }

    enum CodingKeys: String, CodingKey { case data, nextCursor }
}

/// `limit` (1–500, default 100) and `cursor` (the last id of the previous page) of API lists.
struct Paging {
    var limit: Int
    var after: Int64

    init(_ request: Request) throws(HTTPError) {
        let limitText = request.queryValue("limit") ?? "100"
        guard let limit = Int(limitText), (1...500).contains(limit) else {
            throw HTTPError(
                400, code: "invalid_parameter", message: "limit must be a whole number from 1 to 500", fields: ["limit": "must be 1 to 500"]
            )
        }
        let cursorText = request.queryValue("cursor") ?? ""
        guard cursorText.isEmpty || (cursorText.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } && Int64(cursorText) != nil) else {
            throw HTTPError(
                400, code: "invalid_parameter", message: "cursor is not one this API gave out", fields: ["cursor": "is not valid"])
        }
        self.limit = limit
        after = Int64(cursorText) ?? 0
    }

    /// The items after the cursor (in id order), up to the limit, and the next cursor.
    func slice<T>(_ items: [T], id: (T) -> Int64) -> (page: [T], next: String?) {
        let rest = items.filter { id($0) > after }.sorted { id($0) < id($1) }
        let page = Array(rest.prefix(limit))
        return (page, rest.count > limit ? page.last.map { String(id($0)) } : nil)
    }

    /// `{"data":[…],"next_cursor":…}` from loose JSON items.
    func response<T>(_ items: [T], id: (T) -> Int64, json: (T) -> [String: Any]) -> Response {
        let (page, next) = slice(items, id: id)
        return .jsonObject(["data": page.map(json), "next_cursor": next.map { $0 as Any } ?? NSNull()])
    }
}

/// The sort of an HTML table from `?sort=column&dir=asc|desc`, and its header links.
struct SortOrder {
    var column: String
    var ascending: Bool

    init(_ request: Request, allowed: Set<String>, default column: String) {
        let asked = request.queryValue("sort") ?? column
        self.column = allowed.contains(asked) ? asked : column
        ascending = request.queryValue("dir") != "desc"
    }

    func ordered<T: Comparable>(_ a: T, _ b: T) -> Bool { ascending ? a < b : a > b }

    func headers(_ columns: [(String, String)]) -> [[String: Any]] {
        columns.map { key, label in
            let active = key == column
            let dir = active && ascending ? "desc" : "asc"
            return ["label": label, "href": "?sort=\(key)&dir=\(dir)", "active": active, "arrow": active ? (ascending ? "▲" : "▼") : ""]
        }
    }
}

import Foundation
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

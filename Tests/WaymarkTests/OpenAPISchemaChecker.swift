import Foundation
import Web

/// A JSON value as an answer carries it: decoded with `JSONDecoder`, so `true` never passes for
/// `1` (JSONSerialization's `NSNumber` cannot tell them apart).
enum JSONValue: Decodable {
    case null, bool(Bool), integer(Int64), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .integer(i)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    /// The JSON Schema type names this value has (an integer is also a number).
    var types: Set<String> {
        switch self {
        case .null: ["null"]
        case .bool: ["boolean"]
        case .integer: ["integer", "number"]
        case .number: ["number"]
        case .string: ["string"]
        case .array: ["array"]
        case .object: ["object"]
        }
    }

    /// The value as an `enum` member of the document compares (strings, numbers, booleans).
    var scalar: String? {
        switch self {
        case .bool(let b): String(b)
        case .integer(let i): String(i)
        case .string(let s): s
        default: nil
        }
    }
}

/// docs/openapi.json, and the checks of a JSON answer against the schema it gives an
/// operation's answer: declared keys only (unless `additionalProperties` allows more), the
/// `required` ones present, JSON types, `null` only where allowed, `enum`, `pattern`, dates.
/// `@unchecked Sendable`: the document is read once in `init` and never changed.
struct OpenAPISchemaChecker: @unchecked Sendable {
    let document: [String: Any]

    /// Found from this file: Tests/WaymarkTests/ → ../../docs/openapi.json.
    init(filePath: String = #filePath) throws {
        let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("docs/openapi.json"))
        document = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// The schema path of an operation's JSON answer, e.g. `#/paths/~1api~1v1~1campaigns/get/responses/200/…/schema`.
    func answer(_ method: String, _ path: String, _ status: String) -> String {
        let escaped = path.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
        return "#/paths/\(escaped)/\(method.lowercased())/responses/\(status)/content/application~1json/schema"
    }

    /// The schema at a JSON pointer (`#/a/b~1c`), or nil.
    func schema(at pointer: String) -> Any? {
        var node: Any? = document
        for part in pointer.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            let key = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            node = (node as? [String: Any])?[key] ?? (node as? [Any]).flatMap { a in Int(key).flatMap { $0 < a.count ? a[$0] : nil } }
        }
        return node
    }

    /// Every problem of `body` (an answer's bytes) against the schema at `pointer`, one line each.
    func problems(_ body: [UInt8], against pointer: String) -> [String] {
        guard schema(at: pointer) != nil else { return ["no schema at \(pointer)"] }
        do {
            return check(try JSONDecoder().decode(JSONValue.self, from: Data(body)), "$", pointer)
        } catch {
            return ["the answer is not JSON: \(String(decoding: body, as: UTF8.self))"]
        }
    }

    func check(_ value: JSONValue, _ at: String, _ pointer: String) -> [String] {
        guard var s = schema(at: pointer) as? [String: Any] else { return ["\(at): no schema at \(pointer)"] }
        var pointer = pointer
        while let ref = s["$ref"] as? String, let target = schema(at: ref) as? [String: Any] {
            (s, pointer) = (target, ref)
        }
        if let all = s["allOf"] as? [Any] {
            return checkAll(value, at, pointer, count: all.count)
        }
        for key in ["anyOf", "oneOf"] {
            guard let branches = s[key] as? [Any] else { continue }
            let tries = branches.indices.map { check(value, at, "\(pointer)/\(key)/\($0)") }
            if tries.contains(where: \.isEmpty) { return [] }
            return ["\(at): matches no branch of \(pointer)/\(key): " + tries.map { $0.joined(separator: "; ") }.joined(separator: " | ")]
        }
        return checkOne(value, at, pointer, s)
    }

    /// `allOf`: the parts' properties, `required` and `additionalProperties` as one object schema.
    func checkAll(_ value: JSONValue, _ at: String, _ pointer: String, count: Int) -> [String] {
        var merged: [String: Any] = ["type": "object"]
        var properties: [String: String] = [:]
        var required: [String] = []
        for i in 0..<count {
            var part = "\(pointer)/allOf/\(i)"
            while let ref = (schema(at: part) as? [String: Any])?["$ref"] as? String { part = ref }
            let s = schema(at: part) as? [String: Any] ?? [:]
            for name in (s["properties"] as? [String: Any] ?? [:]).keys { properties[name] = "\(part)/properties/\(name)" }
            required += s["required"] as? [String] ?? []
            if s["additionalProperties"] != nil, merged["additionalProperties"] == nil {
                merged["additionalProperties"] = "\(part)/additionalProperties"
            }
        }
        merged["required"] = required
        return checkObject(value, at, pointer, merged, properties: properties)
    }

    func checkOne(_ value: JSONValue, _ at: String, _ pointer: String, _ s: [String: Any]) -> [String] {
        let allowed = (s["type"] as? [String]) ?? (s["type"] as? String).map { [$0] + ((s["nullable"] as? Bool) == true ? ["null"] : []) }
        if let allowed, value.types.isDisjoint(with: allowed) {
            let kind = value.types.contains("integer") ? "integer" : value.types.first!
            return ["\(at): is \(kind), but \(pointer) allows \(allowed.joined(separator: "|"))"]
        }
        if let members = s["enum"] as? [Any], let v = value.scalar, !members.contains(where: { "\($0)" == v }) {
            return ["\(at): \(v) is not one of \(pointer)/enum \(members)"]
        }
        switch value {
        case .string(let text):
            if let pattern = s["pattern"] as? String, text.range(of: pattern, options: .regularExpression) == nil {
                return ["\(at): \"\(text)\" does not match \(pointer)/pattern \(pattern)"]
            }
            let format = s["format"] as? String
            if format == "date-time", RFC3339.date(from: text) == nil { return ["\(at): \"\(text)\" is not a \(pointer) date-time"] }
            if format == "date", text.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) == nil {
                return ["\(at): \"\(text)\" is not a \(pointer) date"]
            }
            return []
        case .array(let items):
            guard s["items"] != nil else { return [] }
            return items.indices.flatMap { check(items[$0], "\(at)[\($0)]", "\(pointer)/items") }
        case .object:
            let names = (s["properties"] as? [String: Any] ?? [:]).keys
            var object = s
            if s["additionalProperties"] != nil { object["additionalProperties"] = "\(pointer)/additionalProperties" }
            return checkObject(
                value, at, pointer, object, properties: Dictionary(uniqueKeysWithValues: names.map { ($0, "\(pointer)/properties/\($0)") }))
        default:
            return []
        }
    }

    /// `additionalProperties` in `s` is the pointer to it (its absence means no other key).
    func checkObject(_ value: JSONValue, _ at: String, _ pointer: String, _ s: [String: Any], properties: [String: String]) -> [String] {
        guard case .object(let fields) = value else { return [] }
        var out = (s["required"] as? [String] ?? []).filter { fields[$0] == nil }.sorted().map {
            "\(at): lacks \($0), required by \(pointer)"
        }
        for (key, field) in fields.sorted(by: { $0.key < $1.key }) {
            if let property = properties[key] {
                out += check(field, "\(at).\(key)", property)
            } else if let extra = s["additionalProperties"] as? String, let rule = schema(at: extra) {
                if (rule as? Bool) == false { out.append("\(at).\(key): not declared in \(pointer) (additionalProperties: false)") }
                if rule is [String: Any] { out += check(field, "\(at).\(key)", extra) }
            } else {
                out.append("\(at).\(key): not declared in \(pointer)")
            }
        }
        return out
    }
}

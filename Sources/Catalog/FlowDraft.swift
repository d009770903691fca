import Foundation
import Web

/// What an API body sets on a flow, before it is checked (`FlowValidation`) and stored.
public struct FlowDraft: Sendable, Equatable {
    public var name = ""
    public var workspaceID: Int64?
    public var paths: [FlowPath] = []

    public init() {}

    public init(_ flow: Flow) {
        name = flow.name
        workspaceID = flow.workspaceID
        paths = flow.paths
    }

    /// Applies the JSON fields that are present; type errors go to `reader`, named like
    /// `paths[1].offers[0].weight` (indexes from 0, as in the body).
    public mutating func apply(_ reader: inout FieldReader) {
        if let v = reader.string("name") { name = v }
        if let v = reader.int64("workspace_id") { workspaceID = v }
        guard reader.has("paths") else { return }
        guard let list = reader.array("paths") else {
            reader.fail("paths", "must be a list of paths {name, rules, landers, offers}")
            return
        }
        var errors: [String: String] = [:]
        paths = list.enumerated().map { FlowDraft.path($0.element, index: $0.offset, errors: &errors) }
        for (key, message) in errors.sorted(by: { $0.key < $1.key }) { reader.fail(key, message) }
    }

    /// One path of the body. A bad item keeps its place (with a stand-in value) so the
    /// indexes of the rest, and of their messages, stay those of the body.
    static func path(_ item: Any, index: Int, errors: inout [String: String]) -> FlowPath {
        let key = "paths[\(index)]"
        guard let object = item as? [String: Any] else {
            errors[key] = "must be an object {name, rules, landers, offers}"
            return FlowPath(name: "", rules: [], landers: [], offers: [])
        }
        var name = "Path \(index + 1)"
        if let v = object["name"], !(v is NSNull) {
            if let s = v as? String { name = s } else { errors[key + ".name"] = "must be a string" }
        }
        let rules = list(object, "rules", key, &errors).enumerated().map { rule($0.element, key: "\(key).rules[\($0.offset)]", &errors) }
        let landers = list(object, "landers", key, &errors).enumerated().map {
            weighted($0.element, idKey: "lander_id", key: "\(key).landers[\($0.offset)]", &errors)
        }
        let offers = list(object, "offers", key, &errors).enumerated().map {
            weighted($0.element, idKey: "offer_id", key: "\(key).offers[\($0.offset)]", &errors)
        }
        return FlowPath(name: name, rules: rules, landers: landers, offers: offers)
    }

    /// A list member of a path: absent or null → empty.
    static func list(_ object: [String: Any], _ name: String, _ key: String, _ errors: inout [String: String]) -> [Any] {
        guard let value = object[name], !(value is NSNull) else { return [] }
        guard let list = value as? [Any] else {
            errors["\(key).\(name)"] = "must be a list"
            return []
        }
        return list
    }

    static func rule(_ item: Any, key: String, _ errors: inout [String: String]) -> FlowRule {
        guard let object = item as? [String: Any] else {
            errors[key] = "must be an object {field, op, values}"
            return FlowRule(field: "", op: "", values: [])
        }
        var reader = FieldReader(object)
        let field = reader.string("field") ?? ""
        let op = reader.string("op") ?? ""
        var values: [String] = []
        if let list = reader.array("values") {
            for value in list {
                if let s = value as? String {
                    values.append(s)
                } else if let n = value as? NSNumber, !isJSONBool(n), n.doubleValue == n.doubleValue.rounded(), abs(n.doubleValue) < 1e15 {
                    values.append(String(n.int64Value))
                } else {
                    reader.fail("values", "must be a list of strings")
                }
            }
        } else if reader.has("values") {
            reader.fail("values", "must be a list of strings")
        }
        for (name, message) in reader.errors { errors["\(key).\(name)"] = message }
        return FlowRule(field: field, op: op, values: values)
    }

    /// `{lander_id, weight}` or `{offer_id, weight}`; no weight means 1.
    static func weighted(_ item: Any, idKey: String, key: String, _ errors: inout [String: String]) -> FlowPath.Weighted {
        guard let object = item as? [String: Any] else {
            errors[key] = "must be an object {\(idKey), weight}"
            return FlowPath.Weighted(id: 0, weight: 1)
        }
        var reader = FieldReader(object)
        let id = reader.int64(idKey)
        var weight = 1
        if let w = reader.int64("weight") {
            if let w, let small = Int(exactly: w), abs(small) <= FlowValidation.maxWeight {
                weight = small
            } else {
                reader.fail("weight", "must be a whole number from 1 to \(FlowValidation.maxWeight)")
            }
        }
        if id == nil || id! == nil { reader.fail(idKey, "is required") }
        for (name, message) in reader.errors { errors["\(key).\(name)"] = message }
        return FlowPath.Weighted(id: (id ?? nil) ?? 0, weight: weight)
    }
}

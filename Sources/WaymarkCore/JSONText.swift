import Foundation

/// A JSON value as text: numbers and strings alike (providers send int64 as strings).
public func jsonText(_ value: Any?) -> String? {
    switch value {
    case let s as String: s
    case let n as NSNumber: n.stringValue
    default: nil
    }
}

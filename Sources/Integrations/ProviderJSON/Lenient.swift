import Foundation

/// A provider field that reads as nil when it is missing, null or of another type.
@propertyWrapper
public struct Lenient<Value: Decodable>: Decodable {
    public var wrappedValue: Value?

    public init() { wrappedValue = nil }
    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }
    public init(from decoder: any Decoder) throws {
        wrappedValue = try? decoder.singleValueContainer().decode(Value.self)
    }
}

/// A provider field read as text from a string or a number (providers send int64 ids as
/// strings, some as numbers).
@propertyWrapper
public struct LenientText: Decodable {
    public var wrappedValue: String?

    public init() { wrappedValue = nil }
    public init(from decoder: any Decoder) throws {
        wrappedValue = nil
        guard let value = try? decoder.singleValueContainer(), !value.decodeNil() else { return }
        if let s = try? value.decode(String.self) {
            wrappedValue = s
        } else if let n = try? value.decode(Int64.self) {
            wrappedValue = String(n)
        } else if let n = try? value.decode(UInt64.self) {
            wrappedValue = String(n)
        } else if let n = try? value.decode(Double.self) {
            wrappedValue = "\(n)"
        } else if let b = try? value.decode(Bool.self) {
            wrappedValue = b ? "1" : "0"
        }
    }
}

/// A provider field read as a number, from any JSON number or boolean (true is 1).
@propertyWrapper
public struct LenientNumber: Decodable {
    public var wrappedValue: Double?

    public init() { wrappedValue = nil }
    public init(from decoder: any Decoder) throws {
        let value = try? decoder.singleValueContainer()
        wrappedValue = (try? value?.decode(Double.self)) ?? (try? value?.decode(Bool.self)).map { $0 ? 1 : 0 }
    }

    /// The number as an integer, truncated; nil past Int's range.
    public static func int(_ value: Double?) -> Int? {
        guard let value, value.isFinite, abs(value) < 9e18 else { return nil }
        return Int(value)
    }
}

// A missing key reads as absent rather than failing the whole answer.
extension KeyedDecodingContainer {
    public func decode<V>(_ type: Lenient<V>.Type, forKey key: Key) throws -> Lenient<V> {
        Lenient(wrappedValue: (try? decodeIfPresent(V.self, forKey: key)) ?? nil)
    }

    public func decode(_ type: LenientText.Type, forKey key: Key) throws -> LenientText {
        (try? decodeIfPresent(LenientText.self, forKey: key)) ?? LenientText()
    }

    public func decode(_ type: LenientNumber.Type, forKey key: Key) throws -> LenientNumber {
        (try? decodeIfPresent(LenientNumber.self, forKey: key)) ?? LenientNumber()
    }
}

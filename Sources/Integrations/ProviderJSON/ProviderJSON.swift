import Foundation

/// The JSON coding of provider calls: keys exactly as each type's CodingKeys spell them (providers
/// mix camelCase and snake_case, so no key strategy), sorted, slashes unescaped.
public enum ProviderJSON {
    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// A push body as queued text.
    public static func text(_ value: some Encodable) throws -> String {
        String(decoding: try encode(value), as: UTF8.self)
    }

    /// The value, or nil when the text is not JSON of that shape (never throws, never traps).
    public static func decode<T: Decodable>(_ type: T.Type, from text: String) -> T? {
        text.isEmpty ? nil : try? JSONDecoder().decode(type, from: Data(text.utf8))
    }

    /// The value, or the empty one when the text is not a JSON object of that shape.
    public static func shape<T: LenientDecodable>(_ type: T.Type, from text: String) -> T {
        decode(type, from: text) ?? T()
    }
}

/// A provider answer whose every field is optional and read leniently (`@Lenient`): a missing or
/// mistyped field reads as absent and never fails the whole answer (hostile input stays harmless).
public protocol LenientDecodable: Decodable {
    init()
}

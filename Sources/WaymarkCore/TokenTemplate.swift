import Web

/// A URL with `{name}` tokens (letters, digits, `_`, `-`), parsed once so filling it per click
/// is a walk over ready-made pieces. `{{…}}` (a platform's own macro syntax) and a `{` that
/// opens no token stay as they are. Values are URL-encoded when filled in.
public struct TokenTemplate: Sendable {
    public enum Piece: Sendable {
        case text(String)
        case token(String)
    }
    public let pieces: [Piece]
    public let length: Int

    public init(_ template: String) {
        var pieces: [Piece] = []
        let bytes = Array(template.utf8)
        var literalStart = 0
        var i = 0
        func flush(upTo end: Int) {
            if end > literalStart { pieces.append(.text(String(decoding: bytes[literalStart..<end], as: UTF8.self))) }
        }
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "{") else {
                i += 1
                continue
            }
            if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "{"), let end = TokenTemplate.find("}}", in: bytes, from: i + 2) {
                i = end + 2  // a platform macro: stays literal
                continue
            }
            var close = i + 1
            while close < bytes.count, TokenTemplate.isNameByte(bytes[close]) { close += 1 }
            if close > i + 1, close < bytes.count, bytes[close] == UInt8(ascii: "}") {
                flush(upTo: i)
                pieces.append(.token(String(decoding: bytes[(i + 1)..<close], as: UTF8.self)))
                i = close + 1
                literalStart = i
            } else {
                i += 1
            }
        }
        flush(upTo: bytes.count)
        self.pieces = pieces
        self.length = bytes.count
    }

    /// The template with each token replaced by `URLEncoding.encode(value(name))`.
    public func render(_ value: (String) -> String) -> String {
        var out = ""
        out.reserveCapacity(length + 64)
        for piece in pieces {
            switch piece {
            case .text(let text): out += text
            case .token(let name): out += URLEncoding.encode(value(name))
            }
        }
        return out
    }

    /// Token names in order of appearance.
    public var tokens: [String] {
        pieces.compactMap { if case .token(let name) = $0 { name } else { nil } }
    }

    public static func isNameByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
    }

    public static func find(_ needle: StaticString, in bytes: [UInt8], from start: Int) -> Int? {
        let n = needle.utf8CodeUnitCount
        guard n > 0, bytes.count >= n else { return nil }
        var i = start
        while i + n <= bytes.count {
            if (0..<n).allSatisfy({ bytes[i + $0] == needle.utf8Start[$0] }) { return i }
            i += 1
        }
        return nil
    }
}

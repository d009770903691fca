import Foundation

extension String {
    public var nilIfEmpty: String? { isEmpty ? nil : self }

    /// Without leading and trailing spaces and tabs (and Unicode's other space separators), as
    /// `trimmingCharacters(in: .whitespaces)`, which it calls only when an end is not plain
    /// ASCII: bridging to Foundation for each of a postback's fields was most of the 8 % of the
    /// responder's time per postback that reading its fields took. For the hot paths (postback
    /// fields, a click's values); elsewhere Foundation's is as good.
    public var trimmingSpaces: String {
        guard let first = utf8.first, let last = utf8.last else { return self }
        let plain: ClosedRange<UInt8> = 0x21...0x7E
        if plain.contains(first) && plain.contains(last) { return self }
        return trimmingCharacters(in: .whitespaces)
    }
}

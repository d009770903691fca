import Web

// Target `token-template`: destination and postback URL templates (TokenTemplate). Input: the
// template, LF, then LF-separated values handed out to its tokens.
@testable import Waymark

@_cdecl("LLVMFuzzerTestOneInput") public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Fuzz.run(data, size, warmUp: ["https://x.example/?c={clickid}&s={sub1}\nabc"]) { bytes in
        let (head, rest) = Fuzz.splitFirstLine(bytes)
        let template = String(decoding: head ?? bytes, as: UTF8.self)
        let values =
            head == nil ? [] : rest.split(separator: 10, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        let parsed = TokenTemplate(template)

        // Parsing loses nothing: the pieces, tokens written back as {name}, are the template.
        var rebuilt = ""
        for piece in parsed.pieces {
            switch piece {
            case .text(let text): rebuilt += text
            case .token(let name): rebuilt += "{" + name + "}"
            }
        }
        Fuzz.require(rebuilt == template, "pieces do not add up to the template")
        for name in parsed.tokens {
            Fuzz.require(!name.isEmpty && name.utf8.allSatisfy(TokenTemplate.isNameByte), "token name \(name.debugDescription)")
        }

        // Filled values are URL-encoded: whatever they hold, no CR, LF or NUL gets in.
        var next = 0
        let rendered = parsed.render { _ in
            defer { next += 1 }
            return values.isEmpty ? "\r\n\u{0}" : values[next % values.count]
        }
        let literal = parsed.pieces.reduce(into: [UInt8]()) { if case .text(let t) = $1 { $0 += Array(t.utf8) } }
        func controls(_ b: some Sequence<UInt8>) -> Int { b.reduce(0) { $0 + ($1 == 10 || $1 == 13 || $1 == 0 ? 1 : 0) } }
        Fuzz.require(controls(rendered.utf8) == controls(literal), "a value brought CR, LF or NUL into \(rendered.debugDescription)")

        // Empty values leave exactly the literal text.
        Fuzz.require(Array(parsed.render { _ in "" }.utf8) == literal, "empty values do not leave the literal text")
    }
}

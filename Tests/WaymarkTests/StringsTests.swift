import Foundation
import Testing
import WaymarkCore

@Suite struct StringsTests {
    /// The same as Foundation's trimming of `.whitespaces`, with or without its shortcut.
    @Test func trimmingSpacesIsFoundationsTrimmingOfWhitespaces() {
        let samples = [
            "", "a", "abc", " a", "a ", "\ta b\t", "  ", "\u{00A0}x\u{3000}", "x\n", "\ny", "é", " é ", "\u{1}z", "~", "a\u{2009}",
        ]
        for s in samples {
            #expect(s.trimmingSpaces == s.trimmingCharacters(in: .whitespaces), "\(Array(s.unicodeScalars))")
        }
        #expect(" 1.50 ".trimmingSpaces == "1.50")
        #expect("x\n".trimmingSpaces == "x\n")
    }
}

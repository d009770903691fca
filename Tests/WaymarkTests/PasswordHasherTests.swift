import Accounts
import Foundation
import Testing
import Waymark
import WaymarkCore

@Suite struct PasswordHasherTests {
    @Test func verifiesTheRightPasswordOnly() throws {
        let hash = try PasswordHasher.hash("correct horse battery", logN: 10)
        #expect(hash.hasPrefix("scrypt$10$8$1$"))
        #expect(PasswordHasher.verify("correct horse battery", against: hash))
        #expect(!PasswordHasher.verify("correct horse batterY", against: hash))
        #expect(!PasswordHasher.verify("correct horse battery", against: "scrypt$10$8$1$garbage"))
        #expect(!PasswordHasher.verify("x", against: "plain"))
    }

    @Test func saltsEveryHash() throws {
        #expect(try PasswordHasher.hash("same", logN: 10) != PasswordHasher.hash("same", logN: 10))
    }

    @Test func randomTokensAreURLSafe() {
        let token = RandomToken.base64URL(bytes: 32)
        #expect(token.count == 43)
        #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(RandomToken.base64URL(bytes: 32) != token)
    }

    @Test func base64URLRoundTripsEveryLength() {
        for length in 0..<40 {
            let bytes = RandomToken.bytes(length)
            let text = Base64URL.encode(bytes)
            #expect(
                text
                    == Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                    .replacingOccurrences(of: "=", with: ""))
            #expect(Base64URL.decode(text) == bytes)
        }
        #expect(Base64URL.decode("a") == nil)
        #expect(Base64URL.decode("ab+c") == nil)
    }
}

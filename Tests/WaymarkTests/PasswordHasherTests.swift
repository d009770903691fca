import Testing
import Waymark

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
}

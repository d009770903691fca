/// Parameter names: lower-case slugs, safe as query names and as report keys.
public enum Slug {
    public static func isValid(_ s: String) -> Bool {
        guard let first = s.first, (1...64).contains(s.count), first.isASCII, first.isLowercase || first.isNumber else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-") }
    }
}

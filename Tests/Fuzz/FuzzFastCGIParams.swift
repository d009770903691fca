import FastCGI
import Foundation

@testable import Web

// Target `fastcgi-params`: FastCGI parameters as the responder reads them. The input is the
// content of a PARAMS stream (FastCGI 1.0 name-value pairs: 1- or 4-byte lengths, then name and
// value); it is laid out as libfcgi lays it out (`NAME=value` C strings in a NULL-terminated
// array), decoded by FastCGIParams.decode, and then read by Web's Request(fastCGI:) (method,
// path, query string, headers, cookies) as every request is.
#if canImport(Glibc)
    import Glibc
#endif

/// The pairs of a PARAMS stream; a truncated last pair is dropped (libfcgi refuses the request).
func nameValuePairs(_ bytes: [UInt8]) -> [([UInt8], [UInt8])] {
    var pairs: [([UInt8], [UInt8])] = []
    var i = 0
    func length() -> Int? {
        guard i < bytes.count else { return nil }
        if bytes[i] & 0x80 == 0 {
            i += 1
            return Int(bytes[i - 1])
        }
        guard i + 4 <= bytes.count else { return nil }
        let n = Int(bytes[i] & 0x7F) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
        i += 4
        return n
    }
    while let nameLength = length(), let valueLength = length() {
        guard nameLength <= bytes.count - i, valueLength <= bytes.count - i - nameLength else { break }
        pairs.append((Array(bytes[i..<(i + nameLength)]), Array(bytes[(i + nameLength)..<(i + nameLength + valueLength)])))
        i += nameLength + valueLength
    }
    return pairs
}

@_cdecl("LLVMFuzzerTestOneInput") public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Fuzz.run(data, size, warmUp: ["\u{0E}\u{03}REQUEST_METHODGET\u{0B}\u{05}REQUEST_URI/c/ab\u{0C}\u{03}QUERY_STRINGa=1"]) { bytes in
        let pairs = nameValuePairs(bytes)
        // libfcgi's layout: malloc'd "name=value\0" strings and a NULL at the end.
        var entries: [UnsafeMutablePointer<CChar>?] = pairs.map { name, value in
            let joined = name + [UInt8(ascii: "=")] + value + [0]
            let entry = UnsafeMutablePointer<CChar>.allocate(capacity: joined.count)
            joined.withUnsafeBytes { entry.initialize(from: $0.bindMemory(to: CChar.self).baseAddress!, count: joined.count) }
            return entry
        }
        entries.append(nil)
        defer { for entry in entries { entry?.deallocate() } }
        let params = entries.withUnsafeBufferPointer { FastCGIParams.decode($0.baseAddress!) }

        // Each entry splits at its first `=` and ends at its first NUL, as C strings do; the
        // last of a repeated name wins.
        var expected: [String: String] = [:]
        for (name, value) in pairs {
            let entry = (name + [UInt8(ascii: "=")] + value).prefix { $0 != 0 }
            guard let eq = entry.firstIndex(of: UInt8(ascii: "=")) else { continue }
            expected[String(decoding: entry[..<eq], as: UTF8.self)] = String(decoding: entry[(eq + 1)...], as: UTF8.self)
        }
        Fuzz.require(params == expected, "decoded \(params) from pairs meaning \(expected)")

        let request = Request(fastCGI: FastCGIRequest(params: params), receivedAt: Date(timeIntervalSince1970: 0))
        let query = params["QUERY_STRING"] ?? ""
        Fuzz.require(request.rawQuery == query, "rawQuery differs from QUERY_STRING")
        Fuzz.require(request.query.count <= query.utf8.count { $0 == UInt8(ascii: "&") } + 1, "more query pairs than separators")
        Fuzz.require(request.method == params["REQUEST_METHOD"] ?? "GET", "method differs from REQUEST_METHOD")
        for name in request.headers.keys {
            Fuzz.require(
                !name.utf8.contains { ($0 >= 65 && $0 <= 90) || $0 == UInt8(ascii: "_") },
                "header name \(name.debugDescription) not lower-cased")
        }
        let httpNames = params.keys.filter { $0.utf8.starts(with: "HTTP_".utf8) }.count
        Fuzz.require(request.headers.count <= httpNames + 2, "\(request.headers.count) headers from \(httpNames) HTTP_ params")
        _ = request.cookies
        _ = request.contentType
        _ = request.queryValue("clickid")
        _ = request.header("user-agent")
    }
}

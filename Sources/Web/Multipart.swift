import Foundation

/// One part of a `multipart/form-data` body.
public struct MultipartPart: Sendable {
    public var name: String
    public var filename: String?
    public var contentType: String?
    public var data: [UInt8]
    public var text: String { String(decoding: data, as: UTF8.self) }
}

/// A parser for `multipart/form-data` (RFC 7578).
public enum Multipart {
    public static func boundary(from contentType: String) -> String? {
        for param in contentType.split(separator: ";").dropFirst() {
            let item = param.trimmingSpaces
            guard item.lowercased().hasPrefix("boundary=") else { continue }
            var value = item.dropFirst("boundary=".count)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            return value.isEmpty ? nil : String(value)
        }
        return nil
    }

    /// RFC 2046 §5.1.1: a boundary is 1 to 70 characters. Longer ones are refused (400), which
    /// also bounds the delimiter searched for.
    public static let maxBoundaryLength = 70
    /// No form of Waymark's has more than a few dozen fields; more parts than this is refused.
    public static let maxParts = 1000

    /// Splits `body` at `--boundary` lines; nil when the body is not well formed, the boundary is
    /// longer than `maxBoundaryLength` or there are more than `maxParts` parts. Linear in the
    /// body's size (each search starts where the previous one ended).
    public static func parse(_ body: [UInt8], boundary: String) -> [MultipartPart]? {
        guard !boundary.isEmpty, boundary.utf8.count <= maxBoundaryLength else { return nil }
        let delimiter = Array(("--" + boundary).utf8)
        let nextDelimiter = ByteSearch.Pattern([13, 10] + delimiter)
        let headerEnd = ByteSearch.Pattern([13, 10, 13, 10])
        var parts: [MultipartPart] = []
        guard var position = ByteSearch.firstIndex(of: delimiter, in: body, from: 0) else { return nil }
        position += delimiter.count
        while true {
            // After a delimiter: "--" ends the body, CRLF starts a part.
            if position + 2 <= body.count, body[position] == 45, body[position + 1] == 45 { return parts }
            guard position + 2 <= body.count, body[position] == 13, body[position + 1] == 10 else { return nil }
            position += 2
            guard parts.count < maxParts, let headerEnd = headerEnd.firstIndex(in: body, from: position) else { return nil }
            let headerText = String(decoding: body[position..<headerEnd], as: UTF8.self)
            let contentStart = headerEnd + 4
            guard let next = nextDelimiter.firstIndex(in: body, from: contentStart) else { return nil }
            var name: String?
            var filename: String?
            var type: String?
            for line in headerText.split(separator: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let header = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingSpaces
                if header == "content-disposition" {
                    name = dispositionParameter("name", in: value)
                    filename = dispositionParameter("filename", in: value)
                } else if header == "content-type" {
                    type = String(value)
                }
            }
            guard let name else { return nil }
            parts.append(MultipartPart(name: name, filename: filename, contentType: type, data: Array(body[contentStart..<next])))
            position = next + 2 + delimiter.count
        }
    }

    static func dispositionParameter(_ key: String, in value: Substring) -> String? {
        for param in value.split(separator: ";").dropFirst() {
            let item = param.trimmingSpaces
            guard item.hasPrefix(key + "=") else { continue }
            var v = item.dropFirst(key.count + 1)
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = v.dropFirst().dropLast() }
            return String(v).replacingOccurrences(of: "\\\"", with: "\"")
        }
        return nil
    }

}

extension StringProtocol {
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}

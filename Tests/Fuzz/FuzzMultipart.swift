// Target `multipart`: multipart/form-data bodies (Web's Multipart, through Request as the
// routes reach it). Input: the Content-Type header value, LF, then the body; an input without
// LF is a body for `multipart/form-data; boundary=XyZ`.
@testable import Web

@_cdecl("LLVMFuzzerTestOneInput") public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Fuzz.run(
        data, size, warmUp: ["multipart/form-data; boundary=b\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\n"]
    ) { bytes in
        let (head, body) = Fuzz.splitFirstLine(bytes)
        let contentType = head.map { String(decoding: $0, as: UTF8.self) } ?? "multipart/form-data; boundary=XyZ"
        let request = Request(method: "POST", path: "/spend/upload", headers: ["content-type": contentType], body: body)
        _ = try? request.form()
        let viaRequest = try? request.multipart()

        guard let boundary = Multipart.boundary(from: contentType) else {
            Fuzz.require(viaRequest == nil, "Request.multipart() answered parts without a boundary")
            return
        }
        Fuzz.require(!boundary.isEmpty, "an empty boundary was accepted")
        guard let parts = Multipart.parse(body, boundary: boundary) else { return }
        if let viaRequest, request.contentType == "multipart/form-data" {
            Fuzz.require(viaRequest.count == parts.count, "Request.multipart() and Multipart.parse disagree")
        }

        // The parts' contents are disjoint pieces of the body, each after its own delimiter.
        let delimiter = ("--" + boundary).utf8.count
        let used = parts.reduce(0) { $0 + $1.data.count + delimiter + 4 }
        Fuzz.require(used <= body.count, "\(parts.count) parts hold \(used) bytes of a \(body.count)-byte body")

        // What was parsed, written again with plain names, parses to the same contents.
        var rebuilt: [UInt8] = []
        for (i, part) in parts.enumerated() {
            rebuilt += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"f\(i)\"\r\n\r\n".utf8)
            rebuilt += part.data + [13, 10]
        }
        rebuilt += Array("--\(boundary)--\r\n".utf8)
        guard let reparsed = Multipart.parse(rebuilt, boundary: boundary) else {
            Fuzz.require(parts.isEmpty, "a body rebuilt from \(parts.count) parsed parts does not parse")
            return
        }
        Fuzz.require(reparsed.count == parts.count, "rebuilt body: \(reparsed.count) parts, not \(parts.count)")
        for (i, (a, b)) in zip(reparsed, parts).enumerated() {
            Fuzz.require(a.name == "f\(i)" && a.data == b.data && a.filename == nil, "rebuilt part \(i) differs")
        }
    }
}

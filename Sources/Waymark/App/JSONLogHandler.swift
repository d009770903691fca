import Foundation
import Glibc
import Logging
import WaymarkCore

/// `WAYMARK_LOG_FORMAT=json`: one JSON object per line on standard output — `time` (RFC 3339,
/// UTC, milliseconds), `level`, `logger`, `message` and the metadata's keys as strings (a
/// metadata key never replaces those four).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String,
        function: String, line: UInt
    ) {
        var fields = metadata
        for (key, value) in extra ?? [:] { fields[key] = value }
        let line = JSONLogHandler.line(label: label, level: level, message: "\(message)", metadata: fields, at: Date())
        // One write(2) per line: whole lines even from many threads.
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(STDOUT_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }

    /// The JSON line for one event (with its newline).
    public static func line(label: String, level: Logger.Level, message: String, metadata: Logger.Metadata, at date: Date) -> String {
        var fields: [String: String] = [:]
        for (key, value) in metadata { fields[key] = "\(value)" }
        fields["time"] = timestamp.format(date)
        fields["level"] = level.rawValue
        fields["logger"] = label
        fields["message"] = message
        return JSONStringObject.encode(fields) + "\n"
    }

    static let timestamp = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}

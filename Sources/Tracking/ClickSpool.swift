import Foundation
import WaymarkCore

/// The local spool for clicks and click-throughs while PostgreSQL is unreachable
/// (`<spool>/clicks.spool`): replayed in order by the click writer once the database is back.
public typealias ClickSpool = SpoolFiles<ClickRecord>

extension SpoolFiles where Record == ClickRecord {
    public init(directory: String) throws {
        try self.init(directory: directory, name: "clicks", encoder: ClickSpool.encoder, decoder: ClickSpool.decoder)
    }

    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .secondsSince1970
        return e
    }

    public static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .secondsSince1970
        return d
    }
}

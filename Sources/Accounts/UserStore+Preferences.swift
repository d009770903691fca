import Postgres

extension UserStore {
    /// The metric keys a user chose for the report grid; nil shows them all.
    public func reportColumns(_ userID: Int64) throws -> [String]? {
        try database.query("SELECT report_columns FROM users WHERE id = \(userID)").first?["report_columns"].map {
            $0.split(separator: ",").map(String.init)
        }
    }

    /// Saves the choice (keys the caller checked against the registry); nil or empty: all again.
    public func setReportColumns(_ userID: Int64, _ keys: [String]?) throws {
        let value = keys.flatMap { $0.isEmpty ? nil : $0.joined(separator: ",") }
        try database.query("UPDATE users SET report_columns = \(value) WHERE id = \(userID)")
    }
}

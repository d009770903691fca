import Postgres

/// Where a source's conversions are reported: its one writer beside the source form.
extension TrafficSourceStore {
    /// A source with no Conversion-API integration yet reports to the one just connected.
    public func reportConversions(sourceID: Int64, to integrationID: Int64, on c: PostgresConnection) throws {
        try c.query(
            """
            UPDATE traffic_sources SET capi_integration_id = \(integrationID) WHERE id = \(sourceID) AND capi_integration_id IS NULL
            """)
    }
}

/// Names of the visible flows (with their paths' names, in path order), landers and offers by
/// id, for the rows of a report by flow, path, lander or offer.
public struct FlowNames: Sendable {
    public var flows: [Int64: String]
    public var paths: [Int64: [String]]
    public var landers: [Int64: String]
    public var offers: [Int64: String]

    public init(
        flows: [Int64: String] = [:], paths: [Int64: [String]] = [:], landers: [Int64: String] = [:], offers: [Int64: String] = [:]
    ) {
        self.flows = flows
        self.paths = paths
        self.landers = landers
        self.offers = offers
    }

    /// A path's name; a path since removed from its flow is named by its place (`Path 3`).
    public func path(flow: Int64, index: Int) -> String {
        let names = paths[flow] ?? []
        return names.indices.contains(index) ? names[index] : "Path \(index + 1)"
    }
}

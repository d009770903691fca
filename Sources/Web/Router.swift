/// A route handler: the request (with `parameters` filled) in, a response out. Throwing an
/// `HTTPError` answers with it; any other error answers 500.
public typealias Handler = @Sendable (Request) throws -> Response

/// The one router: method + path pattern (`/api/v1/campaigns/{id}`) → handler, matched
/// segment by segment through a trie (literal segments before parameters).
public final class Router: @unchecked Sendable {
    // Built before serving starts and only read afterwards; hence @unchecked Sendable.
    final class Node {
        var literals: [String: Node] = [:]
        var parameter: (name: String, node: Node)?
        var handlers: [String: Handler] = [:]
    }

    private let root = Node()
    /// Every route as added (method, pattern): what the API document is checked against.
    public private(set) var routes: [(method: String, pattern: String)] = []

    public init() {}

    public func add(_ method: String, _ pattern: String, _ handler: @escaping Handler) {
        var node = root
        for segment in Router.segments(pattern) {
            if segment.hasPrefix("{"), segment.hasSuffix("}") {
                let name = String(segment.dropFirst().dropLast())
                if let existing = node.parameter {
                    precondition(existing.name == name, "conflicting parameter names at \(pattern)")
                    node = existing.node
                } else {
                    let next = Node()
                    node.parameter = (name, next)
                    node = next
                }
            } else if let next = node.literals[segment] {
                node = next
            } else {
                let next = Node()
                node.literals[segment] = next
                node = next
            }
        }
        precondition(node.handlers[method] == nil, "duplicate route \(method) \(pattern)")
        node.handlers[method] = handler
        routes.append((method, pattern))
    }

    public func get(_ pattern: String, _ handler: @escaping Handler) { add("GET", pattern, handler) }
    public func post(_ pattern: String, _ handler: @escaping Handler) { add("POST", pattern, handler) }
    public func put(_ pattern: String, _ handler: @escaping Handler) { add("PUT", pattern, handler) }
    public func patch(_ pattern: String, _ handler: @escaping Handler) { add("PATCH", pattern, handler) }
    public func delete(_ pattern: String, _ handler: @escaping Handler) { add("DELETE", pattern, handler) }

    public enum Match {
        case found(Handler, [String: String])
        case methodNotAllowed([String])
        case notFound
    }

    public func match(method: String, path: String) -> Match {
        var node = root
        var parameters: [String: String] = [:]
        for segment in Router.segments(path) {
            if let next = node.literals[segment] {
                node = next
            } else if let (name, next) = node.parameter {
                parameters[name] = segment
                node = next
            } else {
                return .notFound
            }
        }
        if node.handlers.isEmpty { return .notFound }
        if let handler = node.handlers[method] { return .found(handler, parameters) }
        // HEAD is answered by GET's handler (the server drops the body).
        if method == "HEAD", let handler = node.handlers["GET"] { return .found(handler, parameters) }
        return .methodNotAllowed(node.handlers.keys.sorted())
    }

    static func segments(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map { String($0) }
    }
}

import Foundation
import Mustache

/// The one HTML layer: mustache templates loaded from `templates/` at start. `{{value}}` is
/// HTML-escaped by mustache; `{{{value}}}` is only used for HTML this code built itself.
public struct Views: Sendable {
    private let library: MustacheLibrary

    public init(directory: String) throws {
        var library = MustacheLibrary()
        let root = URL(fileURLWithPath: directory)
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "mustache" else { continue }
            let relative = url.path.dropFirst(root.path.count + 1)
            let name = String(relative.dropLast(".mustache".count))
            try library.register(String(contentsOf: url, encoding: .utf8), named: name)
        }
        self.library = library
    }

    public init(templates: [String: String]) throws {
        var library = MustacheLibrary()
        for (name, text) in templates { try library.register(text, named: name) }
        self.library = library
    }

    public func has(_ name: String) -> Bool { library.getTemplate(named: name) != nil }

    /// Renders a template; a missing template is a programming error surfaced as a thrown error.
    public func render(_ name: String, _ context: Any) throws(HTTPError) -> String {
        guard let html = library.render(context, withTemplate: name) else {
            throw HTTPError(500, code: "template_missing", message: "template \(name) is missing")
        }
        return html
    }
}

/// Escapes text for HTML (for the few pages built without a template).
public func htmlEscape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for c in text.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

import CSV
import Foundation
import FoundationXML
import WaymarkCore

/// Euro reference rates: units of a currency for one euro on a day (the ECB's convention).
public struct FXRate: Sendable, Equatable {
    public var day: String
    public var currency: String
    public var rate: String

    public init(day: String, currency: String, rate: String) {
        self.day = day
        self.currency = currency
        self.rate = rate
    }
}

public struct FXImportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Reads rate files: the ECB's euro reference-rate XML (daily, 90-day and historical files
/// alike: `<Cube time="…"><Cube currency="USD" rate="1.0956"/>…`) and a plain CSV
/// `date,currency,rate` (the same convention: units of the currency per euro).
public enum FXFile {
    public static func parse(_ data: Data) throws -> [FXRate] {
        let head = String(decoding: data.prefix(512), as: UTF8.self).trimmingCharacters(
            in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: "\u{FEFF}")))
        return head.hasPrefix("<") ? try parseECB(data) : try parseCSV(data)
    }

    public static func parseECB(_ data: Data) throws -> [FXRate] {
        // Foundation's XMLParser traps (force-unwraps) on an element or attribute that is not
        // UTF-8: `<\u{FF}` took the whole responder down (found by Tests/Fuzz fx-rates). ECB
        // files are UTF-8; anything else is refused before libxml2 sees it.
        guard String(validating: data, as: UTF8.self) != nil else {
            throw FXImportError("not a readable ECB XML file: it is not UTF-8 text")
        }
        let delegate = ECBDelegate()
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        guard parser.parse() else {
            throw FXImportError("not a readable ECB XML file: \(parser.parserError.map { "\($0)" } ?? "parse error")")
        }
        if let problem = delegate.problem { throw FXImportError(problem) }
        guard !delegate.rates.isEmpty else { throw FXImportError("the XML file has no <Cube time=…><Cube currency=… rate=…/> entries") }
        return delegate.rates
    }

    public static func parseCSV(_ data: Data) throws -> [FXRate] {
        // CSV.swift loses a decoding error in the header row (see SpendInput.fromCSV).
        guard String(validating: data, as: UTF8.self) != nil else { throw FXImportError("the CSV file is not UTF-8 text") }
        let reader = try CSVReader(stream: InputStream(data: data), hasHeaderRow: true, trimFields: true)
        let header = (reader.headerRow ?? []).map { $0.lowercased() }
        guard header.starts(with: ["date", "currency", "rate"]) else {
            throw FXImportError("the CSV header must be date,currency,rate (got \(header.joined(separator: ",")))")
        }
        var rates: [FXRate] = []
        var row = 0
        while let fields = reader.next() {
            row += 1
            if fields.allSatisfy(\.isEmpty) { continue }
            guard fields.count >= 3 else { throw FXImportError("row \(row): expected date,currency,rate") }
            let rate = FXRate(day: fields[0], currency: fields[1].uppercased(), rate: fields[2])
            if let problem = check(rate) { throw FXImportError("row \(row): \(problem)") }
            rates.append(rate)
        }
        if let error = reader.error { throw FXImportError("the CSV file cannot be read: \(error)") }
        return rates
    }

    /// What is wrong with a rate, or nil.
    public static func check(_ r: FXRate) -> String? {
        if Dates.parseDay(r.day) == nil { return "date must be YYYY-MM-DD (got \(r.day))" }
        if !Currency.isKnown(r.currency) { return "\(r.currency) is not an ISO 4217 currency code" }
        if r.currency == "EUR" { return "rates are per euro, so EUR itself has none" }
        guard r.rate.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), r.rate.count <= 24, let v = Decimal(string: r.rate), v > 0
        else { return "rate must be a positive decimal (got \(r.rate))" }
        return nil
    }

    public final class ECBDelegate: NSObject, XMLParserDelegate {
        public var rates: [FXRate] = []
        public var day: String?
        public var problem: String?

        public func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            guard name == "Cube" || name.hasSuffix(":Cube") else { return }
            if let time = attributes["time"] { day = time }
            if let currency = attributes["currency"], let rate = attributes["rate"] {
                guard let day else {
                    problem = "a rate for \(currency) outside a <Cube time=…>"
                    return
                }
                let r = FXRate(day: day, currency: currency.uppercased(), rate: rate)
                if let issue = FXFile.check(r) {
                    // The ECB lists currencies ISO may not know yet; skip those, refuse the rest.
                    if !issue.contains("ISO 4217") { problem = "\(day) \(currency): \(issue)" }
                    return
                }
                rates.append(r)
            }
        }
    }
}

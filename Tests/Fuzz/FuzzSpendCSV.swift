// Target `spend-csv`: CSV spend files (SpendInput.fromCSV over yaslab/CSV.swift), as
// POST /api/v1/spend (text/csv) and the upload page read them.
import Foundation
import Web

@testable import Waymark

@_cdecl("LLVMFuzzerTestOneInput") public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Fuzz.run(data, size, warmUp: ["date,traffic_source,campaign,amount,currency\n2026-11-20,1,,1.00,USD\n"]) { bytes in
        guard let rows = try? SpendInput.fromCSV(Data(bytes)) else { return }
        let lineBreaks = bytes.count { $0 == 10 || $0 == 13 }
        Fuzz.require(rows.count <= lineBreaks, "\(rows.count) data rows from \(lineBreaks) line breaks (the header takes one)")
        Fuzz.require(zip(rows, rows.dropFirst()).allSatisfy { $0.row < $1.row }, "row numbers do not increase")
        Fuzz.require(rows.allSatisfy { $0.row >= 1 }, "a row number below 1")
        let names = Set(rows.first?.dimensions.keys.map { $0 } ?? [])
        for row in rows {
            // Dimension names are the header's extra columns: the same for every row, trimmed and lower-cased.
            Fuzz.require(Set(row.dimensions.keys) == names, "row \(row.row) has other dimension names")
            for name in row.dimensions.keys {
                Fuzz.require(
                    !name.isEmpty && name == name.trimmingCharacters(in: .whitespaces).lowercased(),
                    "dimension name \(name.debugDescription)")
            }
        }
    }
}

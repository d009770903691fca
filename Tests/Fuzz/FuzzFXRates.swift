// Target `fx-rates`: ECB euro reference-rate XML (and the date,currency,rate CSV) as
// `waymark fx import` and POST /fx/import read them (FXFile.parse).
import Foundation

@testable import Waymark

@_cdecl("LLVMFuzzerTestOneInput") public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Fuzz.run(
        data, size,
        warmUp: [
            #"<Cube><Cube time="2026-11-20"><Cube currency="USD" rate="1.05"/></Cube></Cube>"#, "date,currency,rate\n2026-11-20,USD,1.05\n",
        ]
    ) { bytes in
        guard let rates = try? FXFile.parse(Data(bytes)) else { return }
        for rate in rates {
            Fuzz.require(FXFile.check(rate) == nil, "an accepted rate fails its own check: \(rate)")
            Fuzz.require(rate.currency == rate.currency.uppercased(), "currency not upper-cased: \(rate.currency)")
        }
    }
}

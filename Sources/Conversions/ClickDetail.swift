/// `GET /api/v1/clicks/{click_id}`: the click object with its conversions.
public struct ClickDetail: Sendable, Encodable {
    public var click: ClickRow
    public var conversions: [ConversionRow]

    public init(click: ClickRow, conversions: [ConversionRow]) {
        self.click = click
        self.conversions = conversions
    }

    enum CodingKeys: String, CodingKey { case conversions }

    public func encode(to encoder: any Encoder) throws {
        try click.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(conversions, forKey: .conversions)
    }
}

@testable import StreamRecCore

extension Model {
    /// A model whose item side holds `items` rows at k = 8, one event per
    /// item by three users: the scan tests give `scan` its own vector, rows
    /// and biases, and the model supplies the item count and rated pairs.
    static func catalogue(items: Int) -> Model {
        var settings = ModelSettings()
        settings.factors = 8
        settings.reservoirSize = 0
        var model = Model(settings: settings)
        for i in 0..<items { model.observe(RatingEvent(user: .number(UInt64(i % 3)), item: .number(UInt64(i)), rating: 5)) }
        return model
    }
}

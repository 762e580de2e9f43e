import StreamRecCore

extension ModelSettings {
    /// These settings with plain SGD and no ranking or neighbour head or reservoir, for
    /// tests that check the textbook update rule by hand.
    var plainSGD: ModelSettings {
        var s = self
        s.optimizer = .sgd
        s.negatives = 0
        s.reservoirSize = 0
        s.neighbourSlots = 0
        return s
    }
}

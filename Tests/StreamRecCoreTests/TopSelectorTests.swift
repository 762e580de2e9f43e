@testable import StreamRecCore
import XCTest

final class TopSelectorTests: XCTestCase {
    /// The selector keeps what a full sort keeps (score desc, ties to the lower row) for any limit and any order of offers.
    func testKeepsTheBestLikeAFullSort() {
        var rng = SplitMix64(seed: 11)
        for limit in [0, 1, 2, 3, 10, 22, 100] {
            for _ in 0..<50 {
                let count = Int(rng.next() % 300)
                // Few distinct scores, so ties are common.
                let offers = (0..<count).map { (score: Double(rng.next() % 40), row: Int32($0)) }.shuffled(using: &rng)
                var selector = TopSelector(limit: limit)
                for o in offers { selector.offer(score: o.score, row: o.row) }
                let expected = offers.sorted { $0.score > $1.score || ($0.score == $1.score && $0.row < $1.row) }.prefix(limit)
                XCTAssertEqual(selector.sorted().map(\.row), expected.map(\.row), "limit \(limit), \(count) offers")
                let admission = limit == 0 ? .infinity : (count < limit ? -.infinity : expected.last!.score)
                XCTAssertEqual(selector.admissionScore, admission)
            }
        }
    }
}

import XCTest
import Logging
@testable import StreamRecServer
import ZeroMQ

final class EndToEndDaemonTests: XCTestCase {
    func testPlaceholder() {}
}

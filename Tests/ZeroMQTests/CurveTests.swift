import XCTest
import ZeroMQ

final class CurveTests: XCTestCase {
    /// Generated keys are 40-character Z85, distinct, and the public key follows from the secret one.
    func testKeyPairRoundTrip() throws {
        try XCTSkipUnless(CurveKeyPair.isAvailable, "libzmq without CURVE")
        let a = try CurveKeyPair.generate(), b = try CurveKeyPair.generate()
        XCTAssertTrue(Z85.isKey(a.publicKey) && Z85.isKey(a.secretKey))
        XCTAssertNotEqual(a.publicKey, b.publicKey)
        XCTAssertEqual(try CurveKeyPair(secretKey: a.secretKey), a)
        XCTAssertThrowsError(try CurveKeyPair(secretKey: "short"))
        XCTAssertFalse(Z85.isKey(String(repeating: "~", count: 40)))
        XCTAssertEqual(Z85.encode([0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]), "HelloWorld")  // the Z85 spec's example
    }
}

// swift-tools-version:6.0
import PackageDescription

/// StreamRec: an online matrix-factorization recommender daemon over ZeroMQ.
///
/// Layers, bottom up: C shims (`CZeroMQ`, `CZlib`) and the C scan kernel
/// (`CKernels`), a thin Swift wrapper (`ZeroMQ`),
/// the socket-free model (`StreamRecCore`), the wire protocol and event loop
/// (`StreamRecServer`), and two thin executables.
let package = Package(
    name: "StreamRec",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "streamrecd", targets: ["streamrecd"]),
        .executable(name: "streamrec", targets: ["streamrec"]),
        .library(name: "StreamRecCore", targets: ["StreamRecCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        // Operations (issue 6): metrics, the tiny HTTP server, the config file.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZeroMQ",
            pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Block scoring for top-N scans, built twice (AVX2+FMA and portable)
        // and chosen at run time: the Swift code targets baseline x86-64.
        .target(name: "CKernels"),
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"]),
        .target(name: "StreamRecCore", dependencies: ["CZlib", "CKernels"]),
        .target(
            name: "StreamRecServer",
            dependencies: [
                "StreamRecCore", "ZeroMQ", "CKernels",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "streamrecd",
            dependencies: [
                "StreamRecServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "streamrec",
            dependencies: [
                "StreamRecServer", "StreamRecCore", "ZeroMQ",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
        .testTarget(name: "StreamRecCoreTests", dependencies: ["StreamRecCore"]),
        .testTarget(
            name: "StreamRecServerTests",
            dependencies: ["StreamRecServer", "StreamRecCore", "ZeroMQ", .product(name: "Logging", package: "swift-log")]
        ),
    ],
    swiftLanguageModes: [.v5]
)

// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "waymark",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "waymark", targets: ["WaymarkCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
    ],
    targets: [
        // C libraries, found by pkg-config.
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // Thin Swift layers over them.
        .target(name: "FastCGI", dependencies: ["CFastCGI"], swiftSettings: swiftSettings),
        .target(name: "Postgres", dependencies: ["CLibPQ"], swiftSettings: swiftSettings),
        .target(name: "Addresses", swiftSettings: swiftSettings),
        .target(name: "HTTPClient", dependencies: ["CCurl", "Addresses"], swiftSettings: swiftSettings),
        .target(
            name: "Web",
            dependencies: [
                "FastCGI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: swiftSettings
        ),

        // The product.
        .target(
            name: "Waymark",
            dependencies: [
                "Web", "Postgres", "HTTPClient", "Addresses",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "CSV", package: "CSV.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "WaymarkCLI",
            dependencies: [
                "Waymark",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Helpers for the tests only: where the test instance is, an HTTP client for it.
        .target(name: "WaymarkTesting", dependencies: ["Postgres", "HTTPClient"], swiftSettings: swiftSettings),

        .testTarget(name: "FastCGITests", dependencies: ["FastCGI"], swiftSettings: swiftSettings),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "WaymarkTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "Addresses", "WaymarkTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "WebTests", dependencies: ["Web", "FastCGI", .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        .testTarget(name: "WaymarkTests", dependencies: ["Waymark", "Addresses", "HTTPClient", "Postgres", "Web", "WaymarkTesting", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: swiftSettings),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Waymark", "Postgres", "HTTPClient", "WaymarkTesting", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
    ]
)

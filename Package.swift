// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let cryptoExtras: Target.Dependency = .product(name: "CryptoExtras", package: "swift-crypto")
/// swift-metrics' API: the modules count and time through it; the app backs it with Prometheus.
let metrics: Target.Dependency = .product(name: "CoreMetrics", package: "swift-metrics")
/// Every product target, for the test targets that use the product's public API.
let product: [Target.Dependency] = [
    "Waymark", "Reports", "Spend", "Integrations", "Deliveries", "Conversions", "Tracking", "Catalog", "Accounts", "WaymarkCore",
]

let package = Package(
    name: "waymark",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "waymark", targets: ["WaymarkCLI"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries, found by pkg-config.
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // Threads, clocks and signals: what the responder, the writer and the worker share.
        .target(name: "Threads", swiftSettings: swiftSettings),
        // Thin Swift layers over the C libraries (the only targets that import them).
        .target(name: "FastCGI", dependencies: ["CFastCGI", "Threads"], swiftSettings: swiftSettings),
        .target(name: "Postgres", dependencies: ["CLibPQ"], swiftSettings: swiftSettings),
        .target(name: "Addresses", swiftSettings: swiftSettings),
        .target(name: "HTTPClient", dependencies: ["CCurl", "Addresses"], swiftSettings: swiftSettings),
        .target(
            name: "Web", dependencies: ["FastCGI", "Threads", logging, metrics, .product(name: "Mustache", package: "swift-mustache")],
            swiftSettings: swiftSettings),

        // The product, one target per capability; the arrows are the architecture (README).
        // Core: money, dates, currencies, slugs, ids, token templates, the actor and its
        // visibility rule, audit recording, sealing.
        .target(name: "WaymarkCore", dependencies: ["Web", "Postgres", "Addresses", crypto], swiftSettings: swiftSettings),
        // Users, sessions, API tokens, the login throttle, workspaces.
        .target(name: "Accounts", dependencies: ["WaymarkCore", "Web", "Postgres", crypto, cryptoExtras], swiftSettings: swiftSettings),
        // Traffic sources, the template library, campaigns and their conversion reporting; offers, landers, flows.
        .target(name: "Catalog", dependencies: ["WaymarkCore", "Web", "Postgres", "Addresses"], swiftSettings: swiftSettings),
        // The click path: campaign cache, click recorder, group-commit writer, spool. No HTTPClient.
        .target(
            name: "Tracking",
            dependencies: ["Catalog", "WaymarkCore", "Threads", "Web", "Postgres", "Addresses", logging, metrics, crypto],
            swiftSettings: swiftSettings),
        // Postbacks matched to clicks, de-duplicated, recorded; the ledger.
        .target(
            name: "Conversions", dependencies: ["Catalog", "WaymarkCore", "Threads", "Web", "Postgres", logging, metrics],
            swiftSettings: swiftSettings),
        // The outbox and its sender (postbacks, webhooks, and the push contracts Integrations fulfils).
        .target(
            name: "Deliveries",
            dependencies: ["Conversions", "Catalog", "WaymarkCore", "Threads", "HTTPClient", "Web", "Postgres", logging, crypto],
            swiftSettings: swiftSettings),
        // Google Ads, Meta, TikTok, GA4: OAuth, pulls, pushes (a folder per provider).
        .target(
            name: "Integrations",
            dependencies: [
                "Spend", "Deliveries", "Conversions", "Catalog", "Accounts", "WaymarkCore", "HTTPClient", "Web", "Postgres", logging,
                crypto,
            ],
            swiftSettings: swiftSettings),
        // Spend entries, CSV and JSON imports, spend feeds, FX rates.
        .target(
            name: "Spend",
            dependencies: ["Catalog", "WaymarkCore", "HTTPClient", "Web", "Postgres", .product(name: "CSV", package: "CSV.swift")],
            swiftSettings: swiftSettings),
        // The metric registry and the report engine.
        .target(name: "Reports", dependencies: ["Catalog", "WaymarkCore", "Web", "Postgres"], swiftSettings: swiftSettings),
        // The application: admin shell, pages and routes of every capability, configuration,
        // migrations, the worker loop, the FastCGI responder's wiring.
        .target(
            name: "Waymark",
            dependencies: [
                "Reports", "Spend", "Integrations", "Deliveries", "Conversions", "Tracking", "Catalog", "Accounts", "WaymarkCore",
                "Web", "FastCGI", "Threads", "Postgres", "HTTPClient", "Addresses", logging, crypto, cryptoExtras, metrics,
                .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "CSV", package: "CSV.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "WaymarkCLI",
            dependencies: product + ["Threads", .product(name: "ArgumentParser", package: "swift-argument-parser"), logging],
            swiftSettings: swiftSettings
        ),

        // Helpers for the tests only: where the test instance is, an HTTP client for it, and the
        // in-process app tester (the real router and handlers without nginx or FastCGI).
        .target(
            name: "WaymarkTesting", dependencies: ["Waymark", "Accounts", "WaymarkCore", "Web", "Postgres", "HTTPClient", logging],
            swiftSettings: swiftSettings),

        .testTarget(name: "FastCGITests", dependencies: ["FastCGI"], swiftSettings: swiftSettings),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "WaymarkTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "Addresses", "WaymarkTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "WebTests", dependencies: ["Web", "FastCGI", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "WaymarkTests",
            dependencies: product + ["Addresses", "HTTPClient", "Postgres", "Threads", "Web", "WaymarkTesting", crypto, logging],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "IntegrationTests",
            dependencies: product + ["Postgres", "HTTPClient", "Web", "WaymarkTesting", crypto, logging],
            swiftSettings: swiftSettings
        ),
    ]
)

// swift-tools-version:6.1
import PackageDescription

/// Analemma: one library, Tiny Handler executables, no package dependencies (system zlib + OpenSSL libcrypto only).
let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
    name: "Analemma",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Analemma", targets: ["Analemma"]),
        .executable(name: "segment-runner", targets: ["segment-runner"]),
        .executable(name: "light-aggregator", targets: ["light-aggregator"]),
        .executable(name: "gc-worker", targets: ["gc-worker"]),
        .executable(name: "websocket-notifier", targets: ["websocket-notifier"]),
        .executable(name: "analemma", targets: ["AnalemmaCLI"]),
        .executable(name: "probe", targets: ["probe"]),
        .executable(name: "bench-echo", targets: ["bench-echo"]),
        .executable(name: "bench-json-echo", targets: ["bench-json-echo"]),
        .executable(name: "aws-bench", targets: ["aws-bench"]),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto"),
        .systemLibrary(name: "CNSS", path: "Sources/CNSS"),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .target(
            name: "Analemma", dependencies: ["CZlib", "CCrypto", "CNSS", "CMalloc"], path: "Sources/Analemma",
            exclude: ["Skills/README.md", "GlassBox/README.md"],
            swiftSettings: strict),
        // Tiny Handlers (Functions/<name>/main.swift), packaged as `bootstrap` zips.
        .executableTarget(
            name: "segment-runner", dependencies: ["Analemma"], path: "Functions/segment-runner",
            exclude: ["function.json", "README.md", "events"],
            swiftSettings: strict),
        .executableTarget(
            name: "light-aggregator", dependencies: ["Analemma"], path: "Functions/light-aggregator",
            exclude: ["function.json", "README.md", "events"],
            swiftSettings: strict),
        .executableTarget(
            name: "gc-worker", dependencies: ["Analemma"], path: "Functions/gc-worker", exclude: ["function.json", "README.md", "events"],
            swiftSettings: strict),
        .executableTarget(
            name: "websocket-notifier", dependencies: ["Analemma"], path: "Functions/websocket-notifier",
            exclude: ["function.json", "README.md", "events"], swiftSettings: strict),
        // The developer command (validate, codesign); not a Lambda function.
        .executableTarget(name: "AnalemmaCLI", dependencies: ["Analemma"], path: "Sources/AnalemmaCLI", swiftSettings: strict),
        // Test-only function: runtime conformance probe (built for tests and benchmarks, never packaged for deploy).
        .executableTarget(
            name: "probe", dependencies: ["Analemma"], path: "Tests/Functions/probe", exclude: ["function.json"],
            swiftSettings: strict),
        // Test-only function: echo with no decoding, for the runtime-loop benchmark.
        .executableTarget(name: "bench-echo", dependencies: ["Analemma"], path: "Tests/Functions/bench-echo", swiftSettings: strict),
        // Test-only function: decodes its event with JSONDecoder and encodes it back, for the large-event benchmark.
        .executableTarget(
            name: "bench-json-echo", dependencies: ["Analemma"], path: "Tests/Functions/bench-json-echo", swiftSettings: strict),
        // Fuzz targets (make fuzz: libFuzzer via --sanitize fuzzer); a plain build replays inputs. Never packaged.
        .executableTarget(
            name: "analemma-fuzz", dependencies: ["Analemma"], path: "Tests/Fuzz", exclude: ["seeds.py", "run.py"],
            swiftSettings: strict + [.unsafeFlags(["-parse-as-library"])]),
        // Benchmark harness for the AWS clients (make bench), never packaged.
        .executableTarget(name: "aws-bench", dependencies: ["Analemma"], path: "Bench/aws-bench", swiftSettings: strict),
        .testTarget(
            name: "AnalemmaTests", dependencies: ["Analemma"], path: "Tests/AnalemmaTests", exclude: ["Fixtures"],
            swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)

// swift-tools-version:6.1
import PackageDescription

/// A user's package: depends on the Analemma library product only, so it sees the `public` API and nothing else
/// (`package` declarations are invisible here). `make api-check` builds it; a build failure means the API lost
/// something a user needs, or this file uses what is not API.
let package = Package(
    name: "ExternalConsumer",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Analemma", path: "../..")],
    targets: [
        .executableTarget(
            name: "my-runner", dependencies: [.product(name: "Analemma", package: "Analemma")], path: "Sources/my-runner")
    ],
    swiftLanguageModes: [.v6]
)

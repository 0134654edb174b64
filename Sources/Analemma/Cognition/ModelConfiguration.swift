import Glibc

/// Builds the `LanguageModel` a function uses from its environment.
package enum ModelConfiguration {
    /// `MODEL_PROVIDER`: `standin` (deterministic, offline), `gemini` (`GEMINI_API_KEY`, `GEMINI_ENDPOINT`) or
    /// `vertex` (`VERTEX_PROJECT`, `VERTEX_LOCATION`, `VERTEX_ACCESS_TOKEN`, `VERTEX_ENDPOINT`); the real providers
    /// route over `MODEL_CATALOG`. Catalog models retired or retiring within 30 days are logged as warnings.
    /// `MODEL_MAX_WAIT_SECONDS` (default 30, 0–600) bounds how long one call waits for resting (throttled) models.
    package static func languageModel(
        environment: FunctionEnvironment, logger: Logger, clock: any WallClock = SystemWallClock(),
        transport: any HTTPTransport = SocketTransport()
    ) throws -> any LanguageModel {
        let provider = environment["MODEL_PROVIDER"].flatMap { $0.isEmpty ? nil : $0 } ?? "standin"
        if provider == "standin" { return StandInModel() }
        let api: GeminiClient.API
        switch provider {
        case "gemini":
            let url = environment["GEMINI_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://generativelanguage.googleapis.com"
            api = .developer(
                endpoint: try AWSEndpoint(url: url, source: "GEMINI_ENDPOINT"),
                key: try environment.require("GEMINI_API_KEY", "the Gemini Developer API key"))
        case "vertex":
            let location = environment["VERTEX_LOCATION"].flatMap { $0.isEmpty ? nil : $0 } ?? "global"
            let host = location == "global" ? "aiplatform.googleapis.com" : "\(location)-aiplatform.googleapis.com"
            let url = environment["VERTEX_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://\(host)"
            api = .vertex(
                endpoint: try AWSEndpoint(url: url, source: "VERTEX_ENDPOINT"),
                project: try environment.require("VERTEX_PROJECT", "the Google Cloud project"), location: location,
                token: try environment.require("VERTEX_ACCESS_TOKEN", "an OAuth access token for Vertex AI"))
        default:
            throw AnalemmaError(.invalidConfiguration, "MODEL_PROVIDER=\(provider.debugDescription) is not one of standin, gemini, vertex")
        }
        let catalog = try ModelCatalog.parse(try environment.require("MODEL_CATALOG", "the models routing may choose from"))
        let now = clock.nowMillis()
        let today = Self.date(now)
        for warning in catalog.warnings(today: today, soon: Self.date(now + 30 * 86_400_000)) { logger.warn(warning) }
        let timeout = try environment.integer("MODEL_TIMEOUT_SECONDS", default: 120)
        let wait = try environment.integer("MODEL_MAX_WAIT_SECONDS", default: 30)
        guard (0...600).contains(wait) else {
            throw AnalemmaError(.invalidConfiguration, "MODEL_MAX_WAIT_SECONDS=\(wait) must be 0–600")
        }
        return RoutedModel(
            router: ModelRouter(catalog: catalog, today: today),
            client: GeminiClient(api: api, transport: transport, timeout: .seconds(timeout)), clock: clock,
            maxWaitMillis: Int64(wait) * 1000)
    }

    /// `YYYY-MM-DD` (UTC) of an epoch-milliseconds time.
    package static func date(_ millis: Int64) -> String {
        var t = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ n: Int32, _ w: Int) -> String { String(repeating: "0", count: max(0, w - String(n).count)) + String(n) }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
    }
}

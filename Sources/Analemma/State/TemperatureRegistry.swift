/// Classifies fields HOT/WARM/COLD by how often they change, with user overrides (exact names or prefixes).
///
/// A field that changed in at least half of the checkpoints so far is HOT, in at least 15 % WARM, else COLD;
/// a field seen for the first time is WARM until it has a history.
package struct TemperatureRegistry: Sendable {
    package var overrides: [String: Temperature]
    package var prefixOverrides: [(prefix: String, temperature: Temperature)]
    package var hotThreshold: Double
    package var warmThreshold: Double

    package init(
        overrides: [String: Temperature] = [:], prefixOverrides: [(prefix: String, temperature: Temperature)] = [],
        hotThreshold: Double = 0.5,
        warmThreshold: Double = 0.15
    ) {
        self.overrides = overrides
        self.prefixOverrides = prefixOverrides
        self.hotThreshold = hotThreshold
        self.warmThreshold = warmThreshold
    }

    /// The temperature of `field` after `mutations` changes in `checkpoints` checkpoints (this one included).
    package func classify(_ field: String, mutations: Int, checkpoints: Int) -> Temperature {
        if let fixed = overrides[field] { return fixed }
        if let match = prefixOverrides.first(where: { field.hasPrefix($0.prefix) }) { return match.temperature }
        guard checkpoints > 1, mutations > 0 else { return .warm }
        let frequency = Double(mutations) / Double(checkpoints)
        return frequency >= hotThreshold ? .hot : (frequency >= warmThreshold ? .warm : .cold)
    }
}

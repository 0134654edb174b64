/// Models resting after a throttle (or a server error that said for how long), per instance: a model the service
/// asked to back off is not called again before its time, while other models serve. A new instance starts with
/// none (the first call it makes learns the rest again from the service's answer).
package actor ModelCooldowns {
    /// When a model's rest ends, and whether the service named that time (`Retry-After`) or it is our default.
    package struct Rest: Sendable, Equatable {
        package var until: Int64
        package var asked: Bool
    }

    private var rests: [String: Rest] = [:]

    package init() {}

    /// `model` rests until `millis` (epoch ms); an earlier end never shortens a longer rest.
    package func rest(_ model: String, until millis: Int64, asked: Bool) {
        if let old = rests[model], old.until >= millis { return }
        rests[model] = Rest(until: millis, asked: asked)
    }

    /// `model`'s rest, if it is resting at `now`.
    package func resting(_ model: String, now: Int64) -> Rest? {
        guard let rest = rests[model] else { return nil }
        guard rest.until > now else {
            rests[model] = nil
            return nil
        }
        return rest
    }
}

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Why one model call failed, as the router decides on it: each class has its own failover and its own code.
/// https://ai.google.dev/gemini-api/docs/troubleshooting · https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429
package struct ModelFailure: Error, Sendable, CustomStringConvertible {
    package enum Kind: String, Sendable, CaseIterable {
        /// 429 / `RESOURCE_EXHAUSTED` (rate or quota): the model rests (for `Retry-After` when given), others serve.
        case throttled
        /// 5xx or unreachable: the next model serves; the model rests only if the service said for how long.
        case server
        /// The account cannot pay (402, billing, depleted prepaid credits): no model of this account can serve.
        case budget
        /// The prompt is longer than the model's context window: only a model with a larger window can serve.
        case contextTooLong
        /// Any other refusal (bad request, auth, unknown model): no failover.
        case rejected
    }

    package var kind: Kind
    /// How long the service asked callers to wait, when it said (`Retry-After`, or `google.rpc.RetryInfo`).
    package var retryAfterMillis: Int64?
    package var message: String

    package init(kind: Kind, retryAfterMillis: Int64? = nil, message: String) {
        self.kind = kind
        self.retryAfterMillis = retryAfterMillis
        self.message = message
    }

    package var description: String { "\(kind.rawValue): \(message)" }

    /// The stable code a caller sees when this is the last failure.
    package var code: ErrorCode {
        switch kind {
        case .throttled: .modelThrottled
        case .server: .modelUnavailable
        case .budget: .modelBudgetExhausted
        case .contextTooLong: .modelContextTooLong
        case .rejected: .modelError
        }
    }

    package var error: AnalemmaError { AnalemmaError(code, message) }

    /// Classifies an error answer: HTTP status, Google's `error.status`, its message and its retry hints.
    package static func classify(status: Int, headers: [(String, String)], body: Data, model: String) -> ModelFailure {
        let (googleStatus, message) = GeminiWire.errorStatus(body)
        let text = (message ?? String(decoding: body.prefix(300), as: UTF8.self))
        let detail = "model \(model): HTTP \(status) \(googleStatus ?? "") \(text)"
        let lowered = text.lowercased()
        let retry = retryAfter(headers: headers, body: body)
        let billing = ["billing", "prepayment", "credits are depleted", "budget", "payment"].contains { lowered.contains($0) }
        let kind: Kind
        if status == 402 || (billing && (status == 429 || status == 403 || googleStatus == "FAILED_PRECONDITION")) {
            kind = .budget
        } else if status == 429 || googleStatus == "RESOURCE_EXHAUSTED" {
            kind = .throttled
        } else if status >= 500 {
            kind = .server
        } else if status == 400 || status == 413,
            ["input token count", "exceeds the maximum number of tokens", "context length", "too long", "context window"]
                .contains(where: { lowered.contains($0) })
        {
            kind = .contextTooLong
        } else {
            kind = .rejected
        }
        return ModelFailure(kind: kind, retryAfterMillis: retry, message: detail)
    }

    /// The longest wait the service asked for, capped at an hour: a `Retry-After` header (seconds or an HTTP date is
    /// not used by Google; seconds only) or a `RetryInfo.retryDelay` such as `"38s"` / `"1.5s"` in `error.details`.
    package static func retryAfter(headers: [(String, String)], body: Data) -> Int64? {
        var best: Int64?
        func take(_ seconds: Double) {
            guard seconds.isFinite, seconds >= 0 else { return }
            let millis = Int64(min(seconds, 3600) * 1000)
            best = max(best ?? 0, millis)
        }
        if let value = headers.first(where: { $0.0.lowercased() == "retry-after" })?.1,
            let seconds = Double(value.filter { $0 != " " })
        {
            take(seconds)
        }
        if let doc = try? JSONValue(json: body), case .array(let details)? = try? doc.value(at: "error.details") {
            for d in details {
                guard case .string(let type)? = try? d.value(at: "@type"), type.hasSuffix("google.rpc.RetryInfo"),
                    case .string(let delay)? = try? d.value(at: "retryDelay"), delay.hasSuffix("s"),
                    let seconds = Double(delay.dropLast())
                else { continue }
                take(seconds)
            }
        }
        return best
    }
}

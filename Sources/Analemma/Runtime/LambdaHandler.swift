#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A function body: event bytes in, response bytes out. Thrown errors become Lambda function errors.
public protocol LambdaHandler: Sendable {
    func handle(_ event: Data, context: LambdaContext) async throws -> Data
}

/// A handler over Codable types; wrap it in ``CodableHandler`` to run it.
public protocol TypedLambdaHandler: Sendable {
    associatedtype Event: Decodable
    associatedtype Output: Encodable
    func handle(_ event: Event, context: LambdaContext) async throws -> Output
}

/// Adapts a ``TypedLambdaHandler``: undecodable events are `Analemma.InvalidEvent`, naming the problem. Responses
/// are written by ``ResponseJSONEncoder`` (``CanonicalJSON``'s bytes, strings copied a word at a time).
public struct CodableHandler<Typed: TypedLambdaHandler>: LambdaHandler {
    public let typed: Typed
    public init(_ typed: Typed) { self.typed = typed }

    public func handle(_ event: Data, context: LambdaContext) async throws -> Data {
        let input: Typed.Event
        do {
            input = try JSONDecoder().decode(Typed.Event.self, from: event)
        } catch {
            throw AnalemmaError(.invalidEvent, "event is not a valid \(Typed.Event.self): \(error)")
        }
        let output = try await typed.handle(input, context: context)
        do {
            return try ResponseJSONEncoder.encode(output)
        } catch {
            throw AnalemmaError(.invalidResponse, "response \(Typed.Output.self) could not be encoded: \(error)")
        }
    }
}

/// A handler from a closure (tests, benchmarks, tiny functions).
public struct ClosureHandler: LambdaHandler {
    let body: @Sendable (Data, LambdaContext) async throws -> Data
    public init(_ body: @escaping @Sendable (Data, LambdaContext) async throws -> Data) { self.body = body }
    public func handle(_ event: Data, context: LambdaContext) async throws -> Data { try await body(event, context) }
}

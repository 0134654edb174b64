#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What the state machine sends the segment runner (`{"action": …, …}`), parsed once into each action's own values.
/// Values that enter from outside (the start input, a human response, a Catch's `Cause`) stay raw bytes: the step
/// that uses them dehydrates them.
package enum SegmentEvent: Sendable {
    /// The execution's first step: its ARN (`$$.Execution.Id`) and the StartExecution input, raw.
    case initialize(executionID: String, start: Data)
    /// Run the cursor's segment.
    case run(KernelPayload)
    /// Inside the `.waitForTaskToken` state: record the question and its task token.
    case ask(KernelPayload, taskToken: String)
    /// After `SendTaskSuccess`: the human's answer (`--task-output`), raw.
    case resume(KernelPayload, response: Data?)
    /// Nothing left to run: the output.
    case finalize(KernelPayload)
    /// A Catch: record the error (when the Catch saw one).
    case fail(KernelPayload, Caught?)
    /// A Catch of a healable error: ask for a fix and run the segment again.
    case heal(KernelPayload, Caught)
    /// A Distributed Map child: one chunk.
    case mapChunk(MapChunkItem)
    /// After the Distributed Map and the light aggregator: its statistics (`kernel.map_agg.stats`).
    case mapDone(KernelPayload, stats: MapAggregate)
    /// After `WaitBatch`: poll the map's batch job; collect its answers once it is done.
    case batchPoll(KernelPayload)

    /// The `action` names, as the ASL writes them.
    package enum Action: String, Sendable, CaseIterable {
        case initialize, run, ask, resume, finalize, fail, heal
        case mapChunk = "map_chunk"
        case mapDone = "map_done"
        case batchPoll = "batch_poll"
    }

    /// An error a Catch caught (`Error`, `Cause`).
    package struct Caught: Sendable, Equatable {
        package var type: String
        package var cause: String?
    }

    package var action: Action {
        switch self {
        case .initialize: .initialize
        case .run: .run
        case .ask: .ask
        case .resume: .resume
        case .finalize: .finalize
        case .fail: .fail
        case .heal: .heal
        case .mapChunk: .mapChunk
        case .mapDone: .mapDone
        case .batchPoll: .batchPoll
        }
    }

    /// The previous step's payload (every action but `initialize` and `map_chunk`).
    package var kernel: KernelPayload? {
        switch self {
        case .run(let k), .ask(let k, _), .resume(let k, _), .finalize(let k), .fail(let k, _), .heal(let k, _), .mapDone(let k, _),
            .batchPoll(let k):
            k
        case .initialize, .mapChunk: nil
        }
    }

    /// The execution whose cost report counts this invocation (nil for a map chunk: `map_done` counts the children
    /// from DescribeMapRun, ``SegmentRunnerService/childUsage(chunks:)``). Only a step that is not refused keeps it (``UsageLedger/abandon()``).
    var usageExecutionID: String? {
        if case .initialize(let executionID, _) = self { return executionID }
        return kernel?.executionID
    }

    /// The states of `StateMachines/workflow.asl.json` one invocation of this action stands for, each a billed
    /// transition: its Task and what follows up to the next kernel Task (`Route`, `Succeeded`, `Failed`; a map's
    /// `FanOut` and `Aggregate` count with `map_done`; its child executions' with ``SegmentRunnerService/childUsage(chunks:)``).
    var transitions: Int {
        switch self {
        case .initialize, .run, .resume, .heal, .finalize, .fail: 2
        case .ask: 1
        case .mapDone: 4
        case .batchPoll: 3  // PollBatch, Route, WaitBatch
        case .mapChunk: 0
        }
    }

    /// Who the event claims to act for, for error scopes and log lines only (never trusted).
    var claimedIdentity: (traceID: String?, executionID: String?, ownerID: String?) {
        switch self {
        case .initialize(let executionID, let start):
            let owner = JSONScanner.object(start)?["owner_id"].flatMap { try? JSONDecoder().decode(String.self, from: $0) }
            return (nil, executionID, owner)
        case .mapChunk(let item): return (item.identity.traceID, item.identity.executionID, item.identity.ownerID)
        default: return (kernel?.traceID, kernel?.executionID, kernel?.ownerID)
        }
    }
}

/// A Distributed Map item as the workflow state machine's `ItemSelector` builds it.
package struct MapChunkItem: Decodable, Sendable {
    /// An ItemReader entry: the items object, the chunk's index and size, its frame's byte range (absent in maps
    /// written before the items object, whose chunks are objects of their own).
    package struct Chunk: Decodable, Sendable {
        package var chunk: String
        package var index: Int
        package var size: Int
        package var offset: Int?
        package var length: Int?
    }
    package struct Identity: Decodable, Sendable {
        package var executionID: String
        package var ownerID: String
        package var traceID: String
        enum CodingKeys: String, CodingKey {
            case executionID = "execution_id"
            case ownerID = "owner_id"
            case traceID = "trace_id"
        }
    }
    package var chunk: Chunk
    package var map: Cursor.FanOut
    package var identity: Identity
    package var workflow: String
}

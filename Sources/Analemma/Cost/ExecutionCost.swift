#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// An execution's cost so far, read from its stored state: the usage its head's cursor records (a continue-as-new
/// chain carries it on to each next execution) and `llm_usage`'s model estimate, priced by a ``PriceTable``.
///
/// Up to its last commit: what the invocation running now, or the `finalize` that ended it, used is not in it (an
/// ended execution's output has the report `finalize` made, which is).
package struct ExecutionCost: Sendable {
    package let manifests: ManifestStore
    package let hydrator: StateHydrator

    package init(manifests: ManifestStore, hydrator: StateHydrator) {
        self.manifests = manifests
        self.hydrator = hydrator
    }

    /// The report at `executionID`'s head (nil when the execution has no checkpoint).
    package func report(executionID: String, prices: PriceTable) async throws -> CostReport? {
        let head = try await manifests.head(executionID: executionID)
        guard let id = head.manifestID, let manifest = try await manifests.manifest(executionID: executionID, manifestID: id) else {
            return nil
        }
        let state = try await hydrator.hydrate(manifest, present: ["cursor", "llm_usage"])
        let cursor = try SegmentRunnerService.decodeCursor(state["cursor"])
        return CostReport(usage: cursor.usage ?? Usage(), prices: prices, modelDollars: CostReport.modelDollars(state["llm_usage"]))
    }
}

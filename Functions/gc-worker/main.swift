import Analemma

// gc-worker: SQS-triggered; re-verifies and deletes unreferenced blocks (GarbageCollector), reports partial batch
// failures so only failed messages are redelivered (and reach the DLQ after maxReceiveCount).
await Lambda.run { environment, logger in try GCWorkerService(environment: environment, logger: logger) }

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Shard announcements (``EventNotification`` from the events queue) into messages for the subscribers.
extension WebSocketNotifierService {
    struct Batch: Decodable {
        struct Record: Decodable {
            var messageId: String
            var body: String
        }
        var Records: [Record]
    }

    /// What one announcement did.
    package struct Delivery: Sendable, Equatable {
        package var messages = 0
        package var connections = 0
        package var gone = 0
        package var failed = 0
    }

    func notifyBatch(_ event: Data) async throws -> Data {
        let batch: Batch
        do { batch = try JSONDecoder().decode(Batch.self, from: event) } catch {
            throw AnalemmaError(
                .invalidEvent, "websocket-notifier expects an SQS event {\"Records\": [{\"messageId\", \"body\"}]}: \(error)")
        }
        var failures: [JSONValue] = []
        for (i, record) in batch.Records.enumerated() {
            do {
                let n: EventNotification
                do { n = try JSONDecoder().decode(EventNotification.self, from: Data(record.body.utf8)) } catch {
                    throw AnalemmaError(
                        .invalidEvent, "announcement is not {owner_id, execution_id, trace_id, shard, count, last_event}: \(error)")
                }
                let d = try await notify(n)
                logger.info(
                    "delivered",
                    [
                        "execution_id": n.execution_id, "connections": String(d.connections), "messages": String(d.messages),
                        "gone": String(d.gone),
                    ])
            } catch let error as AnalemmaError where error.code == .invalidEvent || error.code == .forgedPointer {
                logger.error("announcement dropped", ["message_id": record.messageId, "error": error.message])  // poison: never retried
            } catch {
                // FIFO: this record and every later one of the batch come back, in order.
                logger.warn("announcement failed, will be retried", ["message_id": record.messageId, "error": "\(error)"])
                failures += batch.Records[i...].map { .object(["itemIdentifier": .string($0.messageId)]) }
                break
            }
        }
        return JSONValue.object(["batchItemFailures": .array(failures)]).jsonData()
    }

    /// Reads the announced shard (only it: light hydration) and posts it to the execution's subscribers of the same owner.
    package func notify(_ n: EventNotification) async throws -> Delivery {
        let pointer = try StatePointer(parsing: n.shard, stateBucket: eventLog.bucket, ownerID: n.owner_id)
        let folder = try StatePointer(bucket: eventLog.bucket, ownerID: n.owner_id, path: EventLog.folder(n.execution_id)).key + "/"
        guard pointer.key.hasPrefix(folder) else {
            throw AnalemmaError(
                .forgedPointer, "shard \(n.shard.prefix(200).debugDescription) is not one of execution \(n.execution_id.prefix(200))'s")
        }
        let now = clock.nowMillis() / 1000  // a connection whose token expired gets nothing more, even while open
        let subscribers = try await registry.subscribers(of: n.execution_id).filter { $0.ownerID == n.owner_id && $0.expiresAt > now }
        var d = Delivery()
        guard !subscribers.isEmpty else { return d }
        let messages = pruner.messages(
            records: try await eventLog.read(pointer), executionID: n.execution_id, traceID: n.trace_id, shard: n.shard)
        for s in subscribers {
            d.connections += 1
            do {
                for m in messages {
                    try await post(s.connectionID, m)
                    d.messages += 1
                }
            } catch is APIGatewayManagement.ConnectionGone {
                d.gone += 1
            } catch {
                d.failed += 1  // one slow or broken client never holds back the others; it can subscribe again for the backlog
                logger.warn("post failed", ["connection": s.connectionID, "error": "\(error)"])
            }
        }
        return d
    }
}

import Analemma

// websocket-notifier: the WebSocket API's routes ($connect with an owner token, subscribe, $disconnect) and the
// events queue's shard announcements, posted pruned (≤128 KB) to each subscribed connection.
await Lambda.run { environment, logger in try WebSocketNotifierService(environment: environment, logger: logger) }

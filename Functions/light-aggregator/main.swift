import Analemma

// light-aggregator: a Distributed Map's statistics from its ResultWriter manifest and DescribeMapRun counts only
// (never the result files), for StateMachines/workflow.asl.json's Aggregate state.
await Lambda.run { environment, logger in try LightAggregatorService(environment: environment, logger: logger) }

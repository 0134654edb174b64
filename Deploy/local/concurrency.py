"""Lambda's concurrency limits, as the local Lambda service applies them."""

import threading

ACCOUNT_CONCURRENCY = 1000  # Lambda's default account limit per Region


class Concurrency:
    """Lambda's concurrency limits for synchronous Invoke: a function's own (`local.concurrency`, standing for its
    reserved concurrency) and the account's. Beyond either, Invoke answers 429 TooManyRequestsException with the
    documented Reason instead of queueing (instances beyond `maxInstances` still queue: that is this machine's CPU).
    https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors"""

    def __init__(self, account, per_function):
        self.account, self.per_function = account, per_function
        self.lock = threading.Lock()
        self.running = {}
        self.throttled = 0

    def enter(self, name):
        """None when admitted; else (Reason, message)."""
        with self.lock:
            own = self.per_function.get(name)
            if own is not None and self.running.get(name, 0) >= own:
                self.throttled += 1
                return "ReservedFunctionConcurrentInvocationLimitExceeded", f"Rate Exceeded. (reserved concurrency {own})"
            if sum(self.running.values()) >= self.account:
                self.throttled += 1
                return "ConcurrentInvocationLimitExceeded", f"Rate Exceeded. (account concurrency {self.account})"
            self.running[name] = self.running.get(name, 0) + 1
            return None

    def leave(self, name):
        with self.lock:
            self.running[name] -= 1

/// Access key, secret and (for Lambda's role credentials) session token.
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`: what Lambda provides to every function.
    public init(environment: FunctionEnvironment) throws {
        self.init(
            accessKeyID: try environment.require("AWS_ACCESS_KEY_ID", "AWS credentials"),
            secretAccessKey: try environment.require("AWS_SECRET_ACCESS_KEY", "AWS credentials"),
            sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
    }
}

/// Access key, secret and (for Lambda's role credentials) session token.
package struct AWSCredentials: Sendable, Equatable {
    package var accessKeyID: String
    package var secretAccessKey: String
    package var sessionToken: String?

    package init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`: what Lambda provides to every function.
    package init(environment: FunctionEnvironment) throws {
        self.init(
            accessKeyID: try environment.require("AWS_ACCESS_KEY_ID", "AWS credentials"),
            secretAccessKey: try environment.require("AWS_SECRET_ACCESS_KEY", "AWS credentials"),
            sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
    }
}

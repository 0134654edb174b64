#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Amazon S3 over REST/XML: path-style addressing for custom endpoints, virtual-hosted for AWS.
///
/// https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
package struct S3: Sendable {
    package let client: AWSClient
    package let endpoint: AWSEndpoint

    package init(client: AWSClient) throws {
        self.client = client
        self.endpoint = try client.endpoint(serviceID: "S3", prefix: "s3")
    }

    /// The request for `key` in `bucket` (nil key: the bucket itself).
    func request(
        _ method: String, bucket: String, key: String? = nil, query: [(String, String)] = [], headers: [(String, String)] = [],
        body: Data = Data()
    )
        -> HTTPRequest
    {
        let encodedKey = key.map { "/" + URIEncoding.encode($0, keepSlash: true) } ?? "/"
        if endpoint.isCustom {
            let path = "/\(bucket)" + (key == nil ? "" : encodedKey)
            return HTTPRequest(
                method: method, scheme: endpoint.scheme, host: endpoint.host, port: endpoint.port, path: path, query: query,
                headers: headers, body: body)
        }
        return HTTPRequest(
            method: method, scheme: endpoint.scheme, host: "\(bucket).\(endpoint.host)", port: endpoint.port, path: encodedKey,
            query: query,
            headers: headers, body: body)
    }

    func send(_ request: HTTPRequest, _ operation: String, idempotent: Bool = true, deadlineMillis: Int64? = nil) async throws
        -> HTTPResponse
    {
        try await client.send(
            request, signingName: "s3", operation: "s3:\(operation)", idempotent: idempotent, deadlineMillis: deadlineMillis)
    }

    /// Write preconditions for PutObject.
    package enum Precondition: Sendable, Equatable {
        case none
        /// `If-None-Match: *`: create only (a second writer gets `PreconditionFailed`).
        case createOnly
        /// `If-Match: <etag>`: replace only that version.
        case ifMatch(String)
    }

    /// PutObject; returns the ETag. A failed precondition is ``AWSError`` `PreconditionFailed` (412).
    @discardableResult
    package func putObject(
        bucket: String, key: String, body: Data, precondition: Precondition = .none, contentType: String? = nil,
        contentEncoding: String? = nil,
        tags: [(String, String)] = [], deadlineMillis: Int64? = nil
    ) async throws -> String {
        var headers: [(String, String)] = []
        switch precondition {
        case .none: break
        case .createOnly: headers.append(("If-None-Match", "*"))
        case .ifMatch(let etag): headers.append(("If-Match", etag))
        }
        if let contentType { headers.append(("Content-Type", contentType)) }
        if let contentEncoding { headers.append(("Content-Encoding", contentEncoding)) }
        if !tags.isEmpty {
            headers.append(("x-amz-tagging", tags.map { URIEncoding.encode($0.0) + "=" + URIEncoding.encode($0.1) }.joined(separator: "&")))
        }
        let r = try await send(
            request("PUT", bucket: bucket, key: key, headers: headers, body: body), "PutObject", deadlineMillis: deadlineMillis)
        return r.header("ETag") ?? ""
    }

    /// An object's bytes and what S3 said about them.
    package struct Object: Sendable {
        package var body: Data
        package var etag: String?
        package var contentEncoding: String?
        package var contentType: String?
        /// `Content-Range` of a ranged read, e.g. `bytes 0-9/1000`.
        package var contentRange: String?
    }

    /// GetObject, optionally a byte range (inclusive). Missing keys are ``AWSError`` `NoSuchKey` (404).
    package func getObject(bucket: String, key: String, range: ClosedRange<Int>? = nil, deadlineMillis: Int64? = nil) async throws -> Object
    {
        let headers = range.map { [("Range", "bytes=\($0.lowerBound)-\($0.upperBound)")] } ?? []
        let r = try await send(request("GET", bucket: bucket, key: key, headers: headers), "GetObject", deadlineMillis: deadlineMillis)
        return Object(
            body: r.body, etag: r.header("ETag"), contentEncoding: r.header("Content-Encoding"), contentType: r.header("Content-Type"),
            contentRange: r.header("Content-Range"))
    }

    /// HeadObject metadata.
    package struct Head: Sendable {
        package var contentLength: Int
        package var etag: String?
        package var contentEncoding: String?
    }

    /// HeadObject; nil when there is no such object.
    package func headObject(bucket: String, key: String) async throws -> Head? {
        do {
            let r = try await send(request("HEAD", bucket: bucket, key: key), "HeadObject")
            return Head(
                contentLength: r.header("Content-Length").flatMap(Int.init) ?? 0, etag: r.header("ETag"),
                contentEncoding: r.header("Content-Encoding"))
        } catch let e as AWSError where e.status == 404 {
            return nil
        }
    }

    /// DeleteObject (idempotent: deleting a missing key succeeds).
    package func deleteObject(bucket: String, key: String) async throws {
        _ = try await send(request("DELETE", bucket: bucket, key: key), "DeleteObject")
    }
}

import Glibc

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// S3 operations with XML bodies: batch delete, tagging, listing.
extension S3 {
    /// A key DeleteObjects could not delete, with S3's reason.
    package struct DeleteFailure: Sendable, Equatable {
        package var key: String
        package var code: String
        package var message: String
    }

    /// DeleteObjects in batches of 1,000 (S3's limit); returns the keys it could not delete (not thrown).
    package func deleteObjects(bucket: String, keys: [String]) async throws -> [DeleteFailure] {
        var failures: [DeleteFailure] = []
        for start in stride(from: 0, to: keys.count, by: 1000) {
            let batch = keys[start..<min(keys.count, start + 1000)]
            var xml = #"<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>"#
            for key in batch { xml += "<Object><Key>\(XMLScanner.escape(key))</Key></Object>" }
            xml += "</Delete>"
            let body = Data(xml.utf8)
            // S3 requires an integrity header on DeleteObjects; a SHA-256 checksum serves instead of Content-MD5.
            let checksum = Data(Digest.sha256(body)).base64EncodedString()
            let r = try await send(
                request(
                    "POST", bucket: bucket, query: [("delete", "")],
                    headers: [
                        ("Content-Type", "application/xml"), ("x-amz-checksum-sha256", checksum),
                        ("x-amz-sdk-checksum-algorithm", "SHA256"),
                    ],
                    body: body), "DeleteObjects")
            let text = String(decoding: r.body, as: UTF8.self)
            for error in XMLScanner.elements(named: "Error", in: text) {
                failures.append(
                    DeleteFailure(
                        key: XMLScanner.firstText(of: "Key", in: error) ?? "", code: XMLScanner.firstText(of: "Code", in: error) ?? "",
                        message: XMLScanner.firstText(of: "Message", in: error) ?? ""))
            }
        }
        return failures
    }

    /// GetObjectTagging: the object's tags in S3's order.
    package func getObjectTagging(bucket: String, key: String) async throws -> [(String, String)] {
        let r = try await send(request("GET", bucket: bucket, key: key, query: [("tagging", "")]), "GetObjectTagging")
        return XMLScanner.elements(named: "Tag", in: String(decoding: r.body, as: UTF8.self)).map {
            (XMLScanner.firstText(of: "Key", in: $0) ?? "", XMLScanner.firstText(of: "Value", in: $0) ?? "")
        }
    }

    /// PutObjectTagging: replaces the object's tags (S3 allows at most 10).
    package func putObjectTagging(bucket: String, key: String, tags: [(String, String)]) async throws {
        var xml = #"<?xml version="1.0" encoding="UTF-8"?><Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>"#
        for (k, v) in tags { xml += "<Tag><Key>\(XMLScanner.escape(k))</Key><Value>\(XMLScanner.escape(v))</Value></Tag>" }
        xml += "</TagSet></Tagging>"
        let body = Data(xml.utf8)
        let checksum = Data(Digest.sha256(body)).base64EncodedString()
        _ = try await send(
            request(
                "PUT", bucket: bucket, key: key, query: [("tagging", "")],
                headers: [
                    ("Content-Type", "application/xml"), ("x-amz-checksum-sha256", checksum), ("x-amz-sdk-checksum-algorithm", "SHA256"),
                ],
                body: body), "PutObjectTagging")
    }

    /// One listed object.
    package struct Listed: Sendable, Equatable {
        package var key: String
        package var size: Int
        package var etag: String?
        /// `LastModified` as epoch milliseconds (nil if absent or unreadable).
        package var lastModifiedMillis: Int64? = nil
    }

    /// `2026-11-25T19:06:31.000Z` → epoch milliseconds (UTC; whole seconds are enough for ages).
    static func epochMillis(_ iso: String) -> Int64? {
        let d = iso.split(whereSeparator: { !$0.isNumber }).prefix(6).compactMap { Int32($0) }
        guard d.count == 6 else { return nil }
        var parts = tm()
        (parts.tm_year, parts.tm_mon, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec) = (
            d[0] - 1900, d[1] - 1, d[2], d[3], d[4], d[5]
        )
        return Int64(timegm(&parts)) * 1000
    }

    /// ListObjectsV2 under `prefix`, following continuation tokens (or stopping at `maxKeys`).
    package func listObjects(bucket: String, prefix: String = "", pageSize: Int = 1000, maxKeys: Int = .max) async throws -> [Listed] {
        var listed: [Listed] = []
        var token: String?
        repeat {
            var query: [(String, String)] = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(pageSize))]
            if let token { query.append(("continuation-token", token)) }
            let r = try await send(request("GET", bucket: bucket, query: query), "ListObjectsV2")
            let text = String(decoding: r.body, as: UTF8.self)
            for item in XMLScanner.elements(named: "Contents", in: text) {
                listed.append(
                    Listed(
                        key: XMLScanner.firstText(of: "Key", in: item) ?? "",
                        size: XMLScanner.firstText(of: "Size", in: item).flatMap(Int.init) ?? 0,
                        etag: XMLScanner.firstText(of: "ETag", in: item),
                        lastModifiedMillis: XMLScanner.firstText(of: "LastModified", in: item).flatMap(Self.epochMillis)))
            }
            token =
                XMLScanner.firstText(of: "IsTruncated", in: text) == "true"
                ? XMLScanner.firstText(of: "NextContinuationToken", in: text) : nil
        } while token != nil && listed.count < maxKeys
        return Array(listed.prefix(maxKeys))
    }
}

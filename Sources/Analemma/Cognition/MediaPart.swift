#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One part of a user turn: text, a state field's bytes with their MIME type, or a file the Files API holds.
/// https://ai.google.dev/api/caching#Part
package enum UserPart: Sendable, Equatable {
    case text(String)
    /// Bytes not yet placed: sent inline, or uploaded first when the request would be too large (``MediaPlacement``).
    case media(MediaPart)
    /// An uploaded file (`files/…`'s `uri`).
    case file(mimeType: String, uri: String)
}

/// A state field's bytes as a model input: an image, a PDF or a text file, its MIME type checked against its bytes.
package struct MediaPart: Sendable, Equatable {
    package var field: String
    package var mimeType: String
    package var data: Data

    /// The MIME types an `llm` node may send (Gemini's image, document and text inputs).
    /// https://ai.google.dev/gemini-api/docs/image-understanding · https://ai.google.dev/gemini-api/docs/document-processing
    package static let mimeTypes: Set<String> = [
        "image/png", "image/jpeg", "image/webp", "image/heic", "image/heif", "application/pdf", "text/plain", "text/html", "text/css",
        "text/csv", "text/markdown", "text/xml", "text/javascript", "application/json",
    ]
    /// The largest part the kernel sends (the Files API takes up to 2 GB; a Lambda's memory is the real bound).
    package static let maxBytes = 100 * 1024 * 1024

    /// A field's value as a part: `{"mime_type": "image/png", "data": "<base64>"}`, or a string sent as the
    /// UTF-8 bytes of a text type (`declared`, the node's `mime_type` for the part, required then).
    package init(field: String, value: Data, declared: String?, node: String) throws {
        func refuse(_ why: String) -> AnalemmaError {
            AnalemmaError(.invalidMedia, "node \(node.debugDescription): field \(field.debugDescription) \(why)")
        }
        let json: JSONValue
        do { json = try JSONValue(json: value) } catch { throw refuse("is not JSON") }
        switch json {
        case .string(let text):
            guard let mime = declared, Self.isText(mime) else {
                throw refuse("is a string: give the part a text mime_type (text/plain, text/css, …) or store {\"mime_type\", \"data\"}")
            }
            self.init(field: field, mimeType: mime, data: Data(text.utf8))
        case .object(let members):
            guard case .string(let mime)? = members["mime_type"], case .string(let base64)? = members["data"], members.count == 2 else {
                throw refuse("must be {\"mime_type\": \"…\", \"data\": \"<base64>\"} (nothing else)")
            }
            if let declared, declared != mime { throw refuse("holds \(mime.prefix(64).debugDescription), the node declares \(declared)") }
            guard base64.utf8.count <= (Self.maxBytes / 3 + 1) * 4 else { throw refuse("is larger than \(Self.maxBytes >> 20) MiB") }
            let standard = String(base64.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })  // either alphabet
            guard let bytes = Data(base64Encoded: standard) else { throw refuse("data is not base64") }
            self.init(field: field, mimeType: mime, data: bytes)
        default:
            throw refuse("must be {\"mime_type\", \"data\"} or a string")
        }
        guard Self.mimeTypes.contains(mimeType) else {
            throw refuse(
                "has MIME type \(mimeType.prefix(64).debugDescription), not one of \(Self.mimeTypes.sorted().joined(separator: ", "))")
        }
        guard !data.isEmpty, data.count <= Self.maxBytes else { throw refuse("must hold 1 byte to \(Self.maxBytes >> 20) MiB") }
        if let why = Self.mismatch(mimeType, data) { throw refuse("is not \(mimeType): \(why)") }
    }

    package init(field: String, mimeType: String, data: Data) {
        self.field = field
        self.mimeType = mimeType
        self.data = data
    }

    /// The bytes in the URL-safe base64 alphabet, padded. https://protobuf.dev/programming-guides/json/ (bytes)
    package var urlSafeBase64: String {
        String(data.base64EncodedString().map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    static func isText(_ mime: String) -> Bool { mime.hasPrefix("text/") || mime == "application/json" }

    /// Why the bytes are not of the MIME type (their signature, or UTF-8 for text); nil when they are.
    static func mismatch(_ mime: String, _ data: Data) -> String? {
        let head = [UInt8](data.prefix(12))
        func starts(_ bytes: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + bytes.count && Array(head[offset..<offset + bytes.count]) == bytes
        }
        switch mime {
        case "image/png": return starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) ? nil : "no PNG signature"
        case "image/jpeg": return starts([0xFF, 0xD8, 0xFF]) ? nil : "no JPEG SOI marker"
        case "image/webp": return starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) ? nil : "no RIFF/WEBP header"
        case "image/heic", "image/heif": return starts(Array("ftyp".utf8), at: 4) ? nil : "no ISO BMFF ftyp box"
        case "application/pdf": return starts(Array("%PDF-".utf8)) ? nil : "no %PDF- header"
        default: return String(validating: data, as: UTF8.self) == nil ? "not UTF-8 text" : nil
        }
    }
}

/// Where each part goes: inline while the request stays under the inline limit, else (largest first) through the
/// Files API on the Developer API; Vertex AI takes inline data only (its file URIs are Cloud Storage objects).
/// https://ai.google.dev/gemini-api/docs/files — "use the Files API when the total request size is larger than 20 MB"
package enum MediaPlacement {
    /// The inline budget of one request: 20 MB on the wire, less the base64 growth (4/3) and room for the rest.
    package static let inlineMaxBytes = 14 * 1024 * 1024

    /// The indices of the parts to upload so the inline remainder fits `inlineMax` (raw bytes), largest first.
    package static func uploads(_ parts: [UserPart], inlineMax: Int) -> [Int] {
        var media = parts.enumerated().compactMap { i, p -> (Int, Int)? in
            if case .media(let m) = p { return (i, m.data.count) }
            return nil
        }
        var inline = media.reduce(0) { $0 + $1.1 }
        media.sort { $0.1 > $1.1 }
        var out: [Int] = []
        for (i, size) in media where inline > inlineMax {
            out.append(i)
            inline -= size
        }
        return out
    }
}

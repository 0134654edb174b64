"""The stand-in's Files API and its checks of media parts, as Google answers them (Developer API only):

  POST {base}/upload/v1beta/files        X-Goog-Upload-Protocol: resumable, X-Goog-Upload-Command: start,
                                         X-Goog-Upload-Header-Content-Length / -Content-Type, body {"file": {...}}
                                         -> 200, X-Goog-Upload-URL: {base}/upload/v1beta/files/sessions/{id}
  POST {session URL}                     X-Goog-Upload-Command: upload, finalize; X-Goog-Upload-Offset: 0; the bytes
                                         -> {"file": {"name": "files/{id}", "uri", "mimeType", "sizeBytes", "state": "ACTIVE"}}

A session that is finalized with another length than it announced is a 400; a generateContent part is checked:
inlineData must be the bytes of its mimeType (the signature of an image or PDF, UTF-8 for text), fileData must name
a file this stand-in holds with the same mimeType (else 403, as Google answers for a file that does not exist).
https://ai.google.dev/api/files
"""

import base64
import hashlib
import re
import uuid

START = "/upload/v1beta/files"
SESSION = re.compile(r"^/upload/v1beta/files/sessions/([0-9a-f]{32})$")
URLSAFE = str.maketrans("-_", "+/")
SIGNATURES = {"image/png": (0, b"\x89PNG\r\n\x1a\n"), "image/jpeg": (0, b"\xff\xd8\xff"), "application/pdf": (0, b"%PDF-"),
              "image/heic": (4, b"ftyp"), "image/heif": (4, b"ftyp")}


def mismatch(mime, data):
    """Why `data` is not of `mime` (None when it is)."""
    if mime == "image/webp":
        return None if data[:4] == b"RIFF" and data[8:12] == b"WEBP" else "no RIFF/WEBP header"
    if mime in SIGNATURES:
        offset, sig = SIGNATURES[mime]
        return None if data[offset:offset + len(sig)] == sig else f"no {mime} signature"
    if mime.startswith("text/") or mime == "application/json":
        try:
            data.decode("utf-8")
            return None
        except UnicodeDecodeError:
            return "not UTF-8 text"
    return f"unsupported MIME type {mime}"


class Files:
    def __init__(self, error, answer):
        self.error, self.answer = error, answer
        self.sessions = {}  # id -> {"length", "mime", "display"}
        self.files = {}  # name -> {"uri", "mimeType", "sizeBytes", "sha256", "data"}
        self.uploads = []  # what each upload carried (listing)

    def matches(self, method, path):
        return method == "POST" and (path == START or SESSION.match(path) is not None)

    def handle(self, path, headers, body, base):
        if not headers.get("x-goog-api-key"):
            return self.error(401, "API key missing: send x-goog-api-key")
        if path == START:
            if headers.get("X-Goog-Upload-Protocol") != "resumable" or headers.get("X-Goog-Upload-Command") != "start":
                return self.error(400, "Upload protocol must be resumable, command start")
            try:
                length = int(headers.get("X-Goog-Upload-Header-Content-Length", ""))
            except ValueError:
                return self.error(400, "X-Goog-Upload-Header-Content-Length is required")
            mime = headers.get("X-Goog-Upload-Header-Content-Type", "")
            if not mime:
                return self.error(400, "X-Goog-Upload-Header-Content-Type is required")
            session = uuid.uuid4().hex
            self.sessions[session] = {"length": length, "mime": mime}
            status, hdrs, out = self.answer(200, {})
            return status, hdrs + [("X-Goog-Upload-URL", f"{base}/upload/v1beta/files/sessions/{session}"),
                                   ("X-Goog-Upload-Status", "active")], out
        session = self.sessions.pop(SESSION.match(path).group(1), None)
        if session is None:
            return self.error(404, "No such upload session")
        if headers.get("X-Goog-Upload-Command") != "upload, finalize" or headers.get("X-Goog-Upload-Offset") != "0":
            return self.error(400, "Expected X-Goog-Upload-Command: upload, finalize at X-Goog-Upload-Offset: 0")
        if len(body) != session["length"]:
            return self.error(400, f"Upload of {len(body)} bytes, {session['length']} announced")
        name = f"files/{uuid.uuid4().hex[:12]}"
        digest = hashlib.sha256(body).hexdigest()
        self.files[name] = {"name": name, "uri": f"{base}/v1beta/{name}", "mimeType": session["mime"],
                            "sizeBytes": str(len(body)), "sha256": digest, "data": body}
        self.uploads.append({"name": name, "mimeType": session["mime"], "size": len(body), "sha256": digest})
        meta = {k: v for k, v in self.files[name].items() if k not in ("data", "sha256")}
        return self.answer(200, {"file": dict(meta, state="ACTIVE", sha256Hash=base64.b64encode(bytes.fromhex(digest)).decode())})

    def check(self, request, vertex=False):
        """(refusal, [media seen]) for a generateContent body's parts: (None, seen) when every part is acceptable.
        On Vertex AI a fileData URI must be a Cloud Storage object (gs://), which this stand-in does not hold."""
        seen = []
        for content in request.get("contents") or []:
            for part in content.get("parts") or []:
                inline, file = part.get("inlineData") or part.get("inline_data"), part.get("fileData") or part.get("file_data")
                if inline:
                    mime = inline.get("mimeType") or inline.get("mime_type") or ""
                    data = base64.b64decode((inline.get("data") or "").translate(URLSAFE))  # either alphabet
                    why = mismatch(mime, data)
                    if why:
                        return (400, f"Unable to process input image or file: {why}"), seen
                    seen.append({"via": "inline", "mimeType": mime, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
                elif file and vertex:
                    return (400, "Vertex AI: fileData.fileUri must be a gs:// Cloud Storage URI"), seen
                elif file:
                    uri, mime = file.get("fileUri") or file.get("file_uri") or "", file.get("mimeType") or file.get("mime_type")
                    held = next((f for f in self.files.values() if f["uri"] == uri), None)
                    if held is None:
                        return (403, f"You do not have permission to access the File {uri} or it may not exist."), seen
                    if mime and mime != held["mimeType"]:
                        return (400, f"fileData.mimeType {mime} is not the file's {held['mimeType']}"), seen
                    why = mismatch(held["mimeType"], held["data"])
                    if why:
                        return (400, f"Unable to process input image or file: {why}"), seen
                    seen.append({"via": "file", "mimeType": held["mimeType"], "size": len(held["data"]), "sha256": held["sha256"]})
        return None, seen

    def listing(self):
        return {"files": [{k: v for k, v in f.items() if k != "data"} for f in self.files.values()], "uploads": self.uploads}

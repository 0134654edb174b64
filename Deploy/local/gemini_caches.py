"""The stand-in's `cachedContents` (explicit context caching), as Google serves and refuses it:

  POST /v1beta/cachedContents                               {"model": "models/{m}", "contents", "systemInstruction", "tools", "ttl"}
  POST /v1/projects/{p}/locations/{l}/cachedContents        {"model": "projects/{p}/locations/{l}/publishers/google/models/{m}", ...}

A cache below MIN_TOKENS is refused ("Cached content is too small"); a generateContent naming a cache may not set its
own systemInstruction, tools or toolConfig, must use the cache's model, and is billed the cache's tokens as
cachedContentTokenCount (part of promptTokenCount). An unknown or expired cache is 403 PERMISSION_DENIED.
https://ai.google.dev/api/caching
"""

import datetime
import re
import time
import uuid

DEVELOPER = re.compile(r"^/v1beta/cachedContents$")
VERTEX = re.compile(r"^/v1/(projects/[^/]+/locations/[^/]+)/cachedContents$")
MIN_TOKENS = 1024  # Gemini's smallest explicit cache (Flash models)
_MEMBERS = None


def _members():
    global _MEMBERS
    if _MEMBERS is None:
        from google.genai import types
        from pydantic import TypeAdapter
        _MEMBERS = {"model": TypeAdapter(str), "ttl": TypeAdapter(str), "expireTime": TypeAdapter(str),
                    "displayName": TypeAdapter(str), "contents": TypeAdapter(list[types.Content]),
                    "systemInstruction": TypeAdapter(types.Content), "tools": TypeAdapter(list[types.Tool]),
                    "toolConfig": TypeAdapter(types.ToolConfig)}
    return _MEMBERS


def text_tokens(*contents):
    """~4 bytes of text per token, as the stand-in counts prompts."""
    size = 0
    for c in contents:
        for part in (c or {}).get("parts") or []:
            size += len((part.get("text") or "").encode())
    return (size + 3) // 4


def _stamp(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Caches:
    def __init__(self, error, respond):
        self.error, self.respond = error, respond
        self.entries = {}  # name -> entry

    def create(self, path, request, refuse):
        """(status, headers, body) for a cachedContents path, else None. `refuse(doc, members)` names a bad member."""
        dev, vertex = DEVELOPER.match(path), VERTEX.match(path)
        if not (dev or vertex):
            return None
        why = refuse(request, _members())
        if why:
            return self.error(400, why)
        model = request.get("model", "")
        prefix = "models/" if dev else f"{vertex.group(1)}/publishers/google/models/"
        if not model.startswith(prefix):
            return self.error(400, f"model must be a model resource name ({prefix}...), not {model!r}")
        ttl = re.fullmatch(r"(\d+(?:\.\d+)?)s", request.get("ttl", "3600s"))
        if not ttl:
            return self.error(400, f"Invalid value at 'cached_content.ttl' ({request.get('ttl')!r}): a duration like \"600s\"")
        tokens = text_tokens(request.get("systemInstruction"), *(request.get("contents") or []))
        if tokens < MIN_TOKENS:
            return self.error(400, f"Cached content is too small. total_token_count={tokens}, min_total_token_count={MIN_TOKENS}")
        now = time.time()
        name = ("cachedContents/" if dev else f"{vertex.group(1)}/cachedContents/") + uuid.uuid4().hex[:12]
        entry = {"name": name, "model": model, "tokens": tokens, "expires": now + float(ttl.group(1))}
        self.entries[name] = entry
        return self.respond(200, {"name": name, "model": model, "createTime": _stamp(now), "updateTime": _stamp(now),
                                  "expireTime": _stamp(entry["expires"]), "usageMetadata": {"totalTokenCount": tokens}})

    def use(self, request, model_path):
        """(entry, None) for a generateContent naming a usable cache, (None, error answer) if refused, (None, None)
        when it names none."""
        name = request.get("cachedContent")
        if not name:
            return None, None
        if any(k in request for k in ("systemInstruction", "system_instruction", "tools", "toolConfig", "tool_config")):
            return None, self.error(400, "CachedContent can not be used with GenerateContent request setting "
                                         "system_instruction, tools or tool_config.")
        entry = self.entries.get(name)
        if entry is None or entry["expires"] < time.time():
            return None, self.error(403, "CachedContent not found (or permission denied)")
        if not entry["model"].endswith("/" + model_path):
            return None, self.error(400, f"Model used by GenerateContent request (models/{model_path}) and CachedContent "
                                         f"({entry['model']}) has to be the same.")
        return entry, None

    def listing(self):
        return [{"name": e["name"], "model": e["model"], "tokens": e["tokens"]} for e in self.entries.values()]

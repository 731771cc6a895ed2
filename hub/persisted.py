"""Persisted operations: a request may name its document instead of sending it.

- Automatic persisted queries, as Apollo Client's persisted-queries link speaks them:
  ``extensions.persistedQuery = {version: 1, sha256Hash}``. A hash alone that this hub has not
  seen is answered ``PERSISTED_QUERY_NOT_FOUND`` (HTTP 200, as Apollo Server does; the link
  then sends the hash with the query); a hash with its query is checked, remembered (least
  recently used dropped) and run.
- Trusted documents: a manifest {id: document} written by graphql-codegen's client preset
  (``persisted-documents.json``, ids are SHA-256 hashes), Relay's compiler
  (``persisted_queries.json``) or Apollo's persisted query manifest. A request names one by
  ``documentId`` (GraphQL over HTTP; ``sha256:`` prefix optional), ``doc_id`` (Relay) or the
  APQ hash. With ``trusted_only`` nothing else runs.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from graph_schema.errors import ConfigurationError
from hub.settings import HttpSettings

APQ_VERSION = 1
# What the remembered queries may hold, all together, besides their number.
_CACHE_BUDGET_CHARS = 16 * 1024 * 1024


class PersistedQueryError(Exception):
    """A request whose document cannot be found or is not allowed; ``code`` is the error's
    extensions.code, ``status`` the HTTP status of a graphql-response+json answer."""

    def __init__(self, message: str, code: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True, slots=True)
class Named:
    """How a request named its document, if it did: the manifest id, the APQ hash."""

    document_id: str | None = None
    sha256_hash: str | None = None


def sha256_of(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def named_in(data: Mapping[str, object]) -> Named:
    """The document id (``documentId``, else Relay's ``doc_id``) and the APQ hash a request
    carries; a malformed one is refused here, naming the field."""
    document_id = data.get("documentId", data.get("doc_id"))
    if document_id is not None and not isinstance(document_id, str):
        raise PersistedQueryError("documentId must be a string", "BAD_USER_INPUT")
    extensions = data.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if persisted is None:
        return Named(document_id=document_id)
    if not isinstance(persisted, dict):
        raise PersistedQueryError("extensions.persistedQuery must be an object", "BAD_USER_INPUT")
    if persisted.get("version") != APQ_VERSION:
        raise PersistedQueryError(
            f"unsupported persisted query version {persisted.get('version')!r}; "
            f"this hub speaks version {APQ_VERSION}",
            "PERSISTED_QUERY_VERSION_NOT_SUPPORTED",
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or len(digest) != 64:
        raise PersistedQueryError(
            "extensions.persistedQuery.sha256Hash must be a SHA-256 hash (64 hex digits)",
            "BAD_USER_INPUT",
        )
    return Named(document_id=document_id, sha256_hash=digest.lower())


class Persisted:
    """The documents a request may name: a trusted manifest, and the queries APQ remembered."""

    def __init__(
        self,
        *,
        automatic: bool = True,
        cache_size: int = 1000,
        trusted: Mapping[str, str] | None = None,
        trusted_only: bool = False,
    ) -> None:
        self.automatic = automatic and not trusted_only
        self.trusted_only = trusted_only
        self._cache_size = cache_size
        self._remembered: OrderedDict[str, str] = OrderedDict()
        self._chars = 0
        self._trusted = dict(trusted or {})
        # codegen's ids are SHA-256 hashes of the text; Relay's (md5) are not. Either way an
        # APQ hash finds a trusted document by the text's own hash.
        self._by_hash = {sha256_of(text): text for text in self._trusted.values()}

    @classmethod
    def of(cls, http: HttpSettings) -> Persisted:
        """As the HUB_HTTP_PERSISTED_* and HUB_HTTP_TRUSTED_* settings say; a manifest that
        cannot be read stops the hub at start."""
        manifest = http.trusted_documents
        return cls(
            automatic=http.persisted_queries,
            cache_size=http.persisted_cache_size,
            trusted=load_manifest(manifest) if manifest is not None else None,
            trusted_only=http.trusted_only,
        )

    def __len__(self) -> int:
        return len(self._remembered)

    def document(self, query: str | None, named: Named) -> str:
        """The document to run for a request's ``query`` (maybe none) and what it named."""
        if named.document_id is not None:
            if query is not None:
                raise PersistedQueryError(
                    "send either documentId or query, not both", "BAD_USER_INPUT"
                )
            key = named.document_id.removeprefix("sha256:")
            text = self._trusted.get(key, self._trusted.get(named.document_id))
            if text is None:
                raise PersistedQueryError(
                    f"no trusted document has the id {named.document_id!r}",
                    "PERSISTED_QUERY_NOT_FOUND",
                )
            return text
        if named.sha256_hash is not None:
            return self._by_apq_hash(query, named.sha256_hash)
        if query is None:
            raise PersistedQueryError("the request has no query", "BAD_USER_INPUT")
        if self.trusted_only and sha256_of(query) not in self._by_hash:
            raise PersistedQueryError(
                "this hub runs only its trusted documents: send a documentId",
                "PERSISTED_QUERY_NOT_ALLOWED",
            )
        return query

    def _by_apq_hash(self, query: str | None, digest: str) -> str:
        trusted = self._by_hash.get(digest)
        if query is None:
            if trusted is not None:
                return trusted
            remembered = self._remembered.get(digest)
            if remembered is None:
                if self.trusted_only:
                    raise PersistedQueryError(
                        "this hub runs only its trusted documents: no trusted document has "
                        "this hash",
                        "PERSISTED_QUERY_NOT_ALLOWED",
                    )
                if not self.automatic:
                    raise PersistedQueryError(
                        "PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED", 200
                    )
                # Apollo's message and code, which its link looks for before it retries.
                raise PersistedQueryError(
                    "PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND", 200
                )
            self._remembered.move_to_end(digest)
            return remembered
        if sha256_of(query) != digest:
            raise PersistedQueryError(
                "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query",
                "PERSISTED_QUERY_HASH_MISMATCH",
            )
        if trusted is not None:
            return trusted
        if self.trusted_only:
            raise PersistedQueryError(
                "this hub runs only its trusted documents: this query is not one of them",
                "PERSISTED_QUERY_NOT_ALLOWED",
            )
        if self.automatic:
            self._remember(digest, query)
        return query

    def _remember(self, digest: str, query: str) -> None:
        if digest in self._remembered:
            self._remembered.move_to_end(digest)
            return
        if len(query) > _CACHE_BUDGET_CHARS:
            return
        self._remembered[digest] = query
        self._chars += len(query)
        while len(self._remembered) > self._cache_size or self._chars > _CACHE_BUDGET_CHARS:
            _, dropped = self._remembered.popitem(last=False)
            self._chars -= len(dropped)


def load_manifest(path: Path) -> dict[str, str]:
    """{id: document} from a trusted-documents manifest: a flat JSON object (graphql-codegen's
    client preset, Relay's compiler) or Apollo's persisted query manifest. A file that is none
    of these stops the hub at start, naming the file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"HUB_HTTP_TRUSTED_DOCUMENTS: cannot read {path}: {exc}") from None
    if isinstance(raw, dict) and raw.get("format") == "apollo-persisted-query-manifest":
        operations = raw.get("operations")
        if isinstance(operations, list) and all(
            isinstance(op, dict)
            and isinstance(op.get("id"), str)
            and isinstance(op.get("body"), str)
            for op in operations
        ):
            return {op["id"]: op["body"] for op in operations}
    elif isinstance(raw, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        return dict(raw)
    raise ConfigurationError(
        f"HUB_HTTP_TRUSTED_DOCUMENTS: {path} is not a manifest of trusted documents "
        "({id: document} as graphql-codegen and Relay write, or Apollo's manifest)"
    )

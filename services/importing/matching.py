"""Finding the client a row means: by external id, then tax id, then normalized name.

Pure and in memory: the service loads the known clients once, so matching a
million sales rows costs no query per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.normalize import normalize_tax_id


@dataclass(frozen=True)
class KnownClient:
    id: int
    external_id: str | None
    tax_id: str | None
    name_normalized: str


def known_client(
    client_id: int, external_id: str | None, tax_id: str | None, name_normalized: str | None
) -> KnownClient:
    """A client as the database holds it, with its keys in the form files are read in.

    A client entered by hand may carry "7707 083 893" or " К-17 "; a later import
    must still find it by that tax id or code instead of creating a second one.
    """
    external = (external_id or "").strip() or None
    tax = normalize_tax_id(tax_id) or ((tax_id or "").strip() or None)
    return KnownClient(client_id, external, tax, name_normalized or "")


@dataclass(frozen=True)
class Match:
    client_id: int | None
    ambiguous: bool = False


class ClientIndex:
    """Known clients by identity; new clients found in a file are added as they are planned.

    A client that already has a different external id (or tax id) is a different
    client, so the weaker keys only match clients without a conflicting stronger one.
    """

    def __init__(self, clients: Iterable[KnownClient] = ()) -> None:
        self._by_external: dict[str, int] = {}
        self._by_tax: dict[str, list[int]] = {}
        self._by_name: dict[str, list[int]] = {}
        self._external: dict[int, str | None] = {}
        self._tax: dict[int, str | None] = {}
        self._name: dict[int, str] = {}
        for client in clients:
            self.remember(client)

    def __len__(self) -> int:
        return len(self._name)

    def remember(self, client: KnownClient) -> None:
        """Add a client, or record new identity values of one already known."""
        cid = client.id
        if client.external_id:
            old = self._external.get(cid)
            if old and old != client.external_id:
                self._by_external.pop(old, None)
            self._by_external[client.external_id] = cid
            self._external[cid] = client.external_id
        else:
            self._external.setdefault(cid, None)
        if client.tax_id:
            old = self._tax.get(cid)
            if old != client.tax_id:
                if old:
                    self._by_tax[old].remove(cid)
                self._by_tax.setdefault(client.tax_id, []).append(cid)
            self._tax[cid] = client.tax_id
        else:
            self._tax.setdefault(cid, None)
        old_name = self._name.get(cid)
        if client.name_normalized and old_name != client.name_normalized:
            if old_name:
                self._by_name[old_name].remove(cid)
            self._by_name.setdefault(client.name_normalized, []).append(cid)
            self._name[cid] = client.name_normalized
        else:
            self._name.setdefault(cid, "")

    def find(self, external_id: str | None, tax_id: str | None, name_normalized: str) -> Match:
        if external_id:
            found = self._by_external.get(external_id)
            if found is not None:
                return Match(found)

        def compatible(cid: int) -> bool:
            return not (external_id and self._external.get(cid)) and not (
                tax_id and self._tax.get(cid) and self._tax[cid] != tax_id
            )

        if tax_id:
            candidates = [cid for cid in self._by_tax.get(tax_id, ()) if compatible(cid)]
            if len(candidates) == 1:
                return Match(candidates[0])
            if candidates:
                # branches of one company share a tax id; the name tells them apart
                named = [cid for cid in candidates if self._name.get(cid) == name_normalized]
                return Match(named[0]) if len(named) == 1 else Match(None, ambiguous=True)
        if name_normalized:
            candidates = [cid for cid in self._by_name.get(name_normalized, ()) if compatible(cid)]
            if len(candidates) == 1:
                return Match(candidates[0])
            if candidates:
                return Match(None, ambiguous=True)
        return Match(None)

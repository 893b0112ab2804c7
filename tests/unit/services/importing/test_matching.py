from __future__ import annotations

from services.importing.matching import ClientIndex, KnownClient, Match

ROMASHKA = KnownClient(1, "C-1", "7707083893", "ооо ромашка")
PETROV = KnownClient(2, None, "500100732259", "ип петров")
BRANCH_MSK = KnownClient(3, None, "7701234567", "лютик москва")
BRANCH_SPB = KnownClient(4, None, "7701234567", "лютик спб")
NAMESAKE_A = KnownClient(5, None, None, "иванов")
NAMESAKE_B = KnownClient(6, None, None, "иванов")


def index() -> ClientIndex:
    return ClientIndex([ROMASHKA, PETROV, BRANCH_MSK, BRANCH_SPB, NAMESAKE_A, NAMESAKE_B])


def test_external_id_first() -> None:
    assert index().find("C-1", None, "совсем другое имя") == Match(1)


def test_then_tax_id_then_name() -> None:
    assert index().find(None, "500100732259", "петров и ко") == Match(2)
    assert index().find(None, None, "ип петров") == Match(2)


def test_branches_sharing_a_tax_id_are_told_apart_by_name() -> None:
    assert index().find(None, "7701234567", "лютик спб") == Match(4)
    assert index().find(None, "7701234567", "лютик казань") == Match(None, ambiguous=True)


def test_namesakes_are_ambiguous() -> None:
    assert index().find(None, None, "иванов") == Match(None, ambiguous=True)


def test_a_different_external_id_is_a_different_client() -> None:
    # Ромашка has code C-1; a row with code C-9 and the same name is someone else
    assert index().find("C-9", None, "ооо ромашка") == Match(None)
    # Петров has no code yet, so a coded row may claim him by tax id
    assert index().find("P-1", "500100732259", "ип петров") == Match(2)


def test_a_different_tax_id_is_a_different_client() -> None:
    assert index().find(None, "123456789012", "ип петров") == Match(None)


def test_unknown() -> None:
    assert index().find(None, None, "новый клиент") == Match(None)
    assert index().find(None, None, "") == Match(None)


def test_remember_planned_and_changed_identities() -> None:
    clients = index()
    clients.remember(KnownClient(-1, "N-1", None, "новый клиент"))
    assert clients.find(None, None, "новый клиент") == Match(-1)
    assert clients.find("N-1", None, "") == Match(-1)
    clients.remember(KnownClient(2, "P-1", "500100732259", "петров иван"))
    assert clients.find("P-1", None, "") == Match(2)
    assert clients.find(None, None, "петров иван") == Match(2)
    assert clients.find(None, None, "ип петров") == Match(None)
    assert len(clients) == 7

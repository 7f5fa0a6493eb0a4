"""The dataset adapter against the published facts of the 2025 reform."""

from collections import Counter, defaultdict

import pytest

from services.registry.adapters.admin_dataset import AdminDataset, load_dataset
from services.registry.domain.admin_units import Edition, Level, Share, search_key


@pytest.fixture(scope="module")
def dataset() -> AdminDataset:
    return load_dataset()


def unit(dataset: AdminDataset, edition: Edition, code: str) -> str:
    [found] = [
        u.name
        for u in dataset.units
        if u.edition == edition and u.level == Level.COMMUNE and u.code == code
    ]
    return found


def successors(dataset: AdminDataset, old_code: str) -> list[tuple[str, Share]]:
    return [(s.new_code, s.share) for s in dataset.successions if s.old_code == old_code]


def test_both_editions_have_the_official_counts(dataset: AdminDataset) -> None:
    counts = Counter((u.edition, u.level) for u in dataset.units)
    assert counts[Edition.PRE_2025, Level.PROVINCE] == 63
    assert counts[Edition.FROM_2025, Level.PROVINCE] == 34
    assert counts[Edition.FROM_2025, Level.COMMUNE] == 3321
    assert counts[Edition.FROM_2025, Level.DISTRICT] == 0
    assert counts[Edition.PRE_2025, Level.COMMUNE] > 10_000


@pytest.mark.parametrize(
    ("old_code", "old_name", "new_code", "new_name"),
    [
        ("23116", "Xã Hàm Cần", "23122", "Xã Hàm Thạnh"),  # Bình Thuận → Lâm Đồng
        ("05257", "Xã Mai Hịch", "05245", "Xã Bao La"),  # Hòa Bình → Phú Thọ
        ("03211", "Xã Chiềng Sơ", "03214", "Xã Mường Luân"),  # Điện Biên Đông
        ("20704", "Xã La Dêê", "20704", "Xã La Dêê"),  # Quảng Nam → Đà Nẵng, same code
    ],
)
def test_the_published_mergers(
    dataset: AdminDataset, old_code: str, old_name: str, new_code: str, new_name: str
) -> None:
    assert unit(dataset, Edition.PRE_2025, old_code) == old_name
    assert successors(dataset, old_code) == [(new_code, Share.WHOLE)]
    assert unit(dataset, Edition.FROM_2025, new_code) == new_name


def test_a_code_can_name_different_communes_in_the_two_editions(dataset: AdminDataset) -> None:
    before = {
        u.code: u.name
        for u in dataset.units
        if u.edition == Edition.PRE_2025 and u.level == Level.COMMUNE
    }
    after = {
        u.code: u.name
        for u in dataset.units
        if u.edition == Edition.FROM_2025 and u.level == Level.COMMUNE
    }
    reused = [code for code in before.keys() & after.keys() if before[code] != after[code]]
    assert reused, "the data shows why a code alone never identifies a commune"


def test_every_old_commune_has_successors_and_a_split_one_has_exactly_one_default(
    dataset: AdminDataset,
) -> None:
    by_old: dict[str, list[bool]] = defaultdict(list)
    split: set[str] = set()
    for succession in dataset.successions:
        by_old[succession.old_code].append(succession.default)
        if succession.share == Share.PART:
            split.add(succession.old_code)
    old_communes = {
        u.code for u in dataset.units if u.edition == Edition.PRE_2025 and u.level == Level.COMMUNE
    }
    assert set(by_old) == old_communes
    assert len(split) > 100
    for old_code in split:
        assert len(by_old[old_code]) >= 2
        assert by_old[old_code].count(True) == 1


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Hàm Cần", "ham can"),
        ("Đông Giang", "dong giang"),
        ("La Dêê", "la dee"),
        ("ham can", "ham can"),
    ],
)
def test_search_keys_drop_diacritics(text: str, key: str) -> None:
    assert search_key(text) == key

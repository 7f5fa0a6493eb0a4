"""What a province's programmes and sponsor units have in common as aggregates."""


class ProvinceEntry:
    """An entry a province keeps in its register under an id of its own (a programme, a
    sponsor unit): the id names its stream, and the province is its events' key, so that
    one province's entries stay in order."""

    id: str
    province: str

    @property
    def stream_id(self) -> str:
        return self.id

    @property
    def partition_key(self) -> str:
        return self.province
